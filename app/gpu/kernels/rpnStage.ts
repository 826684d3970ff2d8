/**
 * RpnStage — every GPU step of a Mask R-CNN frame between the backbone and the heads,
 * encoded by one object per pane (pipelines built once, buffers owned here):
 *
 *   const stage = createRpnStage(device, config: TwoStageConfig, input: { width, height },
 *                                levelSizes?: Array<[H_l, W_l]>);  // P2..P6; default ceil(input / stride)
 *
 *   stage.encode(encoder, {                         // steps 1 → 4, no read-back
 *     objectness,        // [A_total] f32 logits (ORT 'objectness' [1, A_total])
 *     rpnDeltas,         // [A_total, 4] f32   (ORT 'rpn_deltas' [1, A_total, 4])
 *     features,          // [p2, p3, p4, p5]: NCHW [1, C, H_l, W_l] f32 each
 *   });
 *     → stage.rois          [R, 4] f32 xyxy in INPUT pixels, R = rpnPostNmsTopN; rows ≥ count are 0
 *       stage.roiScores     [R] f32 objectness probability (0 past count)
 *       stage.roiCount      u32 [4]: 0 = RoIs written (≤ R), 1 = proposals kept by the per-level
 *                           NMS over all levels, 2–3 pad
 *       stage.boxFeatures   [R, C, boxPool, boxPool] f32: the box head's `box_features`
 *                           (RoIAlign or RoIPool per config.pooler; rows ≥ count are 0)
 *
 *   stage.encodeMaskFeatures(encoder, features, rois: RoiSource, maxDetections M);
 *     → stage.maskFeatures  [M, C, maskPool, maskPool] f32: the mask head's `mask_features`
 *       `rois` says where the final boxes are: e.g. `recordsRoiSource(records, input)` for
 *       DetectionRecords (app/gpu/layout.ts; boxes relative to the input, count at word 0),
 *       or `{ boxes, count, ... }` for any [M, k] f32 buffer (see RoiSource in roiAlign.ts).
 *
 *   stage.timestampWrites?: pass descriptors may be given per step (decode/nms/pool) for timing.
 *   stage.destroy()
 *
 * Steps (kernels, each with a TS reference in app/reference/ of the same name):
 *   1. rpnDecode      anchors in-kernel + BoxCoder(1,1,1,1) decode, clip, validity  (rpn_decode.wgsl)
 *   2. rpnTopN        per level: top min(preNmsTopN, H·W·A) by logit, sigmoid       (rpn_top_n.wgsl)
 *   3. rpnProposalNms per-level greedy NMS (IoU > rpnNmsIou), then the top R across levels
 *                     into the fixed-size RoI buffer                               (rpn_proposal_nms.wgsl)
 *   4. roiAlign / roiPool on P2..P5, FPN level from the box size                  (roi_align.wgsl, roi_pool.wgsl)
 * CPU chain of 1 → 3 with the same maths: `rpnProposalsReference` (app/reference/rpnProposals.ts).
 */
export {};
