/**
 * Reference of shaders/maskrcnn_box_decode.wgsl — the detection stage of our Mask R-CNN
 * (torchvision `RoIHeads.postprocess_detections`), in fp32 steps in the kernel's order.
 *
 *   classLogits [R, K + 1] (column 0 = background), boxDeltas [R, (K + 1)·4],
 *   proposals [R, 4] xyxy in model-input pixels, the first `validRois` rows real:
 *   1. scores = softmax(classLogits[r]) (max subtracted, exp, sum over j = 0..K in order, divide);
 *   2. per foreground class c (0-based; logits / deltas column c + 1), BoxCoder weights
 *      (wx, wy, ww, wh) = (10, 10, 5, 5):
 *        w = x2 − x1, h = y2 − y1, cx = x1 + 0.5·w, cy = y1 + 0.5·h,
 *        dx = δx / wx, dy = δy / wy, dw = min(δw / ww, log(1000/16)), dh likewise,
 *        px = dx·w + cx, py = dy·h + cy, pw = exp(dw)·w, ph = exp(dh)·h,
 *        box = (px − 0.5·pw, py − 0.5·ph, px + 0.5·pw, py + 0.5·ph), clipped to [0, W]×[0, H];
 *   3. (r, c) is a candidate when score > scoreThreshold (0.05) and both sides ≥ minSize
 *      (0.01 px, torchvision `remove_small_boxes`);
 *   4. boxes are stored relative to the input (x / W, y / H) as DetectionRecords want.
 * Layouts (class-major, so class c's entries are contiguous and (c, r) → c·R + r):
 *   boxes [K, R, 4] f32 relative, scores [K, R] f32 with NOT_CANDIDATE (−1) where (r, c) is
 *   not a candidate (and for padded RoIs r ≥ validRois).
 *
 * Then `maskRcnnSelectReference` is the kernel's per-class select: the candidates of each
 * class, sorted by score descending (ties: lower RoI first), the first topK — the same
 * output as classTopK's (indices = RoI r), which the NMS kernels and detectionCap consume with
 * `boxClassStride = R` (box of (c, r) = boxes[c·R + r]). `maskRcnnDetectionsReference` chains
 * decode → select → Fast / greedy NMS → cross-class cap: the CPU path of the whole stage.
 */
import type { DecodedRecord } from '../gpu/layout';
import type { NmsKind } from '../types';
import type { ClassTopK } from './classTopK';
import { fastNmsReference } from './fastNms';
import { greedyNmsReference } from './greedyNms';
import { detectionCapReference } from './detectionCap';

const f = Math.fround;

/** Score of an (RoI, class) pair that is not a candidate (softmax scores are ≥ 0). */
export const NOT_CANDIDATE = -1;
/** torchvision's `bbox_xform_clip`: dw, dh ≤ log(1000 / 16). */
export const BOX_DELTA_CLIP = Math.log(1000 / 16);
/** torchvision `remove_small_boxes(boxes, min_size=1e-2)` in `postprocess_detections`. */
export const MIN_BOX_SIDE = 1e-2;

export interface MaskRcnnBoxDecodeSpec {
  /** K foreground classes (logits have K + 1 columns). */
  numClasses: number;
  /** Model input size in pixels (proposals and clipping are in these pixels). */
  inputWidth: number;
  inputHeight: number;
  /** Box coder weights (wx, wy, ww, wh), torchvision (10, 10, 5, 5). */
  boxWeights: readonly [number, number, number, number];
  /** Candidate test: softmax score > this (torchvision box_score_thresh 0.05). */
  scoreThreshold: number;
  /** Smallest kept box side in input pixels; default MIN_BOX_SIDE. */
  minSize?: number;
}

export interface MaskRcnnBoxDecodeResult {
  /** [K, R, 4] xyxy relative to the model input, clipped. Zero for padded RoIs. */
  boxes: Float32Array;
  /** [K, R] softmax score, NOT_CANDIDATE where (r, c) is not a candidate. */
  scores: Float32Array;
  /** Candidate (RoI, class) pairs. */
  candidateCount: number;
}

/** WGSL `exp` is f32; Math.exp of the f32 argument rounded back to f32. */
const expf = (x: number) => f(Math.exp(x));

/**
 * @param classLogits [R, K + 1]
 * @param boxDeltas [R, (K + 1)·4]
 * @param proposals [R, 4] xyxy input pixels
 * @param validRois real proposals (≤ R = proposals.length / 4)
 */
