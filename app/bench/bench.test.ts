import { describe, expect, it } from 'vitest';
import { quantileSorted, summarize } from './stats';
import { scaledManifest, scaledYolactOutputs, syntheticYoloSegOutputs, YOLO_CLASSES } from './synthetic';
import { yolactRecordsReference } from '../families/yolact/reference';
import { yolactDecodeReference } from '../reference/yolactDecode';
import { syntheticYoloSegManifest } from '../families/yoloSeg/synthetic';
import { yoloSegRecordsReference } from '../families/yoloSeg/reference';
import { familyChain, PEER_CONFIG, peerConfigFor } from './paths';
import { trainingStep } from '../../bench/report';
import { agreement, type PeerResults } from './official';
import type { InstanceMasks } from '../types';

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

describe('bench path 5: instances of the official runtime against ours', () => {
  const W = 64;
  const H = 40;
  /** Our masks: one bit plane per instance, each the given rectangle. */
  function ourMasks(rects: [number, number, number, number][]): InstanceMasks {
    const wordsPerRow = Math.ceil(W / 32);
    const bits = new Uint32Array(rects.length * H * wordsPerRow);
    rects.forEach(([x0, y0, x1, y1], n) => {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) bits[n * H * wordsPerRow + y * wordsPerRow + (x >> 5)]! |= (1 << (x & 31)) >>> 0;
    });
    return { width: W, height: H, bits, wordsPerRow };
  }
  /** Its overlay: each box's rectangle (or `paint`) in its colour, alpha 140. */
  function peer(boxes: { box: [number, number, number, number]; cls: number; color: string; paint?: [number, number, number, number] }[]): PeerResults {
    const masks = new Uint8Array(W * H * 4);
    for (const b of boxes) {
      const [x0, y0, x1, y1] = b.paint ?? b.box;
      const rgb = [1, 3, 5].map((i) => parseInt(b.color.slice(i, i + 2), 16));
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) masks.set([...rgb, 140], 4 * (y * W + x));
    }
    return {
      width: W,
      height: H,
      boxes: boxes.map((b) => ({ x1: b.box[0], y1: b.box[1], x2: b.box[2], y2: b.box[3], conf: 0.9, cls: b.cls, color: b.color })),
      masks,
      speed: { preprocess: 0, inference: 0, postprocess: 0 },
    };
  }
  const det = (box: [number, number, number, number], classIndex: number) => ({ box, classIndex, score: 0.9, maskArea: 0 });

  it('matches by box IoU, counts same classes, and measures mask IoU from the overlay colour inside the box', () => {
    const ours = {
      detections: [det([0, 0, 20, 20], 3), det([30, 10, 50, 30], 7), det([55, 0, 64, 8], 1)],
      masks: ourMasks([
        [0, 0, 20, 20],
        [30, 10, 50, 30],
        [55, 0, 64, 8],
      ]),
    };
    const theirs = peer([
      // Same box, mask = the left half of ours: mask IoU 0.5.
      { box: [0, 0, 20, 20], cls: 3, color: '#FF0000', paint: [0, 0, 10, 20] },
      // Box shifted by 2 px (IoU 360 / 440), another class, full mask.
      { box: [32, 10, 52, 30], cls: 9, color: '#00FF00' },
    ]);
    const a = agreement(ours, theirs);
    expect([a.ours, a.peer, a.matched, a.sameClass]).toEqual([3, 2, 2, 1]);
    expect(a.meanBoxIou).toBeCloseTo((1 + 360 / 440) / 2, 6);
    expect(a.meanMaskIou).toBeCloseTo((0.5 + 360 / 440) / 2, 6);
    expect(a.oursClasses).toEqual([1, 3, 7]);
    expect(a.peerClasses).toEqual([3, 9]);
  });

  it('leaves boxes below IoU 0.5 unmatched (no mask IoU then)', () => {
    const a = agreement({ detections: [det([0, 0, 10, 10], 0)], masks: ourMasks([[0, 0, 10, 10]]) }, peer([{ box: [6, 0, 16, 10], cls: 0, color: '#0000FF' }]));
    expect(a.matched).toBe(0);
    expect(a.meanBoxIou).toBeNaN();
    expect(a.meanMaskIou).toBeNaN();
  });
});
