/**
 * Reference of shaders/yolo_seg_end_to_end.wgsl: end-to-end YOLO-seg detections
 * [R, 6 + K] (x1, y1, x2, y2 input pixels, score, class, K coefficients; NMS already done
 * in the graph) → records. A row is kept when score > confThreshold, score ≥
 * scoreThreshold and round(class) ∈ [0, C); kept rows sorted by score descending (ties:
 * lower row first), the first maxDetections, boxes ÷ input size (relative).
 */
import type { DecodedRecord } from '../gpu/layout';

const f = Math.fround;

export function yoloSegEndToEndReference(
  detections: Float32Array,
  numRows: number,
  numPrototypes: number,
  numClasses: number,
  maxDetections: number,
  confThreshold: number,
  scoreThreshold: number,
  inputWidth: number,
  inputHeight: number,
): { records: DecodedRecord[]; candidateCount: number } {
  const stride = 6 + numPrototypes;
  const conf = f(confThreshold);
  const display = f(scoreThreshold);
  const kept: Array<{ r: number; s: number; c: number }> = [];
  let candidateCount = 0;
  for (let r = 0; r < numRows; r++) {
    const s = detections[r * stride + 4]!;
    if (s > conf) candidateCount++;
    // WGSL round() rounds half to even.
    const raw = detections[r * stride + 5]!;
    const c = roundHalfEven(raw);
    if (s > conf && s >= display && c >= 0 && c < numClasses) kept.push({ r, s, c });
  }
  kept.sort((a, b) => (a.s !== b.s ? b.s - a.s : a.r - b.r));
  const iw = f(inputWidth);
  const ih = f(inputHeight);
  const records = kept.slice(0, maxDetections).map(({ r, s, c }) => {
    const o = r * stride;
    const box: [number, number, number, number] = [f(detections[o]! / iw), f(detections[o + 1]! / ih), f(detections[o + 2]! / iw), f(detections[o + 3]! / ih)];
    return { box, score: s, classIndex: c, sourceIndex: r, maskArea: 0 };
  });
  return { records, candidateCount };
}

function roundHalfEven(v: number): number {
  if (!Number.isFinite(v)) return -1;
  const fl = Math.floor(v);
  const d = v - fl;
  if (d > 0.5) return fl + 1;
  if (d < 0.5) return fl;
  return fl % 2 === 0 ? fl : fl + 1;
}
