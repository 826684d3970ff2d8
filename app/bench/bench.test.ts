import { describe, expect, it } from 'vitest';
import { quantileSorted, summarize } from './stats';
import { scaledManifest, scaledYolactOutputs, syntheticYoloSegOutputs, YOLO_CLASSES } from './synthetic';
import { yolactRecordsReference } from '../families/yolact/reference';
import { yolactDecodeReference } from '../reference/yolactDecode';

describe('bench stats', () => {
  it('median and quartiles by linear interpolation (hand-computed)', () => {
    // sorted 1 2 4 8: positions (n-1)q = 0.75, 1.5, 2.25
    const s = summarize([8, 1, 4, 2]);
    expect(s.median).toBeCloseTo(3, 12);
    expect(s.q1).toBeCloseTo(1.75, 12);
    expect(s.q3).toBeCloseTo(5, 12);
    expect([s.min, s.max, s.n]).toEqual([1, 8, 4]);
    expect(quantileSorted([5], 0.25)).toBe(5);
    expect(summarize([]).n).toBe(0);
  });
});

describe('bench synthetic outputs', () => {
  const manifest = scaledManifest();
  const settings = { scoreThreshold: 0.1, topK: 200, nmsIou: 0.5, maxDetections: 100 };

  it.each([
    [10, 1],
    [1000, 10],
    [19248, 100],
  ])('%i candidates, %i kept, for Fast and greedy NMS', (candidates, kept) => {
    const raw = scaledYolactOutputs(3 + candidates, candidates, kept);
    const decoded = yolactDecodeReference(raw.loc!.data, raw.conf!.data, raw.priors!.data, 80, 0.05);
    expect(decoded.candidates).toHaveLength(candidates);
    for (const nmsKind of ['fast', 'greedy'] as const) {
      const { records } = yolactRecordsReference(raw, manifest, { ...settings, nmsKind });
      expect(records, nmsKind).toHaveLength(kept);
      expect(records.every((r) => Math.abs(r.score - 0.9) < 1e-6)).toBe(true);
    }
  });

  it('YOLO-seg layout: shapes, and objects × (duplicates + 1) anchors above 0.25', () => {
    const { output0, output1 } = syntheticYoloSegOutputs(5, 7, 3);
    expect(output0.dims).toEqual([1, 4 + 80 + 32, 8400]);
    expect(output1.dims).toEqual([1, 32, 160, 160]);
    let above = 0;
    for (let a = 0; a < 8400; a++) {
      let best = 0;
      for (let c = 0; c < YOLO_CLASSES; c++) best = Math.max(best, output0.data[(4 + c) * 8400 + a]!);
      if (best > 0.25) above++;
    }
    expect(above).toBe(7 * 4);
  });
});
