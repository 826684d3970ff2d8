/**
 * Reference of shaders/rpn_top_n.wgsl: per RPN level, the top k = min(topN, H·W·A) anchors
 * by objectness logit, then their sigmoid probability (torchvision RegionProposalNetwork
 * `_get_top_n_idx` + `sigmoid`).
 *
 * Order (total, so kernel and reference agree exactly): logit descending, then anchor index
 * ascending. Logits are compared as f32 values.
 */
import { kthLargest } from './classTopK';

export interface RpnTopN {
  /** Per level: anchor indices (into A_total), best first. */
  indices: number[][];
  /** Per level: sigmoid(logit) of those anchors (f32). */
  scores: number[][];
}

/** sigmoid in f32, as the kernels compute it: 1 / (1 + exp(−x)). */
export function sigmoidF32(x: number): number {
  return Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-Math.fround(x)))));
}

/**
 * @param objectness [A_total] logits, levels concatenated
 * @param offsets first anchor of each level; counts anchors of each level
 */
export function rpnTopNReference(objectness: Float32Array, offsets: readonly number[], counts: readonly number[], topN: number): RpnTopN {
  const indices: number[][] = [];
  const scores: number[][] = [];
  offsets.forEach((first, l) => {
    const m = counts[l]!;
    const k = Math.min(topN, m);
    const level = objectness.subarray(first, first + m);
    const pool: number[] = [];
    if (k > 0) {
      const kth = kthLargest(Float32Array.from(level), k);
      for (let j = 0; j < m; j++) if (level[j]! >= kth) pool.push(j);
    }
    pool.sort((a, b) => (level[a] !== level[b] ? level[b]! - level[a]! : a - b));
    const top = pool.slice(0, k);
    indices.push(top.map((j) => first + j));
    scores.push(top.map((j) => sigmoidF32(level[j]!)));
  });
  return { indices, scores };
}
