/**
 * CenterMask on the CPU: the TypeScript references of the WGSL between its two ONNX parts,
 * stage for stage (the 'wasm' path, and the oracle of the GPU chain):
 *
 *   detector outputs → fcosDecode → classTopK → fast | greedy NMS → detectionCap  ('decode', 'nms')
 *   → RoIAlign poolSize² on p3..p5 (level rule of the manifest: Equation 2) → mask_features  ('roi')
 *   … mask head: mask_features → mask_logits [M, K, 28, 28], mask_iou [M, K] …
 *   → maskRescore (score · mask IoU, re-ranked) → maskPaste (detectron2) → instances  ('masks')
 *
 * The mask head only sees the kept rows here (a row depends on its own features alone, so the
 * GPU's zero padding rows change nothing).
 */
import type { Detection, InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import type { DecodedRecord } from '../../gpu/layout';
import { resizeGeometry } from '../../reference/preprocess';
import { maskSizeFor } from '../../reference/maskAssembly';
import { fcosDecodeReference, type FcosLevel } from '../../reference/fcosDecode';
import { classTopKReference } from '../../reference/classTopK';
import { fastNmsReference } from '../../reference/fastNms';
import { greedyNmsReference } from '../../reference/greedyNms';
import { detectionCapReference } from '../../reference/detectionCap';
import { roiAlignReference, type FeatureLevel } from '../../reference/roiAlign';
import { maskRescoreReference } from '../../reference/maskRescore';
import { maskPasteReference } from '../../reference/maskPaste';
import { recordsToDetections } from '../yolact/reference';
import { candidateThresholdOf, centerMaskLayout, effectiveTopK, ranksByMaskIou, type CenterMaskLayout } from './manifest';

/** A raw output on the CPU (ORT's `Tensor.data` and `dims`). */
export interface RawOutput {
  data: Float32Array;
  dims: readonly number[];
}

type Timings = Partial<Pick<StageTimings, 'decode' | 'nms' | 'roi' | 'masks'>>;

/** What the CPU chain keeps between its steps (one frame). */
export interface CenterMaskCpuFrame {
  layout: CenterMaskLayout;
  /** The pooled FPN maps (minLevel..maxLevel of p3..p5). */
  features: FeatureLevel[];
  records: DecodedRecord[];
  /** Locations with a kept pair (the records header's candidateCount). */
  candidateCount: number;
  maskFeatures: Float32Array;
}

function output(outputs: Readonly<Record<string, RawOutput>>, name: string): Float32Array {
  const t = outputs[name];
  if (!t) throw new Error(`CenterMask detector output “${name}” is missing`);
  return t.data;
}

/** The FCOS levels of the detector's outputs. */
export function fcosLevels(outputs: Readonly<Record<string, RawOutput>>, layout: CenterMaskLayout): FcosLevel[] {
  return layout.levels.map((l) => ({
    cls: output(outputs, l.cls),
    box: output(outputs, l.box),
    ctr: output(outputs, l.ctr),
    width: l.width,
    height: l.height,
    stride: l.stride,
  }));
}

/** mask_features [capacity, C, pool, pool] of the records (relative boxes), rows ≥ records.length zero. */
export function poolRecordsReference(
  features: readonly FeatureLevel[],
  layout: CenterMaskLayout,
  records: readonly DecodedRecord[],
  capacity: number,
): Float32Array {
  const n = records.length;
  const rois = new Float32Array(4 * n);
  records.forEach((r, i) =>
    rois.set([r.box[0] * layout.inputWidth, r.box[1] * layout.inputHeight, r.box[2] * layout.inputWidth, r.box[3] * layout.inputHeight], 4 * i),
  );
  return roiAlignReference(features, layout.channels, rois, n, Math.max(n, capacity), {
    ...layout.mapping,
    outSize: layout.config.poolSize,
    samplingRatio: layout.samplingRatio,
    aligned: layout.aligned,
  });
}

/**
 * Step 1, on the detector's outputs: FCOS decode → per-class top-k → NMS → cap → records, then
 * the mask head's RoI features of the records (`capacity(kept)` rows).
 */
export function centerMaskDetectionsReference(
  outputs: Readonly<Record<string, RawOutput>>,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  capacity: (kept: number) => number = (kept) => kept,
): { frame: CenterMaskCpuFrame; timings: Timings } {
  const layout = centerMaskLayout(manifest);
  const k = layout.numClasses;
  const threshold = Math.max(0, settings.scoreThreshold);
  const t0 = performance.now();
  const decoded = fcosDecodeReference(fcosLevels(outputs, layout), {
    numClasses: k,
    input: { width: layout.inputWidth, height: layout.inputHeight },
    candidateThreshold: candidateThresholdOf(layout, settings),
    topN: layout.config.preNmsTopN,
  });
  const t1 = performance.now();
  const top = classTopKReference(decoded.conf, k, decoded.candidates, effectiveTopK(settings), threshold);
  const keep = (settings.nmsKind === 'greedy' ? greedyNmsReference : fastNmsReference)(decoded.boxes, top.indices, settings.nmsIou);
  const records = detectionCapReference(decoded.boxes, top.indices, top.scores, keep, Math.max(1, Math.floor(settings.maxDetections)), threshold);
  const t2 = performance.now();
  const features = layout.pooledLevels.map((l) => ({ data: output(outputs, `p${l.level}`), height: l.height, width: l.width, spatialScale: 1 / l.stride }));
  const maskFeatures = poolRecordsReference(features, layout, records, capacity(records.length));
  const t3 = performance.now();
  return {
    frame: { layout, features, records, candidateCount: decoded.candidates.length, maskFeatures },
    timings: { decode: t1 - t0, nms: t2 - t1, roi: t3 - t2 },
  };
}

/**
 * Step 2, on the mask head's outputs: rescoring by the predicted mask IoU (or not: the
 * pane's ranking, else the manifest's `rescore`), re-ranked and re-thresholded, then each record's class mask pasted
 * as detectron2 does → the instances in image pixels.
 */
export function centerMaskMasksReference(
  frame: CenterMaskCpuFrame,
  maskLogits: Float32Array,
  maskIou: Float32Array,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  imageSize: { width: number; height: number },
  mask: { width: number; height: number } = maskSizeFor(imageSize.width, imageSize.height),
): { detections: Detection[]; masks: InstanceMasks; records: DecodedRecord[]; timings: Timings } {
  const { layout } = frame;
  const t0 = performance.now();
  const records = maskRescoreReference(
    frame.records,
    maskIou,
    layout.numClasses,
    ranksByMaskIou(layout, settings) ? 'perClass' : 'none',
    Math.max(0, settings.scoreThreshold),
  );
  const transform = resizeGeometry(imageSize.width, imageSize.height, manifest.input).transform;
  const { masks, areas } = maskPasteReference(
    records,
    maskLogits,
    { numClasses: layout.numClasses, maskSize: layout.config.maskSize, mode: 'detectron2', classOffset: 0, rowFromSource: true },
    transform,
    imageSize,
    mask,
  );
  records.forEach((r, i) => (r.maskArea = areas[i]!));
  return { detections: recordsToDetections(records, transform, imageSize), masks, records, timings: { masks: performance.now() - t0 } };
}
