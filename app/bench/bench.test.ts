import { describe, expect, it } from 'vitest';
import { quantileSorted, summarize } from './stats';
import { scaledManifest, scaledYolactOutputs, syntheticYoloSegOutputs, YOLO_CLASSES } from './synthetic';
import { yolactRecordsReference } from '../families/yolact/reference';
import { yolactDecodeReference } from '../reference/yolactDecode';
import { syntheticYoloSegManifest } from '../families/yoloSeg/synthetic';
import { yoloSegRecordsReference } from '../families/yoloSeg/reference';
import { familyChain, PEER_CONFIG, peerConfigFor } from './paths';
import { trainingStep } from '../../bench/report';

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

describe('bench YOLO-seg section (paths 1–4 on synthetic outputs)', () => {
  const manifest = syntheticYoloSegManifest(640, YOLO_CLASSES);
  // The settings section 4 gives paths 1–3: the peer's own defaults.
  const settings = { scoreThreshold: PEER_CONFIG.score, topK: PEER_CONFIG.topK, nmsIou: PEER_CONFIG.iou, maxDetections: PEER_CONFIG.topK };

  it.each([1, 10, 100])('%i objects × 21 anchors: our reference keeps exactly the objects, Fast and greedy', (objects) => {
    const raw = syntheticYoloSegOutputs(99 + objects, objects, 20);
    const outputs = { output0: raw.output0, protos: raw.output1 };
    for (const nmsKind of ['fast', 'greedy'] as const) {
      const { records } = yoloSegRecordsReference(outputs, manifest, { ...settings, nmsKind });
      expect(records, nmsKind).toHaveLength(objects);
      expect(records.every((r) => Math.abs(r.score - 0.9) < 1e-6)).toBe(true);
    }
  });

  it('the peer gets our thresholds: top-k = maxDetections, same IoU, the larger score threshold', () => {
    expect(peerConfigFor({ scoreThreshold: 0.2, topK: 300, nmsIou: 0.7, nmsKind: 'fast', maxDetections: 100 }, 0.25)).toEqual({
      topK: 100,
      iou: 0.7,
      score: 0.25,
    });
    expect(peerConfigFor({ scoreThreshold: 0.3, topK: 300, nmsIou: 0.5, nmsKind: 'greedy', maxDetections: 40 }, 0.05)).toEqual({
      topK: 40,
      iou: 0.5,
      score: 0.3,
    });
  });

  it('paths 1–3 exist for the single-stage families only', () => {
    expect(familyChain('yolact')).not.toBeNull();
    expect(familyChain('yolo-seg')).not.toBeNull();
    expect(familyChain('maskrcnn')).toBeNull();
  });
});

describe('bench report', () => {
  it('reads the training step from a manifest note', () => {
    expect(trainingStep('trained from scratch on synthetic emoji-COCO (train split) for 1941 steps of batch 8 (80 min)')).toBe('step 1941');
    expect(trainingStep('weights from training step 681')).toBe('step 681');
    expect(trainingStep('no figure here')).toBe('');
    expect(trainingStep('from scratch: 4483 steps of batch 8 on 2 CPU cores, then 3213 steps of batch 32 on one GPU')).toBe('steps 4483 + 3213');
  });
});
