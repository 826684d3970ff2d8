/**
 * Reference of shaders/class_topk.wgsl: for each foreground class c, among the candidate
 * priors, the top k = min(topK, #candidates) by conf[:, c + 1].
 *
 * Order (total, so kernel and reference agree exactly): score descending, then prior index
 * ascending (of two equal scores the lower prior index ranks first). Scores are compared
 * as f32 values; +0 and −0 compare equal here and in the kernel's key (both map to the
 * same orderable key only for +0; −0 never comes out of a softmax or a sigmoid).
 */

export interface ClassTopK {
  /** Per class: prior indices, best first. */
  indices: number[][];
  /** Per class: the matching scores. */
  scores: number[][];
}

/**
 * @param conf [N, numClasses + 1] (column 0 = background)
 * @param candidates candidate prior indices (any order)
 */
export function classTopKReference(
  conf: Float32Array,
  numClasses: number,
  candidates: readonly number[],
  topK: number,
): ClassTopK {
  const stride = numClasses + 1;
  const m = candidates.length;
  const k = Math.min(topK, m);
  // Class-major copy of the candidates' scores: columns[c·M + j] = conf[candidates[j], c + 1].
  const columns = new Float32Array(numClasses * m);
  for (let j = 0; j < m; j++) {
    const row = candidates[j]! * stride + 1;
    for (let c = 0; c < numClasses; c++) columns[c * m + j] = conf[row + c]!;
  }
  const scratch = new Float32Array(m);
  const indices: number[][] = [];
  const scores: number[][] = [];
  for (let c = 0; c < numClasses; c++) {
    const column = columns.subarray(c * m, (c + 1) * m);
    // Only entries scoring at least the k-th largest score can be in the top k: select that
    // score, then sort the (≈ k) entries at or above it by the full order.
    const pool: number[] = [];
    if (k > 0) {
      scratch.set(column);
      const kth = kthLargest(scratch, k);
      for (let j = 0; j < m; j++) if (column[j]! >= kth) pool.push(j);
    }
    pool.sort((a, b) => (column[a] !== column[b] ? column[b]! - column[a]! : candidates[a]! - candidates[b]!));
    const top = pool.slice(0, k);
    indices.push(top.map((j) => candidates[j]!));
    scores.push(top.map((j) => column[j]!));
  }
  return { indices, scores };
}

/**
 * The k-th largest value (k ≥ 1) of `values`, which it reorders: quickselect with a
 * three-way partition (many equal scores stay linear).
 */
export function kthLargest(values: Float32Array, k: number): number {
  const target = k - 1; // position in descending order
  let lo = 0;
  let hi = values.length - 1;
  const swap = (i: number, j: number) => {
    const t = values[i]!;
    values[i] = values[j]!;
    values[j] = t;
  };
  for (;;) {
    if (lo >= hi) return values[lo]!;
    const pivot = values[(lo + hi) >>> 1]!;
    // [lo, lt) > pivot, [lt, gt] = pivot, (gt, hi] < pivot
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i <= gt) {
      const v = values[i]!;
      if (v > pivot) swap(lt++, i++);
      else if (v < pivot) swap(i, gt--);
      else i++;
    }
    if (target < lt) hi = lt - 1;
    else if (target > gt) lo = gt + 1;
    else return pivot;
  }
}
