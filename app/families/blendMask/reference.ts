/**
 * BlendMask and B2Inst on the CPU: the TypeScript references of the WGSL after the detector,
 * stage for stage (the 'wasm' path, and the oracle of the GPU chain, ./gpu.ts):
 *
 *   detector outputs → fcosDecode → classTopK → fast | greedy NMS → detectionCap   ('decode', 'nms')
 *     (the FCOS box chain, ../common/fcosReference.ts)
 *   → blender: RoIAlign of the K bases to R×R, the record's K×M×M attention upsampled,
 *     softmax over K, Σ → mask logits [capacity, R, R]                              ('masks')
 *   B2Inst only:
 *   → RoIAlign of the K bases to R×R again (the scoring head's RoI features) and the
 *     boundary map (mask probability, soft Laplacian boundary) → scoring_features
 *     [capacity, 2 + K, R, R]                                                     ('roi')
 *   … scoring head: scoring_features → scores [capacity, 2] = (S_IoU, S_boundary) …
 *   → maskRescore (score · √(S_IoU·S_boundary) | score · S_IoU·S_boundary | score)  ('masks')
 *   → maskPaste (detectron2, class-agnostic, R = 56) → instances
 *
 * Rows past the kept records are zeros here as on the GPU (the scoring head sees them and
 * they are ignored).
 */
import type { AuxiliaryMap, Detection, InstanceMasks, ModelManifest, PostprocessSettings } from '../../types';
import type { DecodedRecord, InputTransform } from '../../gpu/layout';
import { resizeGeometry } from '../../reference/preprocess';
import { maskSizeFor } from '../../reference/maskAssembly';
import { sigmoidF32 } from '../../reference/fcosDecode';
import { recordRoisInPixels, roiAlignReference } from '../../reference/roiAlign';
import { blenderReference, nchwAttentionLevel, type AttentionLevel } from '../../reference/blender';
import { boundaryMapReference } from '../../reference/boundaryMap';
import { maskRescoreReference } from '../../reference/maskRescore';
import { maskPasteReference } from '../../reference/maskPaste';
import { recordsToDetections } from '../yolact/reference';
import { detectorOutput, fcosRecordsReference, type DetectorOutputs, type FcosDetectionsReference, type FcosStepTimings } from '../common/fcosReference';
import { blendMaskLayout, QUALITY_NAMES, rescoreQuality, scoringChannels, type BlendMaskLayout } from './manifest';

/** What the CPU chain keeps between its steps (one frame). */
export interface BlendMaskCpuFrame {
  layout: BlendMaskLayout;
  records: DecodedRecord[];
  candidateCount: number;
  /** The blender's logits [capacity, R, R]. */
  maskLogits: Float32Array;
  /** B2Inst: the scoring head's input [capacity, 2 + K, R, R]; null for BlendMask. */
  scoringFeatures: Float32Array | null;
  /** The boundary basis as probabilities [Hb, Wb] when the pane shows it. */
  boundaryBasis: Float32Array | null;
}

function output(outputs: DetectorOutputs, name: string): Float32Array {
  return detectorOutput(outputs, name, 'BlendMask');
}

export function attentionLevels(outputs: DetectorOutputs, layout: BlendMaskLayout): AttentionLevel[] {
  return layout.levels.map((l) => nchwAttentionLevel(output(outputs, l.attention), l.first, l.height, l.width));
}

/**
 * B2Inst's scoring head input for the records: [capacity, 2 + K, R, R] = mask probability,
 * clamp(Laplacian(probability), 0) (zero padding, not binarised), the K bases RoIAligned to R.
 */
export function scoringFeaturesReference(
  bases: Float32Array,
  maskLogits: Float32Array,
  records: readonly DecodedRecord[],
  capacity: number,
  layout: BlendMaskLayout,
): Float32Array {
  const { config, numBases: k } = layout;
  const r = config.blendSize;
  const roiBases = roiAlignReference(
    [{ data: bases, height: layout.basisHeight, width: layout.basisWidth, spatialScale: config.spatialScale }],
    k,
    recordRoisInPixels(records, { width: layout.inputWidth, height: layout.inputHeight }),
    records.length,
    capacity,
    { outSize: r, samplingRatio: config.samplingRatio, aligned: config.aligned, canonicalScale: 224, canonicalLevel: 4, minLevel: 0, maxLevel: 0 },
  );
  const packed = boundaryMapReference(maskLogits, roiBases, records.length, capacity, {
    maskSize: r,
    outSize: r,
    channels: k,
    source: 'probability',
    binarise: false,
  }).packed;
  if (packed.length !== capacity * scoringChannels(layout) * r * r) throw new Error('BlendMask: scoring features of the wrong size');
  return packed;
}

