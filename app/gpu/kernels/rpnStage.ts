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
 *   }, passes?: { decode, topN, nms, pool });        // optional pass descriptors (timestamps)
 *     → stage.rois          [R, 4] f32 xyxy in INPUT pixels, R = rpnPostNmsTopN; rows ≥ count are 0
 *       stage.roiScores     [R] f32 objectness probability (0 past count)
 *       stage.roiCount      u32 [4]: 0 = RoIs written (≤ R), 1 = proposals kept by the per-level
 *                           NMS over all levels, 2–3 pad
 *       stage.boxFeatures   [R, C, boxPool, boxPool] f32: the box head's `box_features`
 *                           (RoIAlign or RoIPool per config.pooler; rows ≥ count are 0)
 *
 *   stage.encodeMaskFeatures(encoder, features, rois: RoiSource, maxDetections M, pass?);
 *     → stage.maskFeatures  [M, C, maskPool, maskPool] f32: the mask head's `mask_features`
 *       `rois` says where the final boxes are: e.g. `recordsRoiSource(records, input)` for
 *       DetectionRecords (app/gpu/layout.ts; boxes relative to the input, count at word 0),
 *       or `{ boxes, count, ... }` for any [M, k] f32 buffer (see RoiSource in roiAlign.ts).
 *
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
import type { TwoStageConfig } from '../../types';
import { createStorageBuffer } from '../buffers';
import { levelOffsets, rpnGeometry, type RpnGeometry, type RpnLevel } from '../../reference/rpnDecode';
import type { KernelSource } from '../kernelCache';
import { createRpnDecode, RPN_DECODE } from './rpnDecode';
import { createRpnTopN, RPN_TOP_N, rpnTopNBytes } from './rpnTopN';
import { createRpnProposalNms, RPN_PROPOSAL_NMS, rpnRoiBytes } from './rpnProposalNms';
import { pixelRoiSource, ROI_ALIGN, roiFeaturesBytes, type RoiPoolerKernel, type RoiPoolerParams, type RoiSource } from './roiAlign';
import { createRoiPoolerFor, ROI_POOL } from './roiPool';

export type { RoiSource } from './roiAlign';
export { recordsRoiSource, pixelRoiSource } from './roiAlign';

export interface RpnStageInputs {
  /** [A_total] f32 logits. */
  objectness: GPUBuffer;
  /** [A_total, 4] f32. */
  rpnDeltas: GPUBuffer;
  /** P2..P5, NCHW [1, C, H_l, W_l] f32 (the maps of levels minLevel..maxLevel). */
  features: readonly GPUBuffer[];
}

/** Optional pass descriptors (labels, timestamp writes) per step. */
export interface RpnStagePasses {
  decode?: GPUComputePassDescriptor;
  topN?: GPUComputePassDescriptor;
  nms?: GPUComputePassDescriptor;
  pool?: GPUComputePassDescriptor;
}

