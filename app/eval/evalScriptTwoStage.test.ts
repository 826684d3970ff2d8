/**
 * `npm run eval` (scripts/eval.ts) on our two-stage Mask R-CNN, end to end with the bundled
 * ONNX parts: three ORT wasm sessions (backbone, box head, mask head) in Node, the
 * TypeScript reference RoI steps between them, the COCO export and the evaluator, on one
 * demo sample (public/samples, tracked in git; models/data is not).
 *
 * The bundled weights may still be an early checkpoint, so the figures are not tested; the
 * pipeline is, with expectations computed here independently of it:
 * - at score threshold 0 every RoI's 80 foreground softmax values are candidates, far more
 *   than the cap after per-class NMS: exactly maxDetections (100) come out;
 * - every mask lies inside its box (paste confines it to the box ± the padding pixel), with
 *   masks and boxes in image pixels (640x480) although the model sees 512x512;
 * - the COCO results file re-evaluates to the report's numbers, and ground truth made of the
 *   top detection's own box and mask gives AP 1 (box and mask) for its category;
 * - the RoIPool manifest really pools differently (other scores from the same backbone);
 * - `--record`'s sha256 of a two-stage model covers its three files (sha256 of the three hex
 *   digests joined, recomputed here), a one-file model's is the file's sha256 as before.
 *
 * Also: a public single-file Mask R-CNN export (the tiny torchvision-layout test model,
 * CHW input, int64 labels) goes through the eval without breaking it.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordAccuracy, runModelEvaluation, type EvalReport, type EvalSection } from '../../scripts/eval';
import type { ModelManifest } from '../types';
import { manifestFromOnnx } from '../families/detect';
import { evaluateCoco, type EvalImage, type GroundTruth } from './cocoEval';
import { loadCocoGroundTruth, loadCocoResults } from './dataset';
import { decodeRle, fromCocoRle, rleArea, type CocoRle } from './rle';

const ROOT = join(__dirname, '..', '..');
const SAMPLES = join(ROOT, 'public', 'samples');
const ANNOTATIONS = join(SAMPLES, 'annotations.json');
const ALIGN = join(ROOT, 'models', 'maskrcnn', 'maskrcnn-512.json');
const POOL = join(ROOT, 'models', 'maskrcnn', 'maskrcnn-512-roipool.json');
const TINY_EXPORT = join(ROOT, 'models', 'maskrcnn', 'test', 'maskrcnn-torchvision-tiny.onnx');

interface ResultEntry {
  image_id: number;
  category_id: number;
  bbox: [number, number, number, number];
  score: number;
  segmentation: CocoRle;
}

function readManifest(path: string): ModelManifest {
  return JSON.parse(readFileSync(path, 'utf8')) as ModelManifest;
}

/** The 12 COCO numbers are each in [0, 1] or −1 (no ground truth in that range); the summary repeats them. */
function expectWellFormed(s: EvalSection | undefined): void {
  expect(s).toBeDefined();
  expect(s!.stats).toHaveLength(12);
  for (const v of s!.stats) expect(v === -1 || (v >= 0 && v <= 1)).toBe(true);
  expect(s!.summary.ap).toBe(s!.stats[0]);
  expect(s!.summary.ap50).toBe(s!.stats[1]);
  expect(s!.summary.ar100).toBe(s!.stats[8]);
}

async function evalOne(manifestPath: string, dir: string, tag: string, scoreThreshold = 0) {
  const out = join(dir, `report-${tag}.json`);
  const resultsOut = join(dir, `results-${tag}.json`);
  const logs: string[] = [];
  const report = await runModelEvaluation({
    manifestPath,
    dataDir: SAMPLES,
    split: 'val',
    annotations: ANNOTATIONS,
    imagesDir: SAMPLES,
    limit: 1,
    scoreThreshold,
    out,
    resultsOut,
    log: (l) => logs.push(l),
  });
  const results = JSON.parse(readFileSync(resultsOut, 'utf8')) as ResultEntry[];
  return { report, results, logs, resultsOut };
}

