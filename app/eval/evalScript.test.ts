/**
 * End to end test of scripts/eval.ts on a tiny synthetic dataset written to a temporary
 * folder (a PNG and a JPEG with COCO ground truth), with a stand-in model runner and
 * post-processor whose detections are known, so the expected AP is computed by hand.
 * The real ORT + YOLACT reference chain is exercised by `npm run eval` itself.
 */
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage, runModelEvaluation, type PostprocessFn } from '../../scripts/eval';
import type { Detection, InstanceMasks, ModelManifest } from '../types';
import { evaluateCoco } from './cocoEval';
import { loadCocoGroundTruth, loadCocoResults } from './dataset';
import { encodeMask, toCocoRle, type XywhBox } from './rle';

function rectMask(box: XywhBox, h: number, w: number): Uint8Array {
  const m = new Uint8Array(h * w);
  for (let y = box[1]; y < box[1] + box[3]; y++) for (let x = box[0]; x < box[0] + box[2]; x++) m[y * w + x] = 1;
  return m;
}

function packRects(boxes: XywhBox[], h: number, w: number): InstanceMasks {
  const wordsPerRow = Math.ceil(w / 32);
  const bits = new Uint32Array(boxes.length * h * wordsPerRow);
  boxes.forEach((b, n) => {
    for (let y = b[1]; y < b[1] + b[3]; y++) for (let x = b[0]; x < b[0] + b[2]; x++) bits[(n * h + y) * wordsPerRow + (x >>> 5)]! |= 1 << (x & 31);
  });
  return { width: w, height: h, wordsPerRow, bits };
}

