import { describe, expect, it } from 'vitest';
import type { PostprocessSettings } from '../../types';
import { postprocessYolactReference } from './reference';
import { levelSizes, yolactLayout, yolactLayoutFromDims } from './manifest';
import { handYolactOutputs as handOutputs, syntheticManifest, syntheticYolactOutputs, yolactPriors } from './synthetic';

const settings: PostprocessSettings = { scoreThreshold: 0.15, topK: 200, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100 };
const manifest = syntheticManifest(64, 3);

describe('YOLACT layout', () => {
  it('derives the prior count and proto size from the input size', () => {
    expect(levelSizes(550)).toEqual([69, 35, 18, 9, 5]);
    expect(yolactLayout({ ...manifest, input: { ...manifest.input, width: 550, height: 550 }, classes: new Array<string>(80).fill('c') })).toEqual({
      numPriors: 19248,
      numClasses: 80,
      numPrototypes: 32,
      protoWidth: 138,
      protoHeight: 138,
    });
    expect(yolactLayout({ ...manifest, input: { ...manifest.input, width: 384, height: 384 } }).numPriors).toBe(9207);
    expect(yolactPriors(550, 550).length / 4).toBe(19248);
  });
  it('rejects outputs that are not YOLACT’s', () => {
    const out = handOutputs([]);
    const dims = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.dims]));
    expect(() => yolactLayoutFromDims({ ...dims, proto: [1, 32, 16, 16] })).toThrow(/proto/);
    expect(() => yolactLayoutFromDims({ ...dims, loc: [1, 257, 4] })).toThrow(/loc/);
    const { loc: _loc, ...withoutLoc } = dims;
    expect(() => yolactLayoutFromDims(withoutLoc)).toThrow(/loc/);
  });
});

describe('postprocessYolactReference', () => {
  it('hand case: boxes, classes, Fast NMS suppression, mask areas by hand', () => {
    const out = handOutputs([
      { prior: 10, cls: 2, score: 0.9, box: [0.25, 0.25, 0.5, 0.5] },
      { prior: 20, cls: 2, score: 0.8, box: [0.26, 0.25, 0.51, 0.5] }, // IoU ≈ 0.92 with prior 10
      { prior: 30, cls: 0, score: 0.7, box: [0.5, 0.5, 1, 1] },
      { prior: 40, cls: 1, score: 0.1, box: [0, 0, 0.5, 0.5] }, // below the display threshold
    ]);
    const { detections, masks } = postprocessYolactReference(out, manifest, settings, { width: 64, height: 64 });
    expect(detections.map((d) => [d.classIndex, d.score])).toEqual([
      [2, Math.fround(0.9)],
      [0, Math.fround(0.7)],
    ]);
    expect(detections[0]!.box).toEqual([16, 16, 32, 32]);
    expect(detections[1]!.box).toEqual([32, 32, 64, 64]);
    // Crop [0.25, 0.5)·16 padded → proto columns 3..8 → image columns 12..35 (24 px) each way.
    // Crop [0.5, 1)·16 padded → proto columns 7..15 → image columns 28..63 (36 px).
    // Bilinear rounds the corners: at a corner pixel both weights are 0.625 → 0.39 < 0.5, so
    // each corner inside the image loses one pixel (the second mask has one such corner).
    expect(detections.map((d) => d.maskArea)).toEqual([24 * 24 - 4, 36 * 36 - 1]);
    expect(masks.width).toBe(64);
    expect(masks.wordsPerRow).toBe(2);
    const row20 = masks.bits.subarray(20 * 2, 20 * 2 + 2); // instance 0, row 20
    expect(Array.from(row20)).toEqual([0xfffff000, 0x0f]); // columns 12..35
  });

  it('image of another size: boxes scale back through the stretch, masks at image size', () => {
    const out = handOutputs([{ prior: 10, cls: 2, score: 0.9, box: [0.25, 0.25, 0.5, 0.5] }]);
    const { detections, masks } = postprocessYolactReference(out, manifest, settings, { width: 128, height: 32 });
    expect(detections[0]!.box).toEqual([32, 8, 64, 16]);
    expect([masks.width, masks.height]).toEqual([128, 32]);
    // proto columns 3..8 → image columns 24..71 at 8 px a proto pixel; rows 6..17 at 2 px;
    // minus one pixel at each corner (weights 0.5625 · 0.75 = 0.42 < 0.5).
    expect(detections[0]!.maskArea).toBe(48 * 12 - 4);
  });

  it('Fast NMS and greedy NMS differ on a chain A ⊃ B ⊃ C', () => {
    // IoU(A, B) = IoU(B, C) = 0.538 > 0.5, IoU(A, C) = 0.25: Fast NMS also drops C (its
    // suppressor B was itself suppressed), greedy keeps it.
    const out = handOutputs([
      { prior: 5, cls: 1, score: 0.9, box: [0, 0, 0.2, 0.2] },
      { prior: 6, cls: 1, score: 0.8, box: [0.06, 0, 0.26, 0.2] },
      { prior: 7, cls: 1, score: 0.7, box: [0.12, 0, 0.32, 0.2] },
    ]);
    const fast = postprocessYolactReference(out, manifest, settings, { width: 64, height: 64 });
    const greedy = postprocessYolactReference(out, manifest, { ...settings, nmsKind: 'greedy' }, { width: 64, height: 64 });
    expect(fast.detections.map((d) => d.score)).toEqual([Math.fround(0.9)]);
    expect(greedy.detections.map((d) => d.score)).toEqual([Math.fround(0.9), Math.fround(0.7)]);
  });

  it('no candidates: empty detections, empty masks of the image size', () => {
    const { detections, masks } = postprocessYolactReference(handOutputs([]), manifest, settings, { width: 40, height: 30 });
    expect(detections).toEqual([]);
    expect(masks.bits.length).toBe(0);
    expect([masks.width, masks.height, masks.wordsPerRow]).toEqual([40, 30, 2]);
  });

  it('synthetic outputs: sorted scores, clamped boxes, at most maxDetections, areas = popcounts', () => {
    const out = syntheticYolactOutputs(7, 96, 6, 5);
    const m = syntheticManifest(96, 6);
    const { detections, masks } = postprocessYolactReference(out, m, { ...settings, maxDetections: 12, scoreThreshold: 0.05 }, { width: 160, height: 120 });
    expect(detections.length).toBeGreaterThan(2);
    expect(detections.length).toBeLessThanOrEqual(12);
    for (let i = 1; i < detections.length; i++) expect(detections[i]!.score).toBeLessThanOrEqual(detections[i - 1]!.score);
    const plane = masks.height * masks.wordsPerRow;
    detections.forEach((d, n) => {
      expect(d.box[0]).toBeGreaterThanOrEqual(0);
      expect(d.box[2]).toBeLessThanOrEqual(160);
      expect(d.box[3]).toBeLessThanOrEqual(120);
      let bits = 0;
      for (const w of masks.bits.subarray(n * plane, (n + 1) * plane)) for (let v = w; v; v &= v - 1) bits++;
      expect(d.maskArea).toBe(bits);
    });
  });
});
