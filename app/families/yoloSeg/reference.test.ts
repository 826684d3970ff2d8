import { describe, expect, it } from 'vitest';
import type { PostprocessSettings } from '../../types';
import { maskBit } from '../../reference/maskAssembly';
import { anchorCount, yoloSegLayout, yoloSegLayoutFromDims } from './manifest';
import { postprocessYoloSegReference, type RawOutput } from './reference';
import { syntheticYoloSegManifest, syntheticYoloSegOutputs } from './synthetic';

/**
 * Hand-built raw head for a 64x64 input: N = 8² + 4² + 2² = 84 anchors, 3 classes, protos
 * [1, 32, 16, 16] with prototype 0 = 1 everywhere and every coefficient 0 = 5, so a mask is
 * logit 5 inside its crop box, 0 (not > 0) outside.
 */
function handOutputs(anchors: Array<{ i: number; box: [number, number, number, number]; scores: Record<number, number> }>): Record<string, RawOutput> {
  const n = 84,
    c = 3,
    k = 32;
  const out = new Float32Array((4 + c + k) * n);
  for (let i = 0; i < n; i++) out[(4 + c) * n + i] = 5;
  for (const a of anchors) {
    const [x1, y1, x2, y2] = a.box;
    out[a.i] = (x1 + x2) / 2;
    out[n + a.i] = (y1 + y2) / 2;
    out[2 * n + a.i] = x2 - x1;
    out[3 * n + a.i] = y2 - y1;
    for (const [cls, s] of Object.entries(a.scores)) out[(4 + +cls) * n + a.i] = s;
  }
  const protos = new Float32Array(k * 16 * 16);
  protos.fill(1, 0, 256);
  return { output0: { data: out, dims: [1, 4 + c + k, n] }, protos: { data: protos, dims: [1, k, 16, 16] } };
}

const SETTINGS: PostprocessSettings = { scoreThreshold: 0, topK: 300, nmsIou: 0.7, nmsKind: 'greedy', maxDetections: 300 };

describe('YOLO-seg layout', () => {
  it('anchor counts of Ultralytics heads', () => {
    expect(anchorCount(640, 640)).toBe(8400);
    expect(anchorCount(320, 320)).toBe(2100);
    expect(anchorCount(64, 64)).toBe(84);
  });
  it('layout from dims, with readable errors', () => {
    const l = yoloSegLayoutFromDims({ output0: [1, 116, 8400], protos: [1, 32, 160, 160] }, { width: 640, height: 640 });
    expect(l).toMatchObject({ head: 'raw', numClasses: 80, numAnchors: 8400, protoWidth: 160, numPrototypes: 32 });
    expect(() => yoloSegLayoutFromDims({ output0: [1, 116, 8400], protos: [1, 32, 160, 160] }, { width: 640, height: 640 }, 3)).toThrow(
      /80 classes; the manifest lists 3/,
    );
    expect(() => yoloSegLayoutFromDims({ output0: [1, 116, 8400] }, { width: 640, height: 640 })).toThrow(/protos/);
    expect(yoloSegLayoutFromDims({ detections: [1, 300, 38], protos: [1, 32, 80, 80] }, { width: 320, height: 320 }, 80).head).toBe('end-to-end');
    expect(() => yoloSegLayoutFromDims({ detections: [1, 300, 37], protos: [1, 32, 80, 80] }, { width: 320, height: 320 })).toThrow(/expected \[1, R, 38\]/);
    expect(yoloSegLayout(syntheticYoloSegManifest(320, 3))).toMatchObject({ numAnchors: 2100, protoWidth: 80, numClasses: 3 });
  });
});

describe('postprocessYoloSegReference', () => {
  it('hand case: best class only, class-aware NMS at 0.7, conf 0.25, letterbox undone', () => {
    const outputs = handOutputs([
      // a: class 2 best (0.9); its class-1 score 0.8 must not make a second detection.
      { i: 10, box: [16, 16, 32, 32], scores: { 2: 0.9, 1: 0.8 } },
      // b: same class, IoU with a = 240 / 272 ≈ 0.88 > 0.7 → suppressed.
      { i: 11, box: [17, 16, 33, 32], scores: { 2: 0.85 } },
      // c: a's box, other class → kept (class-aware).
      { i: 12, box: [16, 16, 32, 32], scores: { 0: 0.7 } },
      // d: kept; e: 0.25 is not > 0.25 → not a candidate.
      { i: 70, box: [32, 32, 64, 64], scores: { 1: 0.3 } },
      { i: 71, box: [0, 0, 8, 8], scores: { 1: 0.25 } },
    ]);
    const manifest = syntheticYoloSegManifest(64, 3);
    // Image 128x64 → r = 0.5, resized 64x32, top pad round(16 − 0.1) = 16: x = X / 0.5, y = (Y − 16) / 0.5.
    const res = postprocessYoloSegReference(outputs, manifest, SETTINGS, { width: 128, height: 64 }, { width: 128, height: 64 });
    const got = res.detections.map((d) => [d.classIndex, d.score, ...d.box.map((v) => Math.round(v * 1000) / 1000)]);
    expect(got).toEqual([
      [2, Math.fround(0.9), 32, 0, 64, 32],
      [0, Math.fround(0.7), 32, 0, 64, 32],
      [1, Math.fround(0.3), 64, 32, 128, 64],
    ]);
    expect(res.records.map((r) => r.sourceIndex)).toEqual([10, 12, 70]);
    // Mask of a: proto crop cols/rows 4 ≤ c < 8 (box × 16/64), one proto pixel = 8 image px;
    // bilinear > 0 reaches at most one proto pixel beyond, never less than the box itself.
    const m = res.masks;
    let inside = 0,
      outsideFar = 0;
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 128; x++) {
        const on = maskBit(m, 0, x, y);
        if (x >= 32 && x < 64 && y >= 0 && y < 32 && on) inside++;
        if ((x < 24 || x >= 72 || y >= 40) && on) outsideFar++;
      }
    }
    expect(inside).toBe(32 * 32);
    expect(outsideFar).toBe(0);
    expect(res.detections[0]!.maskArea).toBeGreaterThanOrEqual(1024);
  });

  it('maxDetections and the display threshold cut the list, sorted by score', () => {
    const manifest = syntheticYoloSegManifest(320, 3);
    const outputs = syntheticYoloSegOutputs(5, 320, 3, 10);
    const all = postprocessYoloSegReference(outputs, manifest, SETTINGS, { width: 320, height: 320 });
    expect(all.detections.length).toBeGreaterThan(4);
    const scores = all.detections.map((d) => d.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(all.detections.some((d) => d.maskArea > 100)).toBe(true);
    const cut = postprocessYoloSegReference(outputs, manifest, { ...SETTINGS, maxDetections: 3 }, { width: 320, height: 320 });
    expect(cut.detections.map((d) => d.score)).toEqual(scores.slice(0, 3));
    const high = postprocessYoloSegReference(outputs, manifest, { ...SETTINGS, scoreThreshold: 0.6 }, { width: 320, height: 320 });
    expect(high.detections.map((d) => d.score)).toEqual(scores.filter((s) => s >= Math.fround(0.6)));
  });
});
