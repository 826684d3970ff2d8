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
  const k = Math.min(topK, candidates.length);
  const indices: number[][] = [];
  const scores: number[][] = [];
  for (let c = 0; c < numClasses; c++) {
    const scoreOf = (p: number) => conf[p * stride + c + 1]!;
    // Only entries scoring at least the k-th largest score can be in the top k; finding
    // that score with a native numeric sort keeps the comparator sort below small.
    let pool: number[] = [];
    if (k > 0) {
      const sortedScores = Float32Array.from(candidates, scoreOf).sort();
      const kth = sortedScores[candidates.length - k]!;
      pool = candidates.filter((p) => scoreOf(p) >= kth);
    }
    const top = pool.sort((a, b) => (scoreOf(a) !== scoreOf(b) ? scoreOf(b) - scoreOf(a) : a - b)).slice(0, k);
    indices.push(top);
    scores.push(top.map(scoreOf));
  }
  return { indices, scores };
}
