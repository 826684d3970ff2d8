import { describe, expect, it } from 'vitest';
import { defaultParams, evaluateCoco, formatSummary, type DetectionResult, type EvalImage, type GroundTruth, type IouType } from './cocoEval';
import { encodeMask, type Rle, type XywhBox } from './rle';

// Helpers: boxes double as rectangular masks, so the same case runs as 'bbox' and 'segm'.
const W = 200;
const H = 150;

function rectMask(box: XywhBox, h = H, w = W): Rle {
  const m = new Uint8Array(h * w);
  for (let y = box[1]; y < box[1] + box[3]; y++) for (let x = box[0]; x < box[0] + box[2]; x++) m[y * w + x] = 1;
  return encodeMask(m, h, w);
}

/** Same as rectMask, built straight from runs (for the big timing case). */
function rectRle(box: XywhBox, h: number, w: number): Rle {
  const [x0, y0, bw, bh] = box;
  const counts = [x0 * h + y0];
  for (let x = 0; x < bw; x++) {
    counts.push(bh);
    counts.push(x < bw - 1 ? h - bh : h - y0 - bh + (w - x0 - bw) * h);
  }
  return { height: h, width: w, counts };
}

let nextId = 1;
function gt(imageId: number, box: XywhBox, opts: { crowd?: boolean; cat?: number } = {}): GroundTruth {
  return {
    id: nextId++,
    imageId,
    categoryId: opts.cat ?? 1,
    bbox: box,
    area: box[2] * box[3],
    iscrowd: opts.crowd ?? false,
    segmentation: rectMask(box),
  };
}
function dt(imageId: number, box: XywhBox, score: number, cat = 1): DetectionResult {
  return { imageId, categoryId: cat, score, bbox: box, segmentation: rectMask(box) };
}
const images = (n: number): EvalImage[] => Array.from({ length: n }, (_, i) => ({ id: i + 1, width: W, height: H }));
const cats = [
  { id: 1, name: 'person' },
  { id: 2, name: 'dog' },
];

function run(gts: GroundTruth[], dts: DetectionResult[], iouType: IouType = 'bbox', nImages = 1) {
  return evaluateCoco({ images: images(nImages), categories: cats, gts, dts, iouType });
}