/** sigmoid of the boundary basis channel [Hb, Wb]. */
export function boundaryBasisReference(bases: Float32Array, layout: BlendMaskLayout): Float32Array {
  const index = layout.config.boundaryBasisIndex;
  if (index === null) throw new Error('BlendMask: this model has no boundary basis');
  const plane = layout.basisWidth * layout.basisHeight;
  return Float32Array.from(bases.subarray(index * plane, (index + 1) * plane), (v) => sigmoidF32(v));
}

/** The model input's rectangle in image pixels (where an input-space map is drawn). */
export function inputRectInImage(transform: InputTransform): [number, number, number, number] {
  const x = (v: number) => (v - transform.offsetX) / transform.gainX;
  const y = (v: number) => (v - transform.offsetY) / transform.gainY;
  return [x(0), y(0), x(transform.inputWidth), y(transform.inputHeight)];
}

export function boundaryAuxiliaryMap(values: Float32Array, layout: BlendMaskLayout, transform: InputTransform): AuxiliaryMap {
  return { name: 'boundary basis', width: layout.basisWidth, height: layout.basisHeight, values, imageRect: inputRectInImage(transform) };
}

/**
 * Step 1, on the detector's outputs: FCOS decode → per-class top-k → NMS → cap → records;
 * the blender's logits of the records; B2Inst's scoring features (`capacity(kept)` rows).
 */
export const blendMaskDetectionsReference: FcosDetectionsReference<BlendMaskCpuFrame> = (outputs, manifest, settings, capacity = (kept) => kept) => {
  const layout = blendMaskLayout(manifest);
  const { records, candidateCount, timings } = fcosRecordsReference(outputs, layout, settings, 'BlendMask');
  const t2 = performance.now();
  const rows = capacity(records.length);
  const bases = output(outputs, 'bases');
  const { logits } = blenderReference(
    { data: bases, height: layout.basisHeight, width: layout.basisWidth },
    attentionLevels(outputs, layout),
    records,
    rows,
    { width: layout.inputWidth, height: layout.inputHeight },
    { numBases: layout.numBases, outSize: layout.config.blendSize, attnSize: layout.config.attnSize, spatialScale: layout.config.spatialScale },
  );
  const t3 = performance.now();
  const scoringFeatures = layout.b2inst ? scoringFeaturesReference(bases, logits, records, rows, layout) : null;
  const showBoundary = settings.showAuxiliaryMap === true && layout.config.boundaryBasisIndex !== null;
  const boundaryBasis = showBoundary ? boundaryBasisReference(bases, layout) : null;
  const t4 = performance.now();
  return {
    frame: { layout, records, candidateCount, maskLogits: logits, scoringFeatures, boundaryBasis },
    timings: { ...timings, masks: t3 - t2, roi: t4 - t3 },
  };
};

/**
 * Step 2: B2Inst's rescoring by its scoring head (`qualities` [rows, 2], or none for
 * BlendMask), then the class-agnostic detectron2 paste of each record's blended mask → the
 * instances in image pixels, each with its (S_IoU, S_boundary) when there is a head.
 */
export function blendMaskMasksReference(
  frame: BlendMaskCpuFrame,
  qualities: Float32Array | null,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  imageSize: { width: number; height: number },
  mask: { width: number; height: number } = maskSizeFor(imageSize.width, imageSize.height),
): { detections: Detection[]; masks: InstanceMasks; records: DecodedRecord[]; auxiliaryMap?: AuxiliaryMap; timings: FcosStepTimings } {
  const { layout } = frame;
  const t0 = performance.now();
  const rescored = qualities !== null;
  const records = rescored
    ? maskRescoreReference(frame.records, qualities, layout.numClasses, rescoreQuality(layout, settings), Math.max(0, settings.scoreThreshold))
    : frame.records.map((r) => ({ ...r, box: [...r.box] as DecodedRecord['box'] }));
  const transform = resizeGeometry(imageSize.width, imageSize.height, manifest.input).transform;
  const { masks, areas } = maskPasteReference(
    records,
    frame.maskLogits,
    { numClasses: layout.numClasses, maskSize: layout.config.blendSize, mode: 'detectron2', classOffset: 0, rowFromSource: rescored, classAgnostic: true },
    transform,
    imageSize,
    mask,
  );
  records.forEach((r, i) => (r.maskArea = areas[i]!));
  const detections = recordsToDetections(records, transform, imageSize);
  if (qualities) detections.forEach((d, i) => (d.qualities = qualitiesOf(qualities, records[i]!.sourceIndex)));
  return {
    detections,
    masks,
    records,
    ...(frame.boundaryBasis ? { auxiliaryMap: boundaryAuxiliaryMap(frame.boundaryBasis, layout, transform) } : {}),
    timings: { masks: performance.now() - t0 },
  };
}

/** Row `row` of the scoring head's [rows, 2] output, by name. */
export function qualitiesOf(qualities: Float32Array, row: number): Record<string, number> {
  return { [QUALITY_NAMES[0]]: qualities[2 * row]!, [QUALITY_NAMES[1]]: qualities[2 * row + 1]! };
}