describe('npm run eval (scripts/eval.ts), synthetic end to end', () => {
  it('decodes, runs, post-processes, evaluates and writes the report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segarena-eval-'));
    mkdirSync(join(dir, 'val'));
    mkdirSync(join(dir, 'annotations'));
    // Image 1: PNG 40x30, a red square; image 2: JPEG 48x32.
    const png = new PNG({ width: 40, height: 30 });
    for (let i = 0; i < 40 * 30; i++) png.data.set([200, 10, 10, 255], 4 * i);
    writeFileSync(join(dir, 'val', 'a.png'), PNG.sync.write(png));
    const jpg = jpeg.encode({ data: Buffer.alloc(48 * 32 * 4, 128), width: 48, height: 32 }, 95);
    writeFileSync(join(dir, 'val', 'b.jpg'), jpg.data);

    const gtBoxes: Record<number, { box: XywhBox; cat: number }[]> = {
      1: [{ box: [5, 5, 10, 10], cat: 1 }],
      2: [
        { box: [2, 2, 10, 10], cat: 1 },
        { box: [20, 10, 10, 10], cat: 2 },
      ],
    };
    const size: Record<number, [number, number]> = { 1: [30, 40], 2: [32, 48] };
    let annId = 1;
    const gtJson = {
      images: [
        { id: 1, file_name: 'a.png', width: 40, height: 30 },
        { id: 2, file_name: 'b.jpg', width: 48, height: 32 },
      ],
      categories: [
        { id: 1, name: 'person' },
        { id: 2, name: 'bicycle' },
      ],
      annotations: Object.entries(gtBoxes).flatMap(([imageId, list]) =>
        list.map(({ box, cat }) => {
          const [h, w] = size[Number(imageId)]!;
          return {
            id: annId++,
            image_id: Number(imageId),
            category_id: cat,
            bbox: box,
            area: box[2] * box[3],
            iscrowd: 0,
            segmentation: toCocoRle(encodeMask(rectMask(box, h, w), h, w)),
          };
        }),
      ),
    };
    writeFileSync(join(dir, 'annotations', 'instances_val.json'), JSON.stringify(gtJson));
    const manifest: ModelManifest = {
      id: 'fake',
      name: 'fake',
      family: 'yolact',
      url: 'fake.onnx',
      input: { name: 'input', width: 16, height: 8, resize: 'stretch', channels: 'rgb', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
      outputs: { out: 'out' },
      classes: ['person', 'bicycle'],
      defaults: { scoreThreshold: 0.15, topK: 200, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100, confThreshold: 0.05 },
    };
    writeFileSync(join(dir, 'fake.json'), JSON.stringify(manifest));

    const inputs: Float32Array[] = [];
    // Detections per image, in call order (images go in id order):
    // image 1: the GT exactly (0.9); image 2: class 0 exactly (0.8), class 1 shifted so
    // that IoU = 6·10 / 100 = 0.6 (a 6x10 box inside the 10x10 GT) (0.7).
    const planned: { boxes: XywhBox[]; classes: number[]; scores: number[] }[] = [
      { boxes: [[5, 5, 10, 10]], classes: [0], scores: [0.9] },
      {
        boxes: [
          [2, 2, 10, 10],
          [20, 10, 6, 10],
        ],
        classes: [0, 1],
        scores: [0.8, 0.7],
      },
    ];
    let call = 0;
    const postprocess: PostprocessFn = (outputs, m, settings, imageSize) => {
      expect(outputs.out!.dims).toEqual([1]);
      expect(settings.scoreThreshold).toBe(0); // COCO eval: no display threshold
      expect(m.id).toBe('fake');
      const p = planned[call++]!;
      const detections: Detection[] = p.boxes.map((b, n) => ({
        box: [b[0], b[1], b[0] + b[2], b[1] + b[3]],
        score: p.scores[n]!,
        classIndex: p.classes[n]!,
        maskArea: b[2] * b[3],
      }));
      return { detections, masks: packRects(p.boxes, imageSize.height, imageSize.width) };
    };
    const logs: string[] = [];
    const out = join(dir, 'report.json');
    const resultsOut = join(dir, 'results.json');
    const report = await runModelEvaluation(
      { manifestPath: join(dir, 'fake.json'), dataDir: dir, split: 'val', out, resultsOut, log: (l) => logs.push(l) },
      {
        createRunner: async () => async (input) => {
          inputs.push(input);
          return { out: { data: new Float32Array(1), dims: [1] } };
        },
        postprocess,
      },
    );
    // Preprocess ran: [1, 3, 8, 16] tensors; the red PNG gives R = 200 everywhere.
    expect(inputs).toHaveLength(2);
    expect(inputs[0]!.length).toBe(3 * 8 * 16);
    expect(inputs[0]![0]).toBeCloseTo(200, 4);
    expect(inputs[0]![8 * 16]).toBeCloseTo(10, 4);
    // category 1: perfect → AP 1; category 2: IoU 0.6 → AP 3/10; mean = 0.65.
    expect(report.mask!.summary.ap).toBeCloseTo(0.65, 12);
    expect(report.box!.summary.ap).toBeCloseTo(0.65, 12);
    expect(report.mask!.summary.ap50).toBeCloseTo(1, 12);
    expect(report.boundary!.summary.ap).toBeLessThanOrEqual(report.mask!.summary.ap + 1e-12);
    expect(report.detections).toBe(3);
    expect(logs.join('\n')).toMatch(/mask\s+0\.650/);
    // The report and the COCO results file are written; the results re-evaluate the same.
    expect((JSON.parse(readFileSync(out, 'utf8')) as { model: string }).model).toBe('fake');
    const ds = loadCocoGroundTruth(gtJson);
    const { dts } = loadCocoResults(JSON.parse(readFileSync(resultsOut, 'utf8')), ds);
    const again = evaluateCoco({ images: ds.images, categories: ds.categories, gts: ds.gts, dts, iouType: 'segm' });
    expect(again.summary.ap).toBeCloseTo(0.65, 12);
  });

  it('decodes PNG and JPEG to RGBA', () => {
    const dir = mkdtempSync(join(tmpdir(), 'segarena-img-'));
    const png = new PNG({ width: 3, height: 2 });
    png.data.fill(0);
    png.data.set([1, 2, 3, 255], 4 * 4); // pixel (1, 1)
    writeFileSync(join(dir, 'x.png'), PNG.sync.write(png));
    const a = decodeImage(join(dir, 'x.png'));
    expect([a.width, a.height]).toEqual([3, 2]);
    expect([...a.data.slice(16, 20)]).toEqual([1, 2, 3, 255]);
    writeFileSync(join(dir, 'y.jpg'), jpeg.encode({ data: Buffer.alloc(8 * 8 * 4, 200), width: 8, height: 8 }, 100).data);
    const b = decodeImage(join(dir, 'y.jpg'));
    expect([b.width, b.height]).toEqual([8, 8]);
    expect(Math.abs(b.data[0]! - 200)).toBeLessThanOrEqual(2);
  });
});