describe('COCO evaluation, hand-computed cases', () => {
  it('thresholds and recall points are the reference values', () => {
    const p = defaultParams();
    expect(p.iouThresholds).toHaveLength(10);
    expect(p.iouThresholds[0]).toBe(0.5);
    expect(p.iouThresholds[2]).toBe(0.6);
    expect(p.iouThresholds[5]).toBe(0.75);
    expect(p.iouThresholds[9]).toBe(0.95);
    expect(p.recallThresholds).toHaveLength(101);
    expect(p.recallThresholds[50]).toBe(0.5);
  });

  for (const iouType of ['bbox', 'segm', 'boundary'] as const) {
    it(`a perfect detection gives AP 1 (${iouType})`, () => {
      const r = run([gt(1, [10, 10, 20, 20])], [dt(1, [10, 10, 20, 20], 0.9)], iouType);
      // area 400 → small; medium/large have no GT → −1.
      // Precision 1 is tp / (tp + fp + eps) = 1 − 2⁻⁵², as in the reference: close to 1.
      const expected = [1, 1, 1, 1, -1, -1, 1, 1, 1, 1, -1, -1];
      r.stats.forEach((s, j) => expect(s).toBeCloseTo(expected[j]!, 12));
      expect(r.perCategory[0]!.ap).toBeCloseTo(1, 12);
      expect(r.perCategory[1]!.ap).toBe(-1); // no GT of category 2
    });
  }

  it('a false positive ranked above both true positives: AP = 2/3', () => {
    // 2 GTs; detections by score: FP, TP, TP → recall 0, .5, 1; precision 0, 1/2, 2/3;
    // made monotone from the right: 2/3 everywhere → every recall point samples 2/3.
    const r = run(
      [gt(1, [0, 0, 20, 20]), gt(1, [100, 100, 20, 20])],
      [dt(1, [50, 50, 20, 20], 0.9), dt(1, [0, 0, 20, 20], 0.8), dt(1, [100, 100, 20, 20], 0.7)],
    );
    expect(r.summary.ap).toBeCloseTo(2 / 3, 12);
    expect(r.summary.ap50).toBeCloseTo(2 / 3, 12);
    expect(r.summary.ar100).toBeCloseTo(1, 12);
  });

  it('a false positive between two true positives: AP = (51 + 50·2/3) / 101', () => {
    // TP, FP, TP: recall .5, .5, 1; precision 1, 1/2, 2/3 → monotone 1, 2/3, 2/3.
    // Recall points 0..0.50 (51 of them) take index 0 → 1; 0.51..1 (50) → 2/3.
    const r = run(
      [gt(1, [0, 0, 20, 20]), gt(1, [100, 100, 20, 20])],
      [dt(1, [0, 0, 20, 20], 0.9), dt(1, [50, 50, 20, 20], 0.8), dt(1, [100, 100, 20, 20], 0.7)],
    );
    expect(r.summary.ap).toBeCloseTo((51 + (50 * 2) / 3) / 101, 12);
    expect(r.prCurves.perCategory[0]!.iou50[50]).toBeCloseTo(1, 12);
    expect(r.prCurves.perCategory[0]!.iou50[51]).toBeCloseTo(2 / 3, 12);
    expect(r.prCurves.mean.iou50[51]).toBeCloseTo(2 / 3, 12); // category 2 undefined, left out
  });

  for (const iouType of ['bbox', 'segm'] as const) {
    it(`a detection at IoU exactly 0.6 counts for thresholds .50, .55, .60: AP = 3/10 (${iouType})`, () => {
      // GT 10x10, detection 6x10 inside it: IoU = 60 / 100.
      const r = run([gt(1, [0, 0, 10, 10])], [dt(1, [0, 0, 6, 10], 0.9)], iouType);
      expect(r.summary.ap).toBeCloseTo(3 / 10, 12);
      expect(r.summary.ap50).toBeCloseTo(1, 12);
      expect(r.summary.ap75).toBe(0);
      expect(r.summary.ar100).toBeCloseTo(3 / 10, 12);
    });
  }

  it('greedy matching by score: the higher-scored detection takes the GT', () => {
    // GT 10x10; D1 (0.9) IoU 0.8, D2 (0.8) IoU 0.9. Thresholds .50–.80 (7): D1 TP, D2 FP
    // → AP 1. Thresholds .85, .90: D1 FP, D2 TP → precision 1/2 → AP 1/2. .95: 0.
    const r = run([gt(1, [0, 0, 10, 10])], [dt(1, [0, 0, 8, 10], 0.9), dt(1, [0, 0, 9, 10], 0.8)]);
    expect(r.summary.ap).toBeCloseTo((7 + 0.5 + 0.5) / 10, 12);
  });

  it('a crowd GT is ignored: detections on it are neither TP nor FP', () => {
    const gts = [gt(1, [0, 0, 20, 20]), gt(1, [100, 50, 60, 60], { crowd: true })];
    // Two detections inside the crowd region (IoU with crowd = |D∩G|/|D| = 1), scored
    // above the true positive: without crowd handling AP would be 1/3.
    const dts = [dt(1, [100, 50, 20, 20], 0.95), dt(1, [130, 80, 20, 20], 0.93), dt(1, [0, 0, 20, 20], 0.9)];
    const r = run(gts, dts);
    expect(r.summary.ap).toBeCloseTo(1, 12);
    expect(r.perCategory[0]!.numGt).toBe(2);
    // The same GT not marked crowd: the two detections become FPs (IoU 400/3600 < .5)
    // and the big GT is missed: precision 1/3 at recall 1/2 → AP = 51/101 · 1/3.
    const gts2 = [gt(1, [0, 0, 20, 20]), gt(1, [100, 50, 60, 60])];
    const r2 = run(gts2, dts);
    expect(r2.summary.ap).toBeCloseTo((51 * (1 / 3)) / 101, 12);
  });

  it('area ranges: inclusive bounds, ignored GTs, unmatched detections outside the range', () => {
    // small GT (area 10·10 = 100), large GT (100·100 = 10000 > 96²), none detected except
    // the large one; plus a small false positive scored highest.
    const gts = [gt(1, [0, 0, 10, 10]), gt(1, [40, 40, 100, 100])];
    const dts = [dt(1, [180, 0, 5, 5], 0.99), dt(1, [40, 40, 100, 100], 0.9)];
    const r = evaluateCoco({ images: [{ id: 1, width: W, height: H }], categories: cats, gts, dts, iouType: 'bbox' });
    // all: FP, TP with 2 GTs → recall 0, .5; precision 0, .5 → monotone .5, .5 → 51 points at .5.
    expect(r.summary.ap).toBeCloseTo((51 * 0.5) / 101, 12);
    // small: the small GT is missed; the big detection matches the (ignored) big GT →
    // ignored; the small FP counts → precision 0 → AP 0.
    expect(r.summary.apSmall).toBe(0);
    // medium: no GT → −1.
    expect(r.summary.apMedium).toBe(-1);
    // large: the small FP is outside the range and unmatched → ignored → AP 1.
    expect(r.summary.apLarge).toBeCloseTo(1, 12);
    expect(r.summary.arLarge).toBeCloseTo(1, 12);
    expect(r.summary.arSmall).toBe(0);
  });

  it('an area exactly 32² is both small and medium', () => {
    const r = run([gt(1, [0, 0, 32, 32])], [dt(1, [0, 0, 32, 32], 0.5)]);
    expect(r.summary.apSmall).toBeCloseTo(1, 12);
    expect(r.summary.apMedium).toBeCloseTo(1, 12);
    expect(r.summary.apLarge).toBe(-1);
  });

  it('no detections: AP 0 where there are GTs; no GTs at all: −1', () => {
    const r = run([gt(1, [0, 0, 20, 20])], []);
    expect(r.summary.ap).toBe(0);
    expect(r.summary.ar100).toBe(0);
    const r2 = run([], [dt(1, [0, 0, 20, 20], 0.5)]);
    expect(r2.stats.every((s) => s === -1)).toBe(true);
  });

  it('detections on an image with no GT are false positives', () => {
    // image 2 has no GT; its detection (0.9) ranks above the TP of image 1 → AP 1/2.
    const r = run([gt(1, [0, 0, 20, 20])], [dt(2, [0, 0, 20, 20], 0.9), dt(1, [0, 0, 20, 20], 0.8)], 'segm', 2);
    expect(r.summary.ap).toBeCloseTo(0.5, 12);
  });

  it('detections of another category never match', () => {
    const r = run([gt(1, [0, 0, 20, 20])], [dt(1, [0, 0, 20, 20], 0.9, 2)]);
    expect(r.summary.ap).toBe(0);
    expect(r.perCategory[1]!.ap).toBe(-1); // category 2: detections but no GT
  });

  it('maxDets caps detections per image and category', () => {
    // Two GTs found by two detections: AR@1 = 1/2 (only the top one counts), AR@10 = 1.
    const r = run([gt(1, [0, 0, 20, 20]), gt(1, [50, 50, 20, 20])], [dt(1, [0, 0, 20, 20], 0.9), dt(1, [50, 50, 20, 20], 0.8)]);
    expect(r.summary.ar1).toBe(0.5);
    expect(r.summary.ar10).toBeCloseTo(1, 12);
    // 100 false positives scored above the only true positive: the TP is the 101st
    // detection and is cut → AP 0, AR 0.
    const fps = Array.from({ length: 100 }, (_, j) => dt(1, [100 + (j % 10) * 5, 100 + Math.floor(j / 10) * 4, 3, 3], 0.9 - j * 1e-4));
    const r2 = run([gt(1, [0, 0, 20, 20])], [...fps, dt(1, [0, 0, 20, 20], 0.1)]);
    expect(r2.summary.ap).toBe(0);
    expect(r2.summary.ar100).toBe(0);
    // 99 FPs: the TP is the 100th: precision 1/100 at recall 1.
    const r3 = run([gt(1, [0, 0, 20, 20])], [...fps.slice(0, 99), dt(1, [0, 0, 20, 20], 0.1)]);
    expect(r3.summary.ap).toBeCloseTo(0.01, 12);
    expect(r3.summary.ar100).toBeCloseTo(1, 12);
    expect(r3.summary.ar10).toBe(0);
  });

  it('categories are averaged: one perfect, one missed → AP 1/2', () => {
    const r = run([gt(1, [0, 0, 20, 20]), gt(1, [50, 50, 20, 20], { cat: 2 })], [dt(1, [0, 0, 20, 20], 0.9)]);
    expect(r.summary.ap).toBeCloseTo(0.5, 12);
    expect(r.perCategory[0]!.ap).toBeCloseTo(1, 12);
    expect(r.perCategory[1]!.ap).toBe(0);
    expect(formatSummary(r).split('\n')).toHaveLength(12);
  });

  it('ties in score keep input order (stable)', () => {
    // Equal scores: FP listed first then TP → as if FP ranked above: AP = 1/2.
    const a = run([gt(1, [0, 0, 20, 20])], [dt(1, [60, 60, 20, 20], 0.5), dt(1, [0, 0, 20, 20], 0.5)]);
    expect(a.summary.ap).toBeCloseTo(0.5, 12);
    const b = run([gt(1, [0, 0, 20, 20])], [dt(1, [0, 0, 20, 20], 0.5), dt(1, [60, 60, 20, 20], 0.5)]);
    expect(b.summary.ap).toBeCloseTo(1, 12);
  });

  it('boundary AP is at most mask AP, and lower for a shifted mask', () => {
    // 60x60 GT, detection shifted by 4 px: mask IoU = 56·60 / (2·3600 − 56·60) = 0.875;
    // boundary (d = round(0.02·250) = 5) IoU is much lower.
    const g = gt(1, [50, 40, 60, 60]);
    const d = dt(1, [54, 40, 60, 60], 0.9);
    const segm = run([g], [d], 'segm');
    const boundary = run([g], [d], 'boundary');
    expect(segm.summary.ap).toBeCloseTo(0.8, 12); // .50–.85 match (8/10)
    expect(boundary.summary.ap).toBeLessThan(segm.summary.ap);
  });

  it('is fast enough: 300 images × 100 detections (segm)', () => {
    const h = 240;
    const w = 320;
    const imgs: EvalImage[] = [];
    const gts: GroundTruth[] = [];
    const dts: DetectionResult[] = [];
    let seed = 1;
    const rand = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const mask = (b: XywhBox): Rle => rectRle(b, h, w);
    expect(rectRle([3, 2, 4, 5], 20, 30).counts).toEqual(rectMask([3, 2, 4, 5], 20, 30).counts);
    for (let i = 1; i <= 300; i++) {
      imgs.push({ id: i, width: w, height: h });
      for (let j = 0; j < 8; j++) {
        const b: XywhBox = [Math.floor(rand() * 250), Math.floor(rand() * 180), 10 + Math.floor(rand() * 60), 10 + Math.floor(rand() * 50)];
        gts.push({ id: nextId++, imageId: i, categoryId: 1 + (j % 2), bbox: b, area: b[2] * b[3], iscrowd: false, segmentation: mask(b) });
      }
      for (let j = 0; j < 100; j++) {
        const b: XywhBox = [Math.floor(rand() * 250), Math.floor(rand() * 180), 10 + Math.floor(rand() * 60), 10 + Math.floor(rand() * 50)];
        dts.push({ imageId: i, categoryId: 1 + (j % 2), score: rand(), bbox: b, segmentation: mask(b) });
      }
    }
    const t0 = performance.now();
    const r = evaluateCoco({ images: imgs, categories: cats, gts, dts, iouType: 'segm' });
    const ms = performance.now() - t0;
    const t1 = performance.now();
    evaluateCoco({ images: imgs, categories: cats, gts, dts, iouType: 'boundary' });
    const msB = performance.now() - t1;
    console.log(`segm eval of 300 images x 100 detections: ${ms.toFixed(0)} ms; boundary: ${msB.toFixed(0)} ms; AP ${r.summary.ap.toFixed(4)}`);
    expect(r.numDt).toBe(30000);
    expect(ms).toBeLessThan(30_000);
  });
});
