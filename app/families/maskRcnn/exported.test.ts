/**
 * The CPU chain of public Mask R-CNN exports (exported.ts) against expectations computed
 * independently: hand-made outputs, torchvision's own `paste_masks_in_image` (fixture made by
 * models/maskrcnn/make_public_test_models.py --paste-fixture), and the tiny exports run with
 * onnxruntime-web's wasm backend in Node (what their constants say must come out).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelManifest, PostprocessSettings } from '../../types';
import { resizeGeometry, preprocessReference } from '../../reference/preprocess';
import { maskBit } from '../../reference/maskAssembly';
import { maskPasteReference } from '../../reference/maskPaste';
import { seededRandom } from '../../util/random';
import { manifestFromOnnx } from '../detect';
import {
  COCO_CATEGORIES,
  exportedLayout,
  exportedRecordsFromOutputs,
  pastedMaskBitsReference,
  pasteBox,
  postprocessExportedReference,
  roiMaskBitsReference,
  type ExportedRawOutput,
} from './exported';

const ROOT = join(__dirname, '..', '..', '..');
const TEST_MODELS = join(ROOT, 'models', 'maskrcnn', 'test');

function manifestOf(file: string, inputSize?: number): ModelManifest {
  const bytes = new Uint8Array(readFileSync(join(TEST_MODELS, file)));
  return manifestFromOnnx(bytes, { fileName: file, url: '', inputSize }).manifest;
}

const settings = (over: Partial<PostprocessSettings> = {}): PostprocessSettings => ({
  scoreThreshold: 0.3,
  topK: 100,
  nmsIou: 0.5,
  nmsKind: 'fast',
  maxDetections: 100,
  ...over,
});

describe('COCO categories', () => {
  const shared = join(ROOT, '..', 'shared', 'emoji-coco.json');
  it.skipIf(!existsSync(shared))('match shared/emoji-coco.json (ids and names)', () => {
    const json = JSON.parse(readFileSync(shared, 'utf8')) as { categories: Array<{ id: number; name: string }> };
    expect(COCO_CATEGORIES.map(([id, name]) => ({ id, name }))).toEqual(json.categories.map(({ id, name }) => ({ id, name })));
  });
});

describe('exportedLayout and label mapping', () => {
  it('torchvision: COCO ids with gaps; zoo: contiguous 1..80', () => {
    const tv = exportedLayout(manifestOf('maskrcnn-torchvision-tiny.onnx'));
    expect(tv).toMatchObject({ masks: 'pasted', labels: 'coco-id', inputWidth: 640, numClasses: 80 });
    expect([tv.labelToClass[0], tv.labelToClass[1], tv.labelToClass[12], tv.labelToClass[13], tv.labelToClass[18], tv.labelToClass[90]]).toEqual([
      -1, 0, -1, 11, 16, 79,
    ]);
    const zoo = exportedLayout(manifestOf('maskrcnn-zoo-tiny.onnx'));
    expect(zoo).toMatchObject({ masks: 'roi', labels: 'contiguous' });
    expect([zoo.labelToClass[0], zoo.labelToClass[1], zoo.labelToClass[17], zoo.labelToClass[80], zoo.labelToClass[81]]).toEqual([-1, 0, 16, 79, -1]);
  });

  it('refuses a manifest without the exported outputs', () => {
    const m = manifestOf('maskrcnn-zoo-tiny.onnx');
    expect(() => exportedLayout({ ...m, outputs: { boxes: 'a', labels: 'b', scores: 'c' } })).toThrow(/neither “pastedMasks” nor “roiMasks”/);
    expect(() => exportedLayout({ ...m, outputs: { boxes: 'a', scores: 'c', roiMasks: 'd' } })).toThrow(/no “labels” output/);
  });
});

describe('exportedRecordsFromOutputs', () => {
  const manifest = manifestOf('maskrcnn-torchvision-tiny.onnx');
  // 6 rows: unsorted scores, a gap id (12), an id above 90, a score at the confidence threshold.
  const boxes = new Float32Array([0, 0, 64, 64, 10, 20, 30, 40, 320, 0, 640, 320, 1, 2, 3, 4, 5, 6, 7, 8, 100, 100, 200, 300]);
  const outputs = (labels: number[], scores: number[]): Record<string, ExportedRawOutput> => ({
    boxes: { data: boxes, dims: [6, 4] },
    labels: { data: BigInt64Array.from(labels.map(BigInt)), dims: [6] },
    scores: { data: new Float32Array(scores), dims: [6] },
    pastedMasks: { data: new Float32Array(6 * 640 * 640), dims: [6, 1, 640, 640] },
  });

  it('thresholds, maps labels, drops unknown ids, sorts (ties: lower row first), caps', () => {
    const out = outputs([18, 1, 12, 91, 3, 90], [0.6, 0.9, 0.95, 0.99, 0.6, 0.05]);
    const { records, candidateCount, droppedLabels } = exportedRecordsFromOutputs(out, manifest, settings({ scoreThreshold: 0.5 }));
    expect(droppedLabels).toBe(2);
    expect(candidateCount).toBe(3); // rows 0, 1, 4 (row 5 is not above confThreshold 0.05)
    expect(records.map((r) => [r.sourceIndex, r.classIndex])).toEqual([
      [1, 0],
      [0, 16],
      [4, 2],
    ]);
    expect(records[0]!.box).toEqual([10 / 640, 20 / 640, 30 / 640, 40 / 640].map(Math.fround));
    expect(records[0]!.score).toBe(Math.fround(0.9));
    const capped = exportedRecordsFromOutputs(out, manifest, settings({ scoreThreshold: 0.5, maxDetections: 2 }));
    expect(capped.records.map((r) => r.sourceIndex)).toEqual([1, 0]);
  });

  it('masks of another size than the input are refused with their shape', () => {
    const out = outputs([1, 1, 1, 1, 1, 1], [0.9, 0.9, 0.9, 0.9, 0.9, 0.9]);
    const wrong = { ...out, pastedMasks: { data: new Float32Array(6 * 640 * 640), dims: [6, 1, 320, 1280] } };
    expect(() => postprocessExportedReference(wrong, manifest, settings(), { width: 100, height: 100 })).toThrow(
      /is \[6, 1, 320, 1280\]; expected \[N, 1, 640, 640\]/,
    );
  });

  it('float labels (runOnCpu converts int64) give the same records; no rows gives none', () => {
    const out = outputs([18, 1, 12, 91, 3, 90], [0.6, 0.9, 0.95, 0.99, 0.6, 0.05]);
    const asFloat = { ...out, labels: { data: new Float32Array([18, 1, 12, 91, 3, 90]), dims: [6] } };
    expect(exportedRecordsFromOutputs(asFloat, manifest, settings()).records).toEqual(exportedRecordsFromOutputs(out, manifest, settings()).records);
    const empty: Record<string, ExportedRawOutput> = {
      boxes: { data: new Float32Array(0), dims: [0, 4] },
      labels: { data: new BigInt64Array(0), dims: [0] },
      scores: { data: new Float32Array(0), dims: [0] },
      pastedMasks: { data: new Float32Array(0), dims: [0, 1, 640, 640] },
    };
    expect(exportedRecordsFromOutputs(empty, manifest, settings()).records).toEqual([]);
  });
});

describe('pastedMaskBitsReference', () => {
  it('a letterboxed image: the mask region maps back exactly (hand-computed edges)', () => {
    // Input 64x64; image 128x64 → r = 0.5, resized 64x32, pad top 16. Plane: 1 on input rows
    // 16..47 (the image) × cols 0..31 (its left half) → image x < 64 (x = 63 samples 0.75,
    // x = 64 samples 0.25), every row (y = 0 samples row 15.75 → 0.75, y = 63 → 47.25 → 0.75).
    const input = { width: 64, height: 64 };
    const image = { width: 128, height: 64 };
    const transform = resizeGeometry(128, 64, {
      name: 'x',
      width: 64,
      height: 64,
      resize: 'letterbox',
      channels: 'rgb',
      scale: 1,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    }).transform;
    expect(transform).toMatchObject({ gainX: 0.5, offsetY: 16 });
    const planes = new Float32Array(2 * 64 * 64);
    for (let y = 16; y < 48; y++) for (let x = 0; x < 32; x++) planes[64 * 64 + y * 64 + x] = 1;
    const { masks, areas } = pastedMaskBitsReference([{ sourceIndex: 1 }], planes, input, transform, image, image);
    expect(areas).toEqual([64 * 64]);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 128; x++) expect(maskBit(masks, 0, x, y)).toBe(x < 64);
    // At half resolution (mask 64x32): mask x < 32.
    const half = pastedMaskBitsReference([{ sourceIndex: 1 }], planes, input, transform, image, { width: 64, height: 32 });
    expect(half.areas).toEqual([32 * 32]);
  });
});

describe('roiMaskBitsReference (paste with padding 1)', () => {
  it('an all-ones 28x28 mask in box [10, 10, 38, 38] fills pixels 10..38 (hand-computed)', () => {
    // Expanded box: centre 24, half 14·30/28 = 15 → x1 = 9, x2 = 39, w = 31. Column j samples
    // (j + 0.5)·30/31 − 0.5 of the zero-padded 30 grid: j = 0 → 0 (pad), j = 1 → 0.95,
    // j = 29 → 0.95, j = 30 → 0 (pad); so x = 10..38 are set: 29 x 29.
    expect(pasteBox([10, 10, 38, 38])).toEqual({ x1: 9, y1: 9, w: 31, h: 31 });
    const image = { width: 64, height: 64 };
    const identity = { inputWidth: 64, inputHeight: 64, gainX: 1, gainY: 1, offsetX: 0, offsetY: 0 };
    const { masks, areas } = roiMaskBitsReference(
      [{ box: [10 / 64, 10 / 64, 38 / 64, 38 / 64], sourceIndex: 0 }],
      new Float32Array(784).fill(1),
      identity,
      image,
      image,
    );
    expect(areas).toEqual([29 * 29]);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) expect(maskBit(masks, 0, x, y)).toBe(x >= 10 && x <= 38 && y >= 10 && y <= 38);
  });

  it("matches torchvision's paste_masks_in_image on random masks and boxes (border, tiny box)", () => {
    const fx = JSON.parse(readFileSync(join(TEST_MODELS, 'paste-fixture.json'), 'utf8')) as {
      width: number;
      height: number;
      boxes: number[][];
      masks: number[];
      pasted: number[];
    };
    const { width: w, height: h } = fx;
    const image = { width: w, height: h };
    const identity = { inputWidth: w, inputHeight: h, gainX: 1, gainY: 1, offsetX: 0, offsetY: 0 };
    const records = fx.boxes.map((b, n) => ({ box: [b[0]! / w, b[1]! / h, b[2]! / w, b[3]! / h] as [number, number, number, number], sourceIndex: n }));
    const { masks, areas } = roiMaskBitsReference(records, new Float32Array(fx.masks), identity, image, image);
    let mismatches = 0;
    let near = 0;
    let expectedArea = 0;
    for (let n = 0; n < records.length; n++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const v = fx.pasted[(n * h + y) * w + x]!;
          const want = v > 0.5;
          if (want) expectedArea++;
          if (maskBit(masks, n, x, y) !== want) {
            if (Math.abs(v - 0.5) < 1e-5) near++;
            else mismatches++;
          }
        }
      }
    }
    console.log(`paste vs torchvision: ${expectedArea} mask pixels, ${mismatches} mismatches, ${near} within 1e-5 of 0.5`);
    expect(expectedArea).toBeGreaterThan(300);
    expect(mismatches).toBe(0);
    expect(areas.reduce((a, b) => a + b, 0)).toBe(expectedArea - 0); // no ties in this fixture
  });
});

describe('roiMaskBitsReference vs the two-stage maskPasteReference (a second implementation)', () => {
  it('the same pixels for probabilities p and logits log(p / (1 − p)), letterboxed, capped mask', () => {
    const rand = seededRandom(5);
    const count = 5;
    const probs = new Float32Array(count * 784).map(() => 0.02 + 0.96 * rand());
    // maskPasteReference reads [M, K + 1, 28, 28] logits, channel classIndex + 1 of row n.
    const logits = new Float32Array(count * 2 * 784);
    for (let n = 0; n < count; n++) for (let i = 0; i < 784; i++) logits[(2 * n + 1) * 784 + i] = Math.log(probs[n * 784 + i]! / (1 - probs[n * 784 + i]!));
    const records = Array.from({ length: count }, () => {
      const x = rand() * 0.8 - 0.05;
      const y = rand() * 0.8 - 0.05;
      return { box: [x, y, x + 0.05 + rand() * 0.4, y + 0.05 + rand() * 0.4] as [number, number, number, number], classIndex: 0 };
    });
    const image = { width: 210, height: 130 };
    const mask = { width: 105, height: 65 };
    const transform = resizeGeometry(image.width, image.height, {
      name: 'x',
      width: 96,
      height: 96,
      resize: 'letterbox',
      channels: 'rgb',
      scale: 1,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    }).transform;
    const mine = roiMaskBitsReference(
      records.map((r, n) => ({ box: r.box, sourceIndex: n })),
      probs,
      transform,
      image,
      mask,
      28,
      true,
    );
    const theirs = maskPasteReference(records, logits, { numClasses: 1, maskSize: 28 }, transform, image, mask, true);
    let mismatches = 0;
    let total = 0;
    for (let n = 0; n < count; n++) {
      for (let y = 0; y < mask.height; y++) {
        for (let x = 0; x < mask.width; x++) {
          const a = maskBit(mine.masks, n, x, y);
          if (a) total++;
          if (a !== maskBit(theirs.masks, n, x, y) && Math.abs(mine.soft![(n * mask.height + y) * mask.width + x]! - 0.5) > 1e-5) mismatches++;
        }
      }
    }
    console.log(`roi paste vs maskPasteReference: ${total} pixels, ${mismatches} mismatches`);
    expect(total).toBeGreaterThan(500);
    expect(mismatches).toBe(0);
  });
});

/** The tiny exports run in onnxruntime-web (wasm) in Node on a flat grey image. */
async function runTiny(manifest: ModelManifest, file: string, width: number, height: number): Promise<Record<string, ExportedRawOutput>> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist') + '/';
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(join(TEST_MODELS, file))), { executionProviders: ['wasm'] });
  const rgba = new Uint8Array(width * height * 4).fill(128);
  const { tensor } = preprocessReference(rgba, width, height, manifest.input);
  const results = await session.run({ [manifest.input.name]: new ort.Tensor('float32', tensor, [3, manifest.input.height, manifest.input.width]) });
  const outputs: Record<string, ExportedRawOutput> = {};
  for (const [logical, name] of Object.entries(manifest.outputs))
    outputs[logical] = { data: results[name]!.data as ExportedRawOutput['data'], dims: results[name]!.dims };
  await session.release();
  return outputs;
}

