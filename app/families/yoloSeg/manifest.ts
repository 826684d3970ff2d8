/**
 * YOLO-seg output layout (Ultralytics v8 / 11 exports, MODELS.md §2), from a manifest (GPU
 * path: buffers carry no shapes) or from output dims (CPU path), with readable errors.
 *
 * Raw head ("output0" + "output1"):
 *   output0 [1, 4 + C + K, N]  rows cx, cy, w, h (input pixels), C sigmoid scores, K coefficients
 *   output1 [1, K, P_h, P_w]   prototypes, NCHW, stride 4 (P = input / 4)
 *   N = Σ over strides 8, 16, 32 of (W/s)·(H/s)   (640 → 8400, 320 → 2100)
 * End-to-end export (NMS in the graph): the manifest names `detections` instead of
 * `output0`: detections [1, R, 6 + K] (x1, y1, x2, y2, score, class, coefficients).
 *
 * Manifest `outputs`: { output0, protos } or { detections, protos } → the ONNX output names.
 */
import type { ModelManifest } from '../../types';

export const YOLO_SEG_PROTOTYPES = 32;
/** Strides of the three detection levels (P3, P4, P5). */
export const YOLO_SEG_STRIDES = [8, 16, 32] as const;
/** Prototype stride. */
export const PROTO_STRIDE = 4;
/** Rows of an end-to-end export (Ultralytics max_det at export time). */
export const END_TO_END_ROWS = 300;
/** Ultralytics predict defaults: conf 0.25, IoU 0.7, max_det 300. */
export const DEFAULT_CONF_THRESHOLD = 0.25;

export type YoloSegHead = 'raw' | 'end-to-end';

export interface YoloSegLayout {
  head: YoloSegHead;
  /** Raw head: anchors N. End-to-end: rows R. */
  numAnchors: number;
  numClasses: number;
  numPrototypes: number;
  protoWidth: number;
  protoHeight: number;
  inputWidth: number;
  inputHeight: number;
}

/** Anchors of the raw head for an input size: Σ_s ceil(W/s)·ceil(H/s). */
export function anchorCount(width: number, height: number): number {
  return YOLO_SEG_STRIDES.reduce((sum, s) => sum + Math.ceil(width / s) * Math.ceil(height / s), 0);
}

/** Layout implied by a manifest (input size, class count, which outputs it names). */
export function yoloSegLayout(manifest: ModelManifest): YoloSegLayout {
  if (manifest.family !== 'yolo-seg') throw new Error(`${manifest.id}: family ${manifest.family}, not yolo-seg`);
  const { width, height } = manifest.input;
  const endToEnd = Boolean(manifest.outputs.detections);
  if (!endToEnd && !manifest.outputs.output0) {
    throw new Error(`${manifest.id}: the manifest names neither “output0” (raw head) nor “detections” (end-to-end) output`);
  }
  if (!manifest.outputs.protos) throw new Error(`${manifest.id}: the manifest names no “protos” output`);
  return {
    head: endToEnd ? 'end-to-end' : 'raw',
    numAnchors: endToEnd ? END_TO_END_ROWS : anchorCount(width, height),
    numClasses: manifest.classes.length,
    numPrototypes: YOLO_SEG_PROTOTYPES,
    protoWidth: Math.ceil(width / PROTO_STRIDE),
    protoHeight: Math.ceil(height / PROTO_STRIDE),
    inputWidth: width,
    inputHeight: height,
  };
}

const shape = (d: readonly number[]) => `[${d.join(', ')}]`;

/**
 * Layout from the output dims (keyed by logical name) and the input size; throws a
 * readable error when they do not fit. `numClasses` (from the manifest) is checked against
 * the raw head's row count; for end-to-end exports it is taken as given.
 */
export function yoloSegLayoutFromDims(dims: Record<string, readonly number[]>, input: { width: number; height: number }, numClasses?: number): YoloSegLayout {
  const protos = dims.protos;
  if (!protos) throw new Error('YOLO-seg output “protos” is missing');
  if (protos.length !== 4 || protos[0] !== 1) throw new Error(`protos ${shape(protos)}: expected [1, 32, H/4, W/4]`);
  const k = protos[1]!;
  const common = { numPrototypes: k, protoHeight: protos[2]!, protoWidth: protos[3]!, inputWidth: input.width, inputHeight: input.height };
  if (dims.detections) {
    const d = dims.detections;
    if (d.length !== 3 || d[0] !== 1 || d[2] !== 6 + k)
      throw new Error(`detections ${shape(d)}: expected [1, R, ${6 + k}] (x1, y1, x2, y2, score, class, ${k} coefficients)`);
    return { head: 'end-to-end', numAnchors: d[1]!, numClasses: numClasses ?? 0, ...common };
  }
  const o = dims.output0;
  if (!o) throw new Error('YOLO-seg output “output0” (or “detections”) is missing');
  if (o.length !== 3 || o[0] !== 1 || o[1]! <= 4 + k) throw new Error(`output0 ${shape(o)}: expected [1, 4 + nc + ${k}, N]`);
  const nc = o[1]! - 4 - k;
  if (numClasses !== undefined && numClasses !== nc) {
    throw new Error(`output0 ${shape(o)} holds ${nc} classes; the manifest lists ${numClasses}`);
  }
  return { head: 'raw', numAnchors: o[2]!, numClasses: nc, ...common };
}

/** Float counts of each output (buffer-size checks). */
export function yoloSegOutputFloats(layout: YoloSegLayout): Record<string, number> {
  const protos = layout.numPrototypes * layout.protoWidth * layout.protoHeight;
  return layout.head === 'raw'
    ? { output0: (4 + layout.numClasses + layout.numPrototypes) * layout.numAnchors, protos }
    : { detections: (6 + layout.numPrototypes) * layout.numAnchors, protos };
}

/** The candidate threshold of a manifest (defaults.confThreshold, else Ultralytics' 0.25). */
export function confThresholdOf(manifest: ModelManifest): number {
  return manifest.defaults?.confThreshold ?? DEFAULT_CONF_THRESHOLD;
}
