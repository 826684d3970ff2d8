/**
 * The Mask R-CNN detection-stage reference against torchvision's own
 * `RoIHeads.postprocess_detections` — fixtures/maskRcnnBoxDecode.torchvision.json, written by
 * fixtures/maskRcnnBoxDecode.torchvision.py (greedy batched NMS 0.5, top 100) — and the
 * select rule (score desc, RoI asc, candidates only).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maskRcnnDetectionsReference, maskRcnnSelectReference, NOT_CANDIDATE } from '../../app/reference/maskRcnnBoxDecode';

interface Fixture {
  numRois: number;
  numClasses: number;
  inputWidth: number;
  inputHeight: number;
  classLogits: number[];
  boxDeltas: number[];
  proposals: number[];
  boxes: number[];
  scores: number[];
  labels: number[];
}

const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'maskRcnnBoxDecode.torchvision.json'), 'utf8')) as Fixture;

describe('maskRcnnDetectionsReference', () => {
  it('matches torchvision postprocess_detections (greedy NMS): same detections in the same order', () => {
    const { numRois, numClasses, inputWidth: w, inputHeight: h } = fixture;
    const { records, candidateCount } = maskRcnnDetectionsReference(
      new Float32Array(fixture.classLogits),
      new Float32Array(fixture.boxDeltas),
      new Float32Array(fixture.proposals),
      numRois,
      { numClasses, inputWidth: w, inputHeight: h, boxWeights: [10, 10, 5, 5], scoreThreshold: 0.05 },
      { topK: Math.min(512, numRois), nmsIou: 0.5, nmsKind: 'greedy', maxDetections: 100, displayThreshold: 0 },
    );
    expect(records.length).toBe(fixture.labels.length);
    let boxErr = 0;
    let scoreErr = 0;
    records.forEach((r, n) => {
      expect(r.classIndex).toBe(fixture.labels[n]! - 1);
      const px = [r.box[0] * w, r.box[1] * h, r.box[2] * w, r.box[3] * h];
      px.forEach((v, i) => (boxErr = Math.max(boxErr, Math.abs(v - fixture.boxes[4 * n + i]!))));
      scoreErr = Math.max(scoreErr, Math.abs(r.score - fixture.scores[n]!));
    });
    console.log(
      `maskRcnnBoxDecode reference vs torchvision: ${records.length} detections of ${candidateCount} candidates, max |Δbox| ${boxErr.toExponential(2)} px, max |Δscore| ${scoreErr.toExponential(2)}`,
    );
    expect(boxErr).toBeLessThan(1e-3);
    expect(scoreErr).toBeLessThan(1e-6);
  });

  it('select: candidates only, score descending, ties by lower RoI, truncated to topK', () => {
    const f = Math.fround;
    // 2 classes × 5 RoIs, class-major.
    const scores = new Float32Array([f(0.3), NOT_CANDIDATE, f(0.9), f(0.3), f(0.5), NOT_CANDIDATE, NOT_CANDIDATE, NOT_CANDIDATE, f(0.2), NOT_CANDIDATE]);
    const top = maskRcnnSelectReference(scores, 5, 2, 3);
    expect(top.indices).toEqual([[2, 4, 0], [3]]);
    expect(top.scores).toEqual([[f(0.9), f(0.5), f(0.3)], [f(0.2)]]);
  });
});
