/**
 * Reference of shaders/class_topk.wgsl: for each foreground class c, among the candidate
 * priors whose score conf[p, c + 1] is at least `minScore` (NaN never is), the top
 * k = min(topK, #those) by that score. With minScore = the display threshold the kept
 * records of NMS + cap do not change (the cap drops entries below it, and an entry only
 * suppresses lower-scored ones), while the work follows the entries above it.
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
 * @param minScore scores below it are not ranked (compared as f32); default −∞
 */
export function classTopKReference(conf: Float32Array, numClasses: number, candidates: readonly number[], topK: number, minScore = -Infinity): ClassTopK {
  const stride = numClasses + 1;
  const threshold = Math.fround(minScore);
  // Per class, the candidates passing the threshold (as the kernel's compaction): their
  // prior indices and scores.
  const listPriors: number[][] = Array.from({ length: numClasses }, () => []);
  const listScores: number[][] = Array.from({ length: numClasses }, () => []);
  for (const prior of candidates) {
    const row = prior * stride + 1;
    for (let c = 0; c < numClasses; c++) {
      const s = conf[row + c]!;
      if (s >= threshold) {
        listPriors[c]!.push(prior);
        listScores[c]!.push(s);
      }
    }
  }
  const indices: number[][] = [];
  const scores: number[][] = [];
  for (let c = 0; c < numClasses; c++) {
    const priors = listPriors[c]!;
    const column = Float32Array.from(listScores[c]!);
    const m = priors.length;
    const k = Math.min(topK, m);
    // Only entries scoring at least the k-th largest score can be in the top k: select that
    // score, then sort the (≈ k) entries at or above it by the full order.
    const pool: number[] = [];
    if (k > 0) {
      const kth = kthLargest(column.slice(), k);
      for (let j = 0; j < m; j++) if (column[j]! >= kth) pool.push(j);
    }
    pool.sort((a, b) => (column[a] !== column[b] ? column[b]! - column[a]! : priors[a]! - priors[b]!));
    const top = pool.slice(0, k);
    indices.push(top.map((j) => priors[j]!));
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