describe('npm run eval on the two-stage Mask R-CNN (bundled parts, ORT wasm in Node)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'segarena-eval-2s-'));
  const gtJson = JSON.parse(readFileSync(ANNOTATIONS, 'utf8')) as { images: { id: number; width: number; height: number; file_name: string }[] };
  const firstImage = [...gtJson.images].sort((a, b) => a.id - b.id)[0]!;
  let align: Awaited<ReturnType<typeof evalOne>>;

  beforeAll(async () => {
    align = await evalOne(ALIGN, dir, 'align');
  }, 180_000);

  it('runs the three parts and the reference chain: 100 detections at score 0, a well-formed report', () => {
    const { report, logs } = align;
    const manifest = readManifest(ALIGN);
    expect(report.model).toBe('maskrcnn-512');
    expect(report.images).toBe(1);
    expect(report.settings.scoreThreshold).toBe(0);
    expect(report.settings.maxDetections).toBe(manifest.defaults.maxDetections);
    expect(report.detections).toBe(manifest.defaults.maxDetections);
    expect(report.path).toMatch(/box head and mask head/);
    expectWellFormed(report.mask);
    expectWellFormed(report.box);
    expectWellFormed(report.boundary);
    // Every stage of the chain was timed (heads = the two head sessions).
    const st = report.timings.stages!;
    for (const k of ['rpn', 'roi', 'heads', 'decode', 'nms', 'masks'] as const) expect(st[k]).toBeGreaterThan(0);
    expect(report.timings.inference).toBeGreaterThan(0);
    expect(report.timings.postprocess).toBeGreaterThanOrEqual(st.rpn! + st.roi! + st.heads!);
    expect(logs.join('\n')).toMatch(/two-stage \(RoIAlign\), score > 0/);
    expect(logs.join('\n')).toMatch(/of postprocess \(ms\): rpn /);
  });

  it('writes results in image pixels: known categories, masks inside their boxes', () => {
    const { results } = align;
    const manifest = readManifest(ALIGN);
    const ids = new Set(manifest.categoryIds);
    const { width: W, height: H } = firstImage;
    expect(results).toHaveLength(align.report.detections);
    let nonEmpty = 0;
    for (const r of results) {
      expect(r.image_id).toBe(firstImage.id);
      expect(ids.has(r.category_id)).toBe(true);
      expect(r.score).toBeGreaterThan(0);
      expect(r.score).toBeLessThanOrEqual(1);
      const [x, y, w, h] = r.bbox;
      expect(x).toBeGreaterThanOrEqual(0);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(x + w).toBeLessThanOrEqual(W + 0.01);
      expect(y + h).toBeLessThanOrEqual(H + 0.01);
      expect(r.segmentation.size).toEqual([H, W]);
      // Mask pixels (decodeRle: row-major [H, W]) inside the box grown as paste_masks_in_image
      // grows it: the 28x28 padded to 30x30 scales the box by 30/28 (side/28 more on each
      // side), the grown box is truncated to integers and covers int(x1 − x0 + 1) pixels:
      // + 2 px for the rounding.
      const mx = w / 28 + 2;
      const my = h / 28 + 2;
      const mask = decodeRle(fromCocoRle(r.segmentation));
      let worst = 0;
      let count = 0;
      for (let i = 0; i < mask.length; i++) {
        if (!mask[i]) continue;
        count++;
        const px = (i % W) + 0.5;
        const py = Math.floor(i / W) + 0.5;
        worst = Math.max(worst, x - px - mx, px - (x + w) - mx, y - py - my, py - (y + h) - my);
      }
      expect(worst, `mask of ${JSON.stringify(r.bbox)} outside its box by ${worst.toFixed(2)} px`).toBeLessThanOrEqual(0);
      if (count > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(0);
  });

  it('the results file re-evaluates to the report; the top detection as ground truth gives AP 1', () => {
    const { report, resultsOut, results } = align;
    const ds = loadCocoGroundTruth(JSON.parse(readFileSync(ANNOTATIONS, 'utf8')));
    const images = ds.images.filter((im) => im.id === firstImage.id);
    const { dts } = loadCocoResults(JSON.parse(readFileSync(resultsOut, 'utf8')), ds);
    expect(dts).toHaveLength(report.detections);
    const gts = ds.gts.filter((g) => g.imageId === firstImage.id);
    const again = evaluateCoco({ images, categories: ds.categories, gts, dts, iouType: 'segm' });
    expect(again.stats).toEqual(report.mask!.stats);

    // Ground truth = the best-scored non-empty detection's own mask and box: in its category
    // that detection comes first and matches at IoU 1, so AP = 1 whatever follows.
    const top = [...results].sort((a, b) => b.score - a.score).find((r) => rleArea(fromCocoRle(r.segmentation)) > 0)!;
    const sameCatAbove = results.filter((r) => r.category_id === top.category_id && r.score > top.score);
    expect(sameCatAbove).toHaveLength(0);
    const rle = fromCocoRle(top.segmentation);
    const selfGt: GroundTruth[] = [
      { id: 1, imageId: firstImage.id, categoryId: top.category_id, bbox: top.bbox, area: rleArea(rle), iscrowd: false, segmentation: rle },
    ];
    const cats = [{ id: top.category_id, name: 'c' }];
    const mine = dts.filter((d) => d.categoryId === top.category_id);
    const evalImages: EvalImage[] = images;
    for (const iouType of ['segm', 'bbox'] as const) {
      const r = evaluateCoco({ images: evalImages, categories: cats, gts: selfGt, dts: mine, iouType });
      expect(r.summary.ap, iouType).toBeCloseTo(1, 9);
    }
  });

  it('the RoIPool manifest pools differently (same backbone, other scores)', async () => {
    const pool = await evalOne(POOL, dir, 'pool');
    expect(pool.report.model).toBe('maskrcnn-512-roipool');
    expect(pool.report.detections).toBe(100);
    expectWellFormed(pool.report.mask);
    expect(pool.logs.join('\n')).toMatch(/two-stage \(RoIPool\)/);
    const top = (rs: ResultEntry[]) =>
      rs
        .map((r) => r.score)
        .sort((a, b) => b - a)
        .slice(0, 10);
    expect(top(pool.results)).not.toEqual(top(align.results));
  }, 180_000);

  it('records the sha256 of all three parts (and one file as before)', () => {
    const sha = (p: string) =>
      createHash('sha256')
        .update(readFileSync(join(ROOT, p)))
        .digest('hex');
    const report = align.report as EvalReport;
    // A copy of the manifest in a temporary folder: accuracy.json is written beside it.
    const manifest = readManifest(ALIGN);
    const copy = join(dir, 'maskrcnn-512.json');
    writeFileSync(copy, JSON.stringify(manifest));
    const entry = recordAccuracy(copy, report, ['--model', copy, '--limit', '1', '--record'], () => {});
    const parts = [manifest.url, manifest.twoStage!.boxHeadUrl, manifest.twoStage!.maskHeadUrl].map(sha);
    expect(entry.onnxSha256).toBe(createHash('sha256').update(parts.join('')).digest('hex'));
    expect(entry.partsSha256).toEqual({
      [manifest.url]: parts[0],
      [manifest.twoStage!.boxHeadUrl]: parts[1],
      [manifest.twoStage!.maskHeadUrl]: parts[2],
    });
    expect(entry.pooler).toBe('align');
    expect(entry.maskAP50).toBe(report.mask!.summary.ap50);
    const written = JSON.parse(readFileSync(join(dir, 'accuracy.json'), 'utf8')) as Record<string, typeof entry>;
    expect(written['maskrcnn-512']).toEqual(entry);

    // One-file models keep the plain file sha256 and no parts.
    const yolact = readManifest(join(ROOT, 'models', 'yolact', 'yolact-384.json'));
    const ycopy = join(dir, 'yolact-384.json');
    writeFileSync(ycopy, JSON.stringify(yolact));
    const y = recordAccuracy(ycopy, report, ['--model', ycopy], () => {});
    expect(y.onnxSha256).toBe(sha(yolact.url));
    expect(y.partsSha256).toBeUndefined();
    expect(y.pooler).toBeUndefined();
  });
});

describe('npm run eval on a public Mask R-CNN export (one file)', () => {
  it('runs the tiny torchvision-layout export (CHW input, int64 labels) without breaking', async () => {
    const { manifest } = manifestFromOnnx(new Uint8Array(readFileSync(TINY_EXPORT)), {
      fileName: 'maskrcnn-torchvision-tiny.onnx',
      url: TINY_EXPORT,
      inputSize: 64,
    });
    expect(manifest.family).toBe('maskrcnn');
    expect(manifest.twoStage).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'segarena-eval-exp-'));
    const path = join(dir, 'tiny.json');
    writeFileSync(path, JSON.stringify(manifest));
    const report = await runModelEvaluation({
      manifestPath: path,
      dataDir: SAMPLES,
      split: 'val',
      annotations: ANNOTATIONS,
      imagesDir: SAMPLES,
      limit: 1,
      log: () => {},
    });
    expect(report.images).toBe(1);
    expect(report.timings.stages).toBeUndefined();
    expectWellFormed(report.mask);
    expectWellFormed(report.box);
  }, 60_000);
});