describe('postprocessExportedReference on the tiny exports (ORT wasm in Node)', () => {
  // Image 200x100 letterboxed into 64x64: r = 0.32, resized 64x32, pad top 16. A box at
  // fractions (a, b, c, d) of the INPUT is, in image pixels, x = a·64/0.32 = 200a, y = (64b − 16)/0.32.
  const toImage = ([a, b, c, d]: number[]) =>
    [200 * a!, (64 * b! - 16) / 0.32, 200 * c!, (64 * d! - 16) / 0.32].map((v, i) => Math.min(Math.max(v, 0), i % 2 ? 100 : 200));

  it('torchvision-like: person and dog kept, gap id 12 and the 0.03 row dropped, pasted masks mapped back', async () => {
    const manifest = manifestOf('maskrcnn-torchvision-tiny.onnx', 64);
    const outputs = await runTiny(manifest, 'maskrcnn-torchvision-tiny.onnx', 200, 100);
    expect(outputs.labels!.data).toBeInstanceOf(BigInt64Array);
    expect(outputs.pastedMasks!.dims).toEqual([4, 1, 64, 64]);
    const result = postprocessExportedReference(outputs, manifest, settings(), { width: 200, height: 100 });
    expect(result.detections.map((d) => manifest.classes[d.classIndex])).toEqual(['person', 'dog']);
    expect(result.droppedLabels).toBe(1);
    expect(result.detections[0]!.box[0]).toBeCloseTo(20, 3);
    expect(result.detections[0]!.box.map((v) => Math.round(v))).toEqual(toImage([0.1, 0.1, 0.5, 0.6]).map(Math.round));
    expect(result.detections[1]!.box.map((v) => Math.round(v))).toEqual(toImage([0.55, 0.2, 0.9, 0.8]).map(Math.round));
    // Person: the whole box (input px 6.4..32 x 6.4..38.4 → pixel centres 6.5..31.5 × 6.5..37.5
    // = 26 x 32 input pixels, rows 16+ inside the image) → about 80 x (38.4 − 16)/0.32 = 70 rows.
    const [x1, y1, x2, y2] = result.detections[0]!.box;
    const boxArea = (x2 - x1) * (y2 - y1);
    expect(result.detections[0]!.maskArea / boxArea).toBeGreaterThan(0.9);
    expect(result.detections[0]!.maskArea / boxArea).toBeLessThan(1.1);
    // Dog: the left half of its box only.
    const [dx1, dy1, dx2, dy2] = result.detections[1]!.box;
    expect(result.detections[1]!.maskArea / ((dx2 - dx1) * (dy2 - dy1))).toBeCloseTo(0.5, 1);
    expect(maskBit(result.masks, 1, Math.floor(dx1 + 2), Math.floor((dy1 + dy2) / 2))).toBe(true);
    expect(maskBit(result.masks, 1, Math.floor(dx2 - 2), Math.floor((dy1 + dy2) / 2))).toBe(false);
  }, 60_000);

  it('zoo-like: labels 1 and 17 → person and dog, 81 dropped, 28x28 discs pasted into the boxes', async () => {
    const manifest = manifestOf('maskrcnn-zoo-tiny.onnx', 64);
    // A square image: no letterbox pad, so no box is clipped (box = fractions · 200).
    const outputs = await runTiny(manifest, 'maskrcnn-zoo-tiny.onnx', 200, 200);
    const result = postprocessExportedReference(outputs, manifest, settings({ scoreThreshold: 0.01 }), { width: 200, height: 200 });
    expect(result.detections[1]!.box.map((v) => Math.round(v))).toEqual([110, 40, 180, 160]);
    expect(result.detections.map((d) => manifest.classes[d.classIndex])).toEqual(['person', 'dog']);
    expect(result.droppedLabels).toBe(1);
    // A disc of radius 10/28 of the box side: area ≈ π·(10/28)² = 0.40 of the box; row 1 the upper half.
    const ratio = (n: number) => {
      const [x1, y1, x2, y2] = result.detections[n]!.box;
      return result.detections[n]!.maskArea / ((x2 - x1) * (y2 - y1));
    };
    expect(ratio(0)).toBeGreaterThan(0.34);
    expect(ratio(0)).toBeLessThan(0.46);
    expect(ratio(1)).toBeGreaterThan(0.16);
    expect(ratio(1)).toBeLessThan(0.24);
    const [x1, y1, x2, y2] = result.detections[0]!.box;
    expect(maskBit(result.masks, 0, Math.round((x1 + x2) / 2), Math.round((y1 + y2) / 2))).toBe(true);
    expect(maskBit(result.masks, 0, Math.ceil(x1) + 1, Math.ceil(y1) + 1)).toBe(false);
  }, 60_000);
});

