/**
 * CenterMask on the CPU: the TypeScript references of the WGSL between its two ONNX parts,
 * stage for stage (the 'wasm' path, and the oracle of the GPU chain):
 *
 *   detector outputs → fcosDecode → classTopK → fast | greedy NMS → detectionCap  ('decode', 'nms')
 *     (the FCOS box chain, ../common/fcosReference.ts)
 *   → RoIAlign poolSize² on p3..p5 (level rule of the manifest: Equation 2) → mask_features  ('roi')
 *   … mask head: mask_features → mask_logits [M, K, 28, 28], mask_iou [M, K] …
 *   → maskRescore (score · mask IoU, re-ranked) → maskPaste (detectron2) → instances  ('masks')
 *
 * The mask head only sees the kept rows here (a row depends on its own features alone, so the
 * GPU's zero padding rows change nothing).
 */
import type { Detection, InstanceMasks, ModelManifest, PostprocessSettings } from '../../types';
import type { DecodedRecord } from '../../gpu/layout';
import { resizeGeometry } from '../../reference/preprocess';
import { maskSizeFor } from '../../reference/maskAssembly';
import type { FcosLevel } from '../../reference/fcosDecode';
import { recordRoisInPixels, roiAlignReference, type FeatureLevel } from '../../reference/roiAlign';
import { maskRescoreReference } from '../../reference/maskRescore';
import { maskPasteReference } from '../../reference/maskPaste';
import { recordsToDetections } from '../yolact/reference';
import { detectorOutput, fcosLevelsOf, fcosRecordsReference, type FcosDetectionsReference, type FcosStepTimings } from '../common/fcosReference';
import { centerMaskLayout, ranksByMaskIou, type CenterMaskLayout } from './manifest';

/** A raw output on the CPU (ORT's `Tensor.data` and `dims`). */
export interface RawOutput {
  data: Float32Array;
  dims: readonly number[];
}

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

/** The FCOS levels of the detector's outputs. */
export function fcosLevels(outputs: Readonly<Record<string, RawOutput>>, layout: CenterMaskLayout): FcosLevel[] {
  return fcosLevelsOf(outputs, layout, 'CenterMask');
}

/** mask_features [capacity, C, pool, pool] of the records (relative boxes), rows ≥ records.length zero. */
export function poolRecordsReference(
  features: readonly FeatureLevel[],
  layout: CenterMaskLayout,
  records: readonly DecodedRecord[],
  capacity: number,
): Float32Array {
  const n = records.length;
  const rois = recordRoisInPixels(records, { width: layout.inputWidth, height: layout.inputHeight });
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
export const centerMaskDetectionsReference: FcosDetectionsReference<CenterMaskCpuFrame> = (outputs, manifest, settings, capacity = (kept) => kept) => {
  const layout = centerMaskLayout(manifest);
  const { records, candidateCount, timings } = fcosRecordsReference(outputs, layout, settings, 'CenterMask');
  const t2 = performance.now();
  const features = layout.pooledLevels.map((l) => ({
    data: detectorOutput(outputs, `p${l.level}`, 'CenterMask'),
    height: l.height,
    width: l.width,
    spatialScale: 1 / l.stride,
  }));
  const maskFeatures = poolRecordsReference(features, layout, records, capacity(records.length));
  return {
    frame: { layout, features, records, candidateCount, maskFeatures },
    timings: { ...timings, roi: performance.now() - t2 },
  };
};

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
): { detections: Detection[]; masks: InstanceMasks; records: DecodedRecord[]; timings: FcosStepTimings } {
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
