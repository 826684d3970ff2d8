/**
 * YOLO-seg post-processing on the CPU: the raw outputs → detections + instance masks, the
 * same chain as the WGSL kernels, stage for stage, through their TypeScript references:
 *
 *   raw head:   yoloSegDecode → classTopK (best class only) → trimTopK → greedyNms | fastNms → detectionCap
 *   end-to-end: yoloSegEndToEnd (threshold, order, cap)
 *   then        maskCoefficients (integer crop, logits) → maskUpsample (> 0)   (maskAssembly.ts)
 *
 * A transposed output0 ([1, N, 4+nc+32]) is first put channel-major (`normalizeYoloSegOutputs`,
 * the reference of shaders/yolo_seg_layout.wgsl); float16 outputs arrive here as f32 already
 * (the ORT seam converts them exactly). Boxes and masks are mapped back through the letterbox (InputTransform). The no-WebGPU
 * path of the app and the oracle of YoloSegGpuPostprocessor.
 */
import type { ModelManifest, PostprocessSettings } from '../../types';
import type { DecodedRecord } from '../../gpu/layout';
import { trimTopKReference, yoloSegDecodeReference } from '../../reference/yoloSegDecode';
import { yoloSegEndToEndReference } from '../../reference/yoloSegEndToEnd';
import { classTopKReference } from '../../reference/classTopK';
import { fastNmsReference } from '../../reference/fastNms';
import { greedyNmsReference } from '../../reference/greedyNms';
import { detectionCapReference } from '../../reference/detectionCap';
import { resizeGeometry } from '../../reference/preprocess';
import { assembleMasksReference, maskSizeFor, yoloSegMaskSpec, type MaskAssemblySpec } from '../../reference/maskAssembly';
import { recordsToDetections, type RawOutput, type YolactReferenceResult } from '../yolact/reference';
import { confThresholdOf, yoloSegLayoutFromDims, type YoloSegLayout } from './manifest';
import { normalizeYoloSegOutputs } from './layout';

export type { RawOutput } from '../yolact/reference';
export type YoloSegReferenceResult = YolactReferenceResult;

/** Per-class top-k cannot exceed the GPU kernel's capacity (classTopK MAX_TOP_K). */
const MAX_TOP_K = 512;

/** The mask spec of a layout: raw head coefficients are rows 4 + C … of output0; end-to-end columns 6 … of a row. */
export function yoloSegSpecFor(layout: YoloSegLayout): MaskAssemblySpec {
  if (layout.head === 'raw') {
    return yoloSegMaskSpec(layout.protoWidth, layout.protoHeight, layout.numClasses, layout.numAnchors, layout.numPrototypes);
  }
  const spec = yoloSegMaskSpec(layout.protoWidth, layout.protoHeight, 0, 0, layout.numPrototypes);
  return { ...spec, coefficients: { offset: 6, indexStride: 6 + layout.numPrototypes, kStride: 1 } };
}

/** Effective per-class top-k and display threshold (sentinel scores −1 must never pass). */
export function effectiveSettings(settings: PostprocessSettings): { topK: number; scoreThreshold: number; maxDetections: number } {
  return {
    topK: Math.max(1, Math.min(MAX_TOP_K, Math.floor(settings.topK))),
    scoreThreshold: Math.max(0, settings.scoreThreshold),
    maxDetections: Math.max(1, Math.floor(settings.maxDetections)),
  };
}

export function layoutOf(outputs: Record<string, RawOutput>, manifest: ModelManifest): YoloSegLayout {
  const dims = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.dims]));
  return yoloSegLayoutFromDims(dims, manifest.input, manifest.classes.length);
}

/** The box-side chain alone → DetectionRecords (boxes relative to the input). */
export function yoloSegRecordsReference(
  outputs: Record<string, RawOutput>,
  manifest: ModelManifest,
  settings: PostprocessSettings,
): { records: DecodedRecord[]; candidateCount: number; decodeMs: number; nmsMs: number } {
  outputs = normalizeYoloSegOutputs(outputs, manifest.classes.length);
  const layout = layoutOf(outputs, manifest);
  const { topK, scoreThreshold, maxDetections } = effectiveSettings(settings);
  const conf = confThresholdOf(manifest);
  const t0 = performance.now();
  if (layout.head === 'end-to-end') {
    const { records, candidateCount } = yoloSegEndToEndReference(
      outputs.detections!.data,
      layout.numAnchors,
      layout.numPrototypes,
      layout.numClasses,
      maxDetections,
      conf,
      scoreThreshold,
      layout.inputWidth,
      layout.inputHeight,
    );
    return { records, candidateCount, decodeMs: performance.now() - t0, nmsMs: 0 };
  }
  const decoded = yoloSegDecodeReference(outputs.output0!.data, layout.numClasses, layout.numAnchors, conf, layout.inputWidth, layout.inputHeight);
  const t1 = performance.now();
  const top = trimTopKReference(classTopKReference(decoded.bestConf, layout.numClasses, decoded.candidates, topK));
  const nms = settings.nmsKind === 'fast' ? fastNmsReference : greedyNmsReference;
  const keep = nms(decoded.boxes, top.indices, settings.nmsIou);
  const records = detectionCapReference(decoded.boxes, top.indices, top.scores, keep, maxDetections, scoreThreshold);
  return { records, candidateCount: decoded.candidates.length, decodeMs: t1 - t0, nmsMs: performance.now() - t1 };
}

/**
 * The whole CPU path (the pipeline's `postprocessYoloSegReference`). `mask` is the mask
 * resolution (default: the image size capped at 1280 on the longer side, as the GPU path).
 */
export function postprocessYoloSegReference(
  outputs: Record<string, RawOutput>,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  imageSize: { width: number; height: number },
  mask: { width: number; height: number } = maskSizeFor(imageSize.width, imageSize.height),
): YoloSegReferenceResult {
  outputs = normalizeYoloSegOutputs(outputs, manifest.classes.length);
  const layout = layoutOf(outputs, manifest);
  const { records, decodeMs, nmsMs } = yoloSegRecordsReference(outputs, manifest, settings);
  const transform = resizeGeometry(imageSize.width, imageSize.height, manifest.input).transform;
  const t0 = performance.now();
  const coefficients = layout.head === 'raw' ? outputs.output0!.data : outputs.detections!.data;
  const { masks, areas } = assembleMasksReference(records, coefficients, outputs.protos!.data, yoloSegSpecFor(layout), transform, imageSize, mask);
  records.forEach((r, n) => (r.maskArea = areas[n]!));
  return {
    detections: recordsToDetections(records, transform, imageSize),
    masks,
    records,
    timings: { decode: decodeMs, nms: nmsMs, masks: performance.now() - t0 },
  };
}
