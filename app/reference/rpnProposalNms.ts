/**
 * Reference of shaders/rpn_proposal_nms.wgsl: greedy NMS of the RPN proposals within each
 * level (on the level's top-n, best first; invalid = small proposals removed first), then
 * the best R kept proposals over all levels into a fixed-size RoI list (torchvision
 * `filter_proposals`: remove_small_boxes, batched_nms by level, keep[:post_nms_top_n]).
 *
 * Order across levels: logit descending, then anchor index ascending (the sigmoid
 * probability's order, its ties broken so that kernel and reference agree exactly).
 * torchvision sorts by the f32 sigmoid itself (stable: equal scores by level, then top-k
 * order); near 1 the f32 sigmoid maps many logits to one value, so rows of EQUAL score can
 * come out permuted relative to torchvision — the same proposals, the same scores (checked
 * against torchvision in test/kernels/rpnTorchvision.reference.test.ts). The per-level NMS order is
 * torchvision's exactly (its stable sort keeps the top-k's logit order among equal scores).
 * IoU: app/reference/boxes.ts (f32 steps, zero union → 0), suppression when IoU > nmsIou.
 */
import { iouAt } from './boxes';
import type { RpnTopN } from './rpnTopN';
import { sigmoidF32 } from './rpnTopN';

export interface RpnProposals {
  /** [R, 4] xyxy input pixels; rows ≥ count are 0. */
  rois: Float32Array;
  /** [R] sigmoid(logit); 0 past count. */
  scores: Float32Array;
  /** Anchor index of each RoI (count entries). */
  anchors: number[];
  /** RoIs written: min(R, keptTotal). */
  count: number;
  /** Proposals kept by the per-level NMS, all levels together. */
  keptTotal: number;
  /** Per level: the top-n ranks kept, in order. */
  keptRanks: number[][];
}

/**
 * @param proposals [A_total, 4] decoded, clipped proposals; valid [A_total] 1/0
 * @param objectness [A_total] logits (the cross-level order)
 * @param top per-level top-n (rpnTopNReference)
 * @param numRois R = rpnPostNmsTopN
 */
export function rpnProposalNmsReference(
  proposals: ArrayLike<number>,
  valid: ArrayLike<number>,
  objectness: Float32Array,
  top: RpnTopN,
  nmsIou: number,
  numRois: number,
): RpnProposals {
  const threshold = Math.fround(nmsIou);
  const keptRanks = top.indices.map((idx) => {
    const kept: number[] = [];
    const keptAnchors: number[] = [];
    for (let i = 0; i < idx.length; i++) {
      const a = idx[i]!;
      if (!valid[a]) continue;
      if (keptAnchors.some((k) => iouAt(proposals, k, a) > threshold)) continue;
      kept.push(i);
      keptAnchors.push(a);
    }
    return kept;
  });
  const all: number[] = [];
  keptRanks.forEach((ranks, l) => ranks.forEach((i) => all.push(top.indices[l]![i]!)));
  all.sort((a, b) => (objectness[a] !== objectness[b] ? objectness[b]! - objectness[a]! : a - b));
  const count = Math.min(numRois, all.length);
  const rois = new Float32Array(numRois * 4);
  const scores = new Float32Array(numRois);
  const anchors = all.slice(0, count);
  anchors.forEach((a, r) => {
    for (let k = 0; k < 4; k++) rois[4 * r + k] = proposals[4 * a + k]!;
    scores[r] = sigmoidF32(objectness[a]!);
  });
  return { rois, scores, anchors, count, keptTotal: all.length, keptRanks };
}