/**
 * Opt-in (REAL_MASKRCNN=/tmp/maskrcnn_resnet50_fpn.onnx, made by
 * `make_public_test_models.py --real`; ~1 min on 2 cores): the real torchvision export
 * (random weights) through ORT wasm: what ORT returns must be the layout detect.ts assumed.
 */
const REAL = process.env.REAL_MASKRCNN ?? '';
describe.skipIf(!REAL || !existsSync(REAL))('the real torchvision maskrcnn_resnet50_fpn export (opt-in)', () => {
  it('recognised, run at 320x320, post-processed', async () => {
    const bytes = new Uint8Array(readFileSync(REAL));
    const { manifest } = manifestFromOnnx(bytes, { fileName: 'maskrcnn_resnet50_fpn.onnx', url: '', inputSize: 320 });
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist') + '/';
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const [w, h] = [300, 200];
    const rgba = new Uint8Array(w * h * 4).map((_, i) => (i * 7919) % 251);
    const { tensor } = preprocessReference(rgba, w, h, manifest.input);
    const results = await session.run({ [manifest.input.name]: new ort.Tensor('float32', tensor, [3, 320, 320]) });
    const outputs: Record<string, ExportedRawOutput> = {};
    for (const [logical, name] of Object.entries(manifest.outputs))
      outputs[logical] = { data: results[name]!.data as ExportedRawOutput['data'], dims: results[name]!.dims };
    await session.release();
    expect(results[manifest.outputs.labels!]!.type).toBe('int64');
    expect(outputs.pastedMasks!.dims.slice(1)).toEqual([1, 320, 320]);
    const r = postprocessExportedReference(outputs, manifest, settings({ scoreThreshold: 0 }), { width: w, height: h });
    console.log(`real export: ${outputs.boxes!.dims[0]} rows, ${r.detections.length} detections, ${r.droppedLabels} labels dropped`);
    for (const d of r.detections) {
      expect(d.box[0]).toBeGreaterThanOrEqual(0);
      expect(d.box[2]).toBeLessThanOrEqual(w);
    }
  }, 600_000);
});