export interface RpnStage {
  /** [R, 4] f32 xyxy proposals in input pixels; rows ≥ count are 0. */
  readonly rois: GPUBuffer;
  /** [R] f32 objectness probabilities; 0 past count. */
  readonly roiScores: GPUBuffer;
  /** u32 [4]: RoIs written, proposals kept over all levels, 0, 0. */
  readonly roiCount: GPUBuffer;
  /** [R, C, boxPool, boxPool] f32. */
  readonly boxFeatures: GPUBuffer;
  /** [M, C, maskPool, maskPool] f32 (grown by encodeMaskFeatures; 4 bytes before the first call). */
  readonly maskFeatures: GPUBuffer;
  /** Anchor geometry of the RPN levels (for tests and the CPU path). */
  readonly geometry: RpnGeometry;
  encode(encoder: GPUCommandEncoder, inputs: RpnStageInputs, passes?: RpnStagePasses): void;
  encodeMaskFeatures(encoder: GPUCommandEncoder, features: readonly GPUBuffer[], rois: RoiSource, maxDetections: number, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

export type RpnStageConfig = Pick<
  TwoStageConfig,
  | 'channels'
  | 'strides'
  | 'anchorSizes'
  | 'anchorRatios'
  | 'rpnPreNmsTopN'
  | 'rpnPostNmsTopN'
  | 'rpnNmsIou'
  | 'canonicalScale'
  | 'canonicalLevel'
  | 'minLevel'
  | 'maxLevel'
  | 'pooler'
  | 'samplingRatio'
  | 'aligned'
  | 'boxPool'
  | 'maskPool'
>;

/**
 * @param levelSizes [H_l, W_l] of P2..P6 (the backbone's real map sizes); default
 *   ceil(input / stride)
 */
/** The kernels `createRpnStage` makes (what a warm-up compiles, app/gpu/kernelCache.ts). */
export function rpnStageKernels(config: Pick<RpnStageConfig, 'pooler'>): KernelSource[] {
  return [RPN_DECODE, RPN_TOP_N, RPN_PROPOSAL_NMS, config.pooler === 'pool' ? ROI_POOL : ROI_ALIGN];
}

export function createRpnStage(
  device: GPUDevice,
  config: RpnStageConfig,
  input: { width: number; height: number },
  levelSizes?: ReadonlyArray<readonly [number, number]>,
): RpnStage {
  const geometry = rpnGeometry(input, config.strides, config.anchorSizes, config.anchorRatios, levelSizes);
  const { offsets, counts, total } = levelOffsets(geometry);
  const numLevels = geometry.levels.length;
  const R = config.rpnPostNmsTopN;
  const topN = config.rpnPreNmsTopN;
  const label = (name: string) => `rpnStage.${name}`;

  const decode = createRpnDecode(device);
  const topNKernel = createRpnTopN(device);
  const nms = createRpnProposalNms(device);
  // Two pooler objects: box and mask pooling run in the same frame with different params.
  const boxPooler: RoiPoolerKernel = createRoiPoolerFor(device, config.pooler);
  const maskPooler: RoiPoolerKernel = createRoiPoolerFor(device, config.pooler);

  const proposals = createStorageBuffer(device, label('proposals'), 16 * total); // [A_total, 4] f32
  const valid = createStorageBuffer(device, label('valid'), 4 * total); // [A_total] u32
  const topBytes = rpnTopNBytes(numLevels, topN);
  const topIndices = createStorageBuffer(device, label('topIndices'), topBytes.rows); // [L, topN] u32
  const topScores = createStorageBuffer(device, label('topScores'), topBytes.rows); // [L, topN] f32
  const topCounts = createStorageBuffer(device, label('topCounts'), topBytes.counts); // [L] u32
  const roiBytes = rpnRoiBytes(R);
  const rois = createStorageBuffer(device, label('rois'), roiBytes.rois);
  const roiScores = createStorageBuffer(device, label('roiScores'), roiBytes.scores);
  const roiCount = createStorageBuffer(device, label('roiCount'), roiBytes.count);
  const boxFeatures = createStorageBuffer(device, label('boxFeatures'), roiFeaturesBytes(R, config.channels, config.boxPool));
  let maskFeatures = createStorageBuffer(device, label('maskFeatures'), 4);
  let maskCapacity = 0;

  // Pooled maps: levels minLevel..maxLevel (P2 = index 0 of the strides).
  const pooled: RpnLevel[] = [];
  for (let k = config.minLevel; k <= config.maxLevel; k++) pooled.push(geometry.levels[k - 2]!);
  const poolParams = (numRois: number, outSize: number): RoiPoolerParams => ({
    numRois,
    channels: config.channels,
    outSize,
    levelSizes: pooled.map((l) => [l.height, l.width] as const),
    spatialScales: pooled.map((l) => 1 / l.stride),
    samplingRatio: config.samplingRatio,
    aligned: config.aligned,
    canonicalScale: config.canonicalScale,
    canonicalLevel: config.canonicalLevel,
    minLevel: config.minLevel,
    maxLevel: config.maxLevel,
  });

  return {
    rois,
    roiScores,
    roiCount,
    boxFeatures,
    get maskFeatures() {
      return maskFeatures;
    },
    geometry,
    encode(encoder, inputs, passes = {}) {
      decode.run(encoder, { rpnDeltas: inputs.rpnDeltas, proposals, valid }, { geometry, input }, passes.decode);
      topNKernel.run(encoder, { objectness: inputs.objectness, topIndices, topScores, topCounts }, { offsets, counts, topN }, passes.topN);
      nms.run(
        encoder,
        { proposals, valid, objectness: inputs.objectness, topIndices, topCounts, rois, roiScores, roiCount },
        { numLevels, topN, numRois: R, nmsIou: config.rpnNmsIou },
        passes.nms,
      );
      boxPooler.run(
        encoder,
        { rois: pixelRoiSource(rois, roiCount), features: inputs.features, output: boxFeatures },
        poolParams(R, config.boxPool),
        passes.pool,
      );
    },
    encodeMaskFeatures(encoder, features, source, maxDetections, pass) {
      if (maxDetections > maskCapacity) {
        maskFeatures.destroy();
        maskFeatures = createStorageBuffer(device, label('maskFeatures'), roiFeaturesBytes(maxDetections, config.channels, config.maskPool));
        maskCapacity = maxDetections;
      }
      maskPooler.run(encoder, { rois: source, features, output: maskFeatures }, poolParams(maxDetections, config.maskPool), pass);
    },
    destroy() {
      for (const k of [decode, topNKernel, nms, boxPooler, maskPooler]) k.destroy();
      for (const b of [proposals, valid, topIndices, topScores, topCounts, rois, roiScores, roiCount, boxFeatures, maskFeatures]) b.destroy();
    },
  };
}
