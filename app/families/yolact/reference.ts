/**
 * YOLACT post-processing on the CPU: the five raw outputs → detections + instance masks.
 * The same chain as the WGSL kernels, stage for stage, through their TypeScript references:
 *
 *   yolactDecode → classTopK → fastNms | greedyNms → detectionCap     (app/reference/*)
 *   → maskCoefficients → maskUpsample                                 (maskAssembly.ts)
 *
 * It is the no-WebGPU path of the app and the oracle of YolactGpuPostprocessor.
 */
import type { Detection, InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import type { DecodedRecord, InputTransform } from '../../gpu/layout';
import { yolactDecodeReference } from '../../reference/yolactDecode';
import { classTopKReference } from '../../reference/classTopK';
import { fastNmsReference } from '../../reference/fastNms';
import { greedyNmsReference } from '../../reference/greedyNms';
import { detectionCapReference } from '../../reference/detectionCap';
import { resizeGeometry } from '../../reference/preprocess';
import { assembleMasksReference, maskSizeFor, yolactMaskSpec } from '../../reference/maskAssembly';
import { confThresholdOf, yolactLayoutFromDims } from './manifest';

/** A raw output on the CPU (ORT's `Tensor.data` and `dims`). */
export interface RawOutput {
  data: Float32Array;
  dims: readonly number[];
}

export interface YolactReferenceResult {
  detections: Detection[];
  masks: InstanceMasks;
  /** The kept records (boxes relative to the model input), for parity tests. */
  records: DecodedRecord[];
  timings: Partial<Pick<StageTimings, 'decode' | 'nms' | 'masks'>>;
}

/**
 * A relative box (model input) → image pixels through the input→image transform, clamped
 * to the image: x = (x_rel · inputW − offsetX) / gainX.
 */
export function boxToImage(
  box: readonly [number, number, number, number],
  transform: InputTransform,
  image: { width: number; height: number },
): [number, number, number, number] {
  const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const x = (v: number) => clamp((v * transform.inputWidth - transform.offsetX) / transform.gainX, image.width);
  const y = (v: number) => clamp((v * transform.inputHeight - transform.offsetY) / transform.gainY, image.height);
  return [x(box[0]), y(box[1]), x(box[2]), y(box[3])];
}

/** Records + areas → Detection[] in image pixels. */
export function recordsToDetections(
  records: readonly DecodedRecord[],
  transform: InputTransform,
  image: { width: number; height: number },
  areas?: readonly number[],
): Detection[] {
  return records.map((r, n) => ({
    box: boxToImage(r.box, transform, image),
    score: r.score,
    classIndex: r.classIndex,
    maskArea: areas ? areas[n]! : r.maskArea,
  }));
}

/** The box-side chain alone: decode, per-class top-k, NMS, cap → DetectionRecords. */
export function yolactRecordsReference(
  outputs: Record<string, RawOutput>,
  manifest: ModelManifest,
  settings: PostprocessSettings,
): { records: DecodedRecord[]; candidateCount: number; decodeMs: number; nmsMs: number } {
  const layout = yolactLayoutFromDims(Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.dims])));
  const t0 = performance.now();
  const decoded = yolactDecodeReference(outputs.loc!.data, outputs.conf!.data, outputs.priors!.data, layout.numClasses, confThresholdOf(manifest));
  const t1 = performance.now();
  const top = classTopKReference(outputs.conf!.data, layout.numClasses, decoded.candidates, settings.topK);
  const nms = settings.nmsKind === 'greedy' ? greedyNmsReference : fastNmsReference;
  const keep = nms(decoded.boxes, top.indices, settings.nmsIou);
  const records = detectionCapReference(decoded.boxes, top.indices, top.scores, keep, settings.maxDetections, settings.scoreThreshold);
  const t2 = performance.now();
  return { records, candidateCount: decoded.candidates.length, decodeMs: t1 - t0, nmsMs: t2 - t1 };
}

/**
 * The whole CPU path. `mask` is the mask resolution (default: the image size, capped at
 * 1280 on the longer side like the app's GPU path).
 */
export function postprocessYolactReference(
  outputs: Record<string, RawOutput>,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  imageSize: { width: number; height: number },
  mask: { width: number; height: number } = maskSizeFor(imageSize.width, imageSize.height),
): YolactReferenceResult {
  const layout = yolactLayoutFromDims(Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.dims])));
  const { records, decodeMs, nmsMs } = yolactRecordsReference(outputs, manifest, settings);
  const transform = resizeGeometry(imageSize.width, imageSize.height, manifest.input).transform;
  const t0 = performance.now();
  const spec = yolactMaskSpec(layout.protoWidth, layout.protoHeight, layout.numPrototypes);
  const { masks, areas } = assembleMasksReference(records, outputs.mask!.data, outputs.proto!.data, spec, transform, imageSize, mask);
  const t1 = performance.now();
  records.forEach((r, n) => (r.maskArea = areas[n]!));
  return {
    detections: recordsToDetections(records, transform, imageSize),
    masks,
    records,
    timings: { decode: decodeMs, nms: nmsMs, masks: t1 - t0 },
  };
}
