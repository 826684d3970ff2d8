/**
 * Reference of shaders/exported_records.wgsl (app/gpu/kernels/exportedRecords.ts): the
 * detections of a public Mask R-CNN export, NMS already done in the graph (boxes [N, 4] xyxy
 * input pixels, labels [N], scores [N]) → DetectionRecords.
 *
 * Row i is a candidate when score_i > confThreshold and its label maps to a class through
 * `labelToClass` (an integer in [0, labelToClass.length) whose entry is ≥ 0); it is kept when
 * also score_i ≥ scoreThreshold. Kept rows sorted by score descending (ties: lower row
 * first), the first maxDetections, box ÷ input size (relative), sourceIndex = i, maskArea 0.
 * `droppedLabels` counts rows above confThreshold whose label is none of the classes.
 */
import type { DecodedRecord } from '../gpu/layout';

const f = Math.fround;

/** Label / score / box values as ORT gives them (float32, int64 as bigint, int32 …). */
export type NumericArray = ArrayLike<number> | ArrayLike<bigint>;

export interface ExportedRecordsParams {
  confThreshold: number;
  scoreThreshold: number;
  maxDetections: number;
  inputWidth: number;
  inputHeight: number;
}

/** Class index of a label value through `labelToClass` (−1: not an integer in range, or no class). */
export function classOfLabel(label: number, labelToClass: Int32Array): number {
  if (!Number.isInteger(label) || label < 0 || label >= labelToClass.length) return -1;
  return labelToClass[label]!;
}

export function exportedRecordsReference(
  rows: { boxes: NumericArray; labels: NumericArray; scores: NumericArray; numRows: number },
  labelToClass: Int32Array,
  params: ExportedRecordsParams,
): { records: DecodedRecord[]; candidateCount: number; droppedLabels: number } {
  const at = (a: NumericArray, i: number) => Number(a[i]!);
  const conf = f(params.confThreshold);
  const display = f(Math.max(0, params.scoreThreshold));
  const maxDetections = Math.max(1, Math.floor(params.maxDetections));
  const kept: Array<{ i: number; s: number; c: number }> = [];
  let candidateCount = 0;
  let droppedLabels = 0;
  for (let i = 0; i < rows.numRows; i++) {
    const s = f(at(rows.scores, i));
    if (!(s > conf)) continue;
    const c = classOfLabel(at(rows.labels, i), labelToClass);
    if (c < 0) {
      droppedLabels++;
      continue;
    }
    candidateCount++;
    if (s >= display) kept.push({ i, s, c });
  }
  kept.sort((a, b) => (a.s !== b.s ? b.s - a.s : a.i - b.i));
  const iw = f(params.inputWidth);
  const ih = f(params.inputHeight);
  const records = kept.slice(0, maxDetections).map(({ i, s, c }) => {
    const box: [number, number, number, number] = [
      f(at(rows.boxes, 4 * i) / iw),
      f(at(rows.boxes, 4 * i + 1) / ih),
      f(at(rows.boxes, 4 * i + 2) / iw),
      f(at(rows.boxes, 4 * i + 3) / ih),
    ];
    return { box, score: s, classIndex: c, sourceIndex: i, maskArea: 0 };
  });
  return { records, candidateCount, droppedLabels };
}