export function maskRcnnBoxDecodeReference(
  classLogits: Float32Array,
  boxDeltas: Float32Array,
  proposals: Float32Array,
  validRois: number,
  spec: MaskRcnnBoxDecodeSpec,
): MaskRcnnBoxDecodeResult {
  const numRois = proposals.length / 4;
  const k = spec.numClasses;
  const stride = k + 1;
  const boxes = new Float32Array(4 * k * numRois);
  const scores = new Float32Array(k * numRois).fill(NOT_CANDIDATE);
  const [wx, wy, ww, wh] = spec.boxWeights.map(f) as [number, number, number, number];
  const clip = f(BOX_DELTA_CLIP);
  const threshold = f(spec.scoreThreshold);
  const minSize = f(spec.minSize ?? MIN_BOX_SIDE);
  const inW = f(spec.inputWidth);
  const inH = f(spec.inputHeight);
  const probs = new Float32Array(stride);
  let candidateCount = 0;
  for (let r = 0; r < Math.min(validRois, numRois); r++) {
    // Softmax, max subtracted.
    const row = r * stride;
    let m = -Infinity;
    for (let j = 0; j < stride; j++) m = Math.max(m, classLogits[row + j]!);
    let sum = 0;
    for (let j = 0; j < stride; j++) {
      probs[j] = expf(f(classLogits[row + j]! - m));
      sum = f(sum + probs[j]!);
    }
    for (let j = 0; j < stride; j++) probs[j] = f(probs[j]! / sum);

    const x1 = proposals[4 * r]!;
    const y1 = proposals[4 * r + 1]!;
    const x2 = proposals[4 * r + 2]!;
    const y2 = proposals[4 * r + 3]!;
    const w = f(x2 - x1);
    const h = f(y2 - y1);
    const cx = f(x1 + f(0.5 * w));
    const cy = f(y1 + f(0.5 * h));
    for (let c = 0; c < k; c++) {
      const d = 4 * (row + c + 1);
      const dx = f(boxDeltas[d]! / wx);
      const dy = f(boxDeltas[d + 1]! / wy);
      const dw = Math.min(f(boxDeltas[d + 2]! / ww), clip);
      const dh = Math.min(f(boxDeltas[d + 3]! / wh), clip);
      const px = f(f(dx * w) + cx);
      const py = f(f(dy * h) + cy);
      const halfW = f(0.5 * f(expf(dw) * w));
      const halfH = f(0.5 * f(expf(dh) * h));
      const bx1 = clamp(f(px - halfW), inW);
      const by1 = clamp(f(py - halfH), inH);
      const bx2 = clamp(f(px + halfW), inW);
      const by2 = clamp(f(py + halfH), inH);
      const o = c * numRois + r;
      boxes.set([f(bx1 / inW), f(by1 / inH), f(bx2 / inW), f(by2 / inH)], 4 * o);
      const s = probs[c + 1]!;
      if (s > threshold && f(bx2 - bx1) >= minSize && f(by2 - by1) >= minSize) {
        scores[o] = s;
        candidateCount++;
      }
    }
  }
  return { boxes, scores, candidateCount };
}

/** clamp(v, 0, hi) as WGSL's clamp (NaN-free inputs). */
function clamp(v: number, hi: number): number {
  return Math.min(Math.max(v, 0), hi);
}

/**
 * Per class: the candidates (score ≠ NOT_CANDIDATE) sorted by score descending, ties by lower
 * RoI index, the first topK. Same shape as `classTopKReference`'s result; indices are RoIs.
 * @param scores [K, R] from `maskRcnnBoxDecodeReference` (or read back from the kernel)
 */
export function maskRcnnSelectReference(scores: Float32Array, numRois: number, numClasses: number, topK: number): ClassTopK {
  const indices: number[][] = [];
  const out: number[][] = [];
  for (let c = 0; c < numClasses; c++) {
    const row = c * numRois;
    const list: number[] = [];
    for (let r = 0; r < numRois; r++) if (scores[row + r]! !== NOT_CANDIDATE) list.push(r);
    list.sort((a, b) => (scores[row + a] !== scores[row + b] ? scores[row + b]! - scores[row + a]! : a - b));
    const top = list.slice(0, topK);
    indices.push(top);
    out.push(top.map((r) => scores[row + r]!));
  }
  return { indices, scores: out };
}

export interface MaskRcnnDetectionSettings {
  /** Row stride of the per-class lists (≤ 512); min(512, R) keeps every candidate, as torchvision. */
  topK: number;
  nmsIou: number;
  nmsKind: NmsKind;
  maxDetections: number;
  /** Display threshold of the cap (≥ 0; NOT_CANDIDATE entries never reach it). */
  displayThreshold: number;
}

/**
 * The whole detection stage on the CPU: decode → per-class select → NMS (per class, on the
 * class's own boxes) → cross-class cap. Records: box relative to the input, classIndex
 * 0-based foreground, sourceIndex = RoI r, maskArea 0.
 */
export function maskRcnnDetectionsReference(
  classLogits: Float32Array,
  boxDeltas: Float32Array,
  proposals: Float32Array,
  validRois: number,
  spec: MaskRcnnBoxDecodeSpec,
  settings: MaskRcnnDetectionSettings,
): { records: DecodedRecord[]; candidateCount: number; decoded: MaskRcnnBoxDecodeResult } {
  const numRois = proposals.length / 4;
  const decoded = maskRcnnBoxDecodeReference(classLogits, boxDeltas, proposals, validRois, spec);
  const records = maskRcnnNmsCapReference(decoded.boxes, decoded.scores, numRois, spec.numClasses, settings);
  return { records, candidateCount: decoded.candidateCount, decoded };
}

/** Select → NMS → cap on decoded class-major boxes / scores (the GPU's, in the chain tests). */
export function maskRcnnNmsCapReference(
  boxes: Float32Array,
  scores: Float32Array,
  numRois: number,
  numClasses: number,
  settings: MaskRcnnDetectionSettings,
): DecodedRecord[] {
  const top = maskRcnnSelectReference(scores, numRois, numClasses, settings.topK);
  const nms = settings.nmsKind === 'greedy' ? greedyNmsReference : fastNmsReference;
  const keep = nms(boxes, top.indices, settings.nmsIou, numRois);
  return detectionCapReference(boxes, top.indices, top.scores, keep, settings.maxDetections, Math.max(0, settings.displayThreshold), numRois);
}
