/**
 * Every YOLO-seg export layout on real ONNX files (models/yoloseg/make_test_models.py: tiny
 * untrained networks), run with onnxruntime-web's wasm backend in Node:
 *
 * - transposed output0 [1, N, 4+nc+32] and the dynamic-input export, both made from the
 *   standard nc80 model's weights: the same instances as nc80 (reference chain), and the GPU
 *   chain given the transposed buffer (yoloSegLayout first) the same as the reference;
 * - the fp16 export: the image fed as float16, outputs read as float16 — the GPU chain on the
 *   raw f16 buffers (yoloSegLayout unpacks them) gives what the reference gives on the same
 *   values as f32; the values themselves are close to the f32 model's;
 * - the end-to-end export vs its PyTorch rows and an Ultralytics-style post-processing of them
 *   (test/families/yoloSeg/fixtures/e2e-tiny.json, written by make_test_models.py).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as OrtTypes from 'onnxruntime-web';
import { withDevice } from '../../../test/gpu';
import { maskIou } from '../../../test/families/conformance';
import { uploadStorage } from '../../gpu/buffers';
import type { Detection, InstanceMasks, ModelManifest, PostprocessSettings } from '../../types';
import { preprocessReference, resizeGeometry } from '../../reference/preprocess';
import { maskSizeFor } from '../../reference/maskAssembly';
import { manifestFromOnnx } from '../detect';
import { floatsToHalfBits, halfBitsToFloat32 } from './layout';
import { postprocessYoloSegReference, type RawOutput } from './reference';
import { createGpuPostprocessor } from './gpu';
import type { OutputShape } from '../common/oneStage';

const ROOT = join(__dirname, '..', '..', '..');
const TEST_MODELS = join(ROOT, 'models', 'yoloseg', 'test');
type Ort = typeof OrtTypes;
let ort: Ort;

beforeAll(async () => {
  ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist') + '/';
});

interface Run {
  manifest: ModelManifest;
  /** As the app's CPU side holds them: f32 (float16 converted exactly). */
  outputs: Record<string, RawOutput>;
  /** ORT's own tensors' types and, for float16, the raw bits. */
  types: Record<string, string>;
  halfBits: Record<string, Uint16Array>;
}

/** Detects `file`, runs it on `tensor` (f32 [1, 3, H, W]; fed as float16 where the model takes that), as the app's CPU seam does. */
async function run(file: string, tensor: Float32Array): Promise<Run> {
  const bytes = new Uint8Array(readFileSync(join(TEST_MODELS, file)));
  const { manifest, missing } = manifestFromOnnx(bytes, { fileName: file, url: '' });
  expect(missing).toEqual([]);
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const dims = [1, 3, manifest.input.height, manifest.input.width];
  const half = session.inputMetadata[0]!.isTensor && session.inputMetadata[0]!.type === 'float16';
  const feed = half ? new ort.Tensor('float16', floatsToHalfBits(tensor), dims) : new ort.Tensor('float32', tensor, dims);
  const results = await session.run({ [manifest.input.name]: feed });
  const outputs: Record<string, RawOutput> = {};
  const types: Record<string, string> = {};
  const halfBits: Record<string, Uint16Array> = {};
  for (const [logical, name] of Object.entries(manifest.outputs)) {
    const t = results[name]!;
    types[logical] = t.type;
    if (t.type === 'float16') {
      halfBits[logical] = t.data as Uint16Array;
      outputs[logical] = { data: halfBitsToFloat32(t.data as Uint16Array), dims: t.dims };
    } else outputs[logical] = { data: t.data as Float32Array, dims: t.dims };
  }
  await session.release();
  return { manifest, outputs, types, halfBits };
}

const sample = jpeg.decode(readFileSync(join(ROOT, 'public', 'samples', 'sample-1.jpg')), { useTArray: true, formatAsRGBA: true });
const image = { width: sample.width, height: sample.height };
const letterboxed = (manifest: ModelManifest) => preprocessReference(sample.data, sample.width, sample.height, manifest.input).tensor;
// Untrained: scores near 0.5 everywhere; 40 kept keeps the mask step short (as model.test.ts).
const settingsOf = (m: ModelManifest): PostprocessSettings => ({ ...m.defaults, maxDetections: 40 });

/** Same instances: count, classes, scores (1e-6), boxes (1e-3 px), masks (IoU ≥ `minMaskIou`). */
function expectSame(a: { detections: Detection[]; masks: InstanceMasks }, b: { detections: Detection[]; masks: InstanceMasks }, minMaskIou = 1): string {
  expect(a.detections.length).toBe(b.detections.length);
  expect(a.detections.length).toBeGreaterThan(0);
  let maxBox = 0;
  let maxScore = 0;
  let minIou = 1;
  a.detections.forEach((d, i) => {
    const e = b.detections[i]!;
    expect(d.classIndex).toBe(e.classIndex);
    maxScore = Math.max(maxScore, Math.abs(d.score - e.score));
    d.box.forEach((v, k) => (maxBox = Math.max(maxBox, Math.abs(v - e.box[k]!))));
    minIou = Math.min(minIou, maskIou(a.masks, b.masks, i));
  });
  expect(maxScore).toBeLessThanOrEqual(1e-6);
  expect(maxBox).toBeLessThanOrEqual(1e-3);
  expect(minIou).toBeGreaterThanOrEqual(minMaskIou);
  return `${a.detections.length} instances, max score Δ ${maxScore.toExponential(1)}, max box Δ ${maxBox.toExponential(1)} px, min mask IoU ${minIou.toFixed(4)}`;
}

/** The GPU chain on `buffers` (as bound by the runner) with this frame's `shapes`. */
async function gpuChain(
  device: GPUDevice,
  manifest: ModelManifest,
  buffers: Record<string, GPUBuffer>,
  shapes: Record<string, OutputShape>,
  settings: PostprocessSettings,
): Promise<{ detections: Detection[]; masks: InstanceMasks }> {
  const post = createGpuPostprocessor(device, manifest, maskSizeFor(image.width, image.height));
  try {
    const encoder = device.createCommandEncoder();
    post.encode(encoder, buffers, settings, resizeGeometry(image.width, image.height, manifest.input).transform, image, shapes);
    device.queue.submit([encoder.finish()]);
    const { detections } = await post.readResult();
    return { detections, masks: await post.readMasks() };
  } finally {
    post.destroy();
    for (const b of Object.values(buffers)) b.destroy();
  }
}

const shapesOf = (r: Run): Record<string, OutputShape> =>
  Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, { dims: v.dims, type: r.types[k] }]));

describe('YOLO-seg export layouts on real ONNX files', () => {
  let standard: Run;
  let standardResult: ReturnType<typeof postprocessYoloSegReference>;
  beforeAll(async () => {
    standard = await run(
      'yoloseg-tiny-320-nc80.onnx',
      letterboxed(manifestFromOnnx(new Uint8Array(readFileSync(join(TEST_MODELS, 'yoloseg-tiny-320-nc80.onnx'))), { fileName: 'x', url: '' }).manifest),
    );
    standardResult = postprocessYoloSegReference(standard.outputs, standard.manifest, settingsOf(standard.manifest), image);
  }, 120_000);

  it('transposed output0 [1, 2100, 116] (nc80 weights): the same instances as nc80, on the reference and the GPU chain', async () => {
    const t = await run('yoloseg-tiny-320-nc80-transposed.onnx', letterboxed(standard.manifest));
    expect(t.outputs.output0!.dims).toEqual([1, 2100, 116]);
    // The values are nc80's, transposed.
    const [n, rows] = [2100, 116];
    let maxDiff = 0;
    for (let r = 0; r < rows; r++)
      for (let a = 0; a < n; a++) maxDiff = Math.max(maxDiff, Math.abs(t.outputs.output0!.data[a * rows + r]! - standard.outputs.output0!.data[r * n + a]!));
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    const ref = postprocessYoloSegReference(t.outputs, t.manifest, settingsOf(t.manifest), image);
    console.log(`transposed vs nc80, reference: ${expectSame(ref, standardResult)} (max output Δ ${maxDiff.toExponential(1)})`);
    const gpu = await withDevice((device) =>
      gpuChain(
        device,
        t.manifest,
        { output0: uploadStorage(device, 'output0', t.outputs.output0!.data), protos: uploadStorage(device, 'protos', t.outputs.protos!.data) },
        shapesOf(t),
        settingsOf(t.manifest),
      ),
    );
    console.log(`transposed, GPU chain vs nc80 reference: ${expectSame(gpu, standardResult, 0.98)}`);
  }, 180_000);

  it('dynamic input [batch, 3, height, width] at its imgsz (320): the same instances as nc80', async () => {
    const d = await run('yoloseg-tiny-dynamic-nc80.onnx', letterboxed(standard.manifest));
    expect(d.manifest.input).toMatchObject({ width: 320, height: 320 });
    expect(d.outputs.output0!.dims).toEqual([1, 116, 2100]);
    expect(d.outputs.protos!.dims).toEqual([1, 32, 80, 80]);
    const ref = postprocessYoloSegReference(d.outputs, d.manifest, settingsOf(d.manifest), image);
    console.log(`dynamic vs nc80, reference: ${expectSame(ref, standardResult)}`);
  }, 180_000);

  it('fp16 export: f16 in, f16 out; the GPU chain on the raw f16 buffers = the reference on the same values; close to the f32 model', async () => {
    const h = await run('yoloseg-tiny-320-nc80-fp16.onnx', letterboxed(standard.manifest));
    expect(h.types).toEqual({ output0: 'float16', protos: 'float16' });
    // f16 weights and activations: boxes within a few input pixels of the f32 model's, scores within 0.01.
    const o16 = h.outputs.output0!.data;
    const o32 = standard.outputs.output0!.data;
    let boxDiff = 0;
    let scoreDiff = 0;
    for (let i = 0; i < o32.length; i++) {
      const row = Math.floor(i / 2100);
      if (row < 4) boxDiff = Math.max(boxDiff, Math.abs(o16[i]! - o32[i]!));
      else if (row < 84) scoreDiff = Math.max(scoreDiff, Math.abs(o16[i]! - o32[i]!));
    }
    console.log(`fp16 vs f32 model outputs: max box Δ ${boxDiff.toFixed(3)} px, max score Δ ${scoreDiff.toExponential(2)}`);
    expect(boxDiff).toBeLessThan(4);
    expect(scoreDiff).toBeLessThan(0.01);
    const ref = postprocessYoloSegReference(h.outputs, h.manifest, settingsOf(h.manifest), image);
    const gpu = await withDevice((device) =>
      gpuChain(
        device,
        h.manifest,
        { output0: uploadStorage(device, 'output0', h.halfBits.output0!), protos: uploadStorage(device, 'protos', h.halfBits.protos!) },
        shapesOf(h),
        settingsOf(h.manifest),
      ),
    );
    console.log(`fp16, GPU chain on f16 buffers vs reference: ${expectSame(gpu, ref, 0.98)}`);
  }, 180_000);
});

interface E2eFixture {
  model: string;
  inputSize: number;
  confThreshold: number;
  rows: number[][];
  detections: Array<{ box: number[]; score: number; classIndex: number; maskRuns: number[] }>;
}

/** make_test_models.py's fixed_input: integer stripes and blocks / 255, [1, 3, S, S]. */
function fixedInput(size: number): Float32Array {
  const t = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) t[(c * size + y) * size + x] = ((x * 7 + y * 3 + c * 85 + Math.floor(x / 40) * Math.floor(y / 40) * 37) % 256) / 255;
  return t;
}

/** Row-major run lengths (zeros first) → InstanceMasks plane n of `into`. */
function fillRuns(into: InstanceMasks, n: number, runs: number[]): void {
  let p = 0;
  runs.forEach((len, i) => {
    if (i % 2 === 1) {
      for (let k = p; k < p + len; k++) {
        const y = Math.floor(k / into.width);
        const x = k - y * into.width;
        const w = (n * into.height + y) * into.wordsPerRow + (x >> 5);
        into.bits[w] = (into.bits[w]! | (1 << (x & 31))) >>> 0;
      }
    }
    p += len;
  });
}

describe('YOLO-seg end-to-end export vs PyTorch and an Ultralytics-style post-processing', () => {
  it('rows as PyTorch wrote them; the app keeps the same instances with the same masks (reference and GPU chain)', async () => {
    const fixture = JSON.parse(readFileSync(join(ROOT, 'test', 'families', 'yoloSeg', 'fixtures', 'e2e-tiny.json'), 'utf8')) as E2eFixture;
    const size = fixture.inputSize;
    const r = await run(fixture.model, fixedInput(size));
    const rows = r.outputs.detections!;
    expect(rows.dims).toEqual([1, 300, 38]);
    // Every PyTorch row (x1, y1, x2, y2, score, class) is one of ORT's rows, at the same
    // place unless rows of equal scores (the fixed input repeats, so do features) are ordered
    // otherwise by the two top-k implementations. Rows tied with the last row's score are left
    // out: which of equal candidates make the cut is the top-k implementation's choice.
    let maxRowDiff = 0;
    let reordered = 0;
    const used = new Set<number>();
    const at = (j: number) => Array.from(rows.data.subarray(j * 38, j * 38 + 6));
    const last = fixture.rows[299]![4]!;
    const above = fixture.rows.filter((row) => row[4]! > last + 2e-6);
    expect(above.length).toBeGreaterThan(250);
    above.forEach((want, i) => {
      const close = (j: number) =>
        !used.has(j) &&
        at(j)[5] === want[5] &&
        Math.abs(at(j)[4]! - want[4]!) < 2e-6 &&
        at(j)
          .slice(0, 4)
          .every((v, k) => Math.abs(v - want[k]!) < 1e-3);
      const j = close(i) ? i : (Array.from({ length: 300 }, (_, k) => k).find(close) ?? -1);
      expect(j, `PyTorch row ${i} (${want.join(', ')}) not found in ORT's rows`).toBeGreaterThanOrEqual(0);
      expect(Math.abs(at(j)[4]! - at(i)[4]!), `row ${i}: its match has another score`).toBeLessThan(2e-6);
      if (j !== i) reordered++;
      used.add(j);
      at(j).forEach((v, k) => (maxRowDiff = Math.max(maxRowDiff, Math.abs(v - want[k]!))));
    });
    // Ultralytics' layout: scores descending, class indices integral floats in 0..79, boxes x1 < x2, y1 < y2.
    for (let i = 0; i < 300; i++) {
      const [x1, y1, x2, y2, score, cls] = Array.from(rows.data.subarray(i * 38, i * 38 + 6));
      if (i > 0) expect(score!).toBeLessThanOrEqual(rows.data[(i - 1) * 38 + 4]! + 1e-6);
      expect(Number.isInteger(cls) && cls! >= 0 && cls! < 80).toBe(true);
      expect(x1! < x2! && y1! < y2!).toBe(true);
    }
    // The same anchor may fill several rows with different classes (not agnostic).
    const boxes = new Set(fixture.rows.map((row) => row.slice(0, 4).join(',')));
    console.log(
      `end-to-end: ${above.length} of 300 ORT rows (the rest tie with the last) vs PyTorch, max Δ ${maxRowDiff.toExponential(2)}, ${reordered} rows among equal scores placed otherwise; ${300 - boxes.size} rows repeat an anchor with another class`,
    );

    const manifest: ModelManifest = { ...r.manifest, defaults: { ...r.manifest.defaults, confThreshold: fixture.confThreshold } };
    const settings: PostprocessSettings = { ...manifest.defaults, scoreThreshold: 0, maxDetections: 300 };
    const img = { width: size, height: size };
    const want: InstanceMasks = {
      width: size,
      height: size,
      wordsPerRow: Math.ceil(size / 32),
      bits: new Uint32Array(fixture.detections.length * size * Math.ceil(size / 32)),
    };
    fixture.detections.forEach((d, n) => fillRuns(want, n, d.maskRuns));
    const compare = (got: { detections: Detection[]; masks: InstanceMasks }, what: string) => {
      expect(got.detections.length).toBe(fixture.detections.length);
      let minIou = 1;
      let maxBox = 0;
      const taken = new Set<number>();
      fixture.detections.forEach((w, n) => {
        // Ultralytics' boxes are not clipped; ours are clamped to the image for display.
        const clamped = w.box.map((v) => Math.min(Math.max(v, 0), size));
        // Matched by class, score and box (rows of equal scores may come in another order).
        const i = got.detections.findIndex(
          (g, k) =>
            !taken.has(k) && g.classIndex === w.classIndex && Math.abs(g.score - w.score) < 2e-6 && g.box.every((v, c) => Math.abs(v - clamped[c]!) < 1e-3),
        );
        expect(i, `${what}: PyTorch detection ${n} (class ${w.classIndex}, score ${w.score}, box ${clamped.join(', ')})`).toBeGreaterThanOrEqual(0);
        taken.add(i);
        const g = got.detections[i]!;
        g.box.forEach((v, k) => (maxBox = Math.max(maxBox, Math.abs(v - clamped[k]!))));
        const plane = size * want.wordsPerRow;
        const one = (m: InstanceMasks, k: number): InstanceMasks => ({ ...m, bits: m.bits.subarray(k * plane, (k + 1) * plane) });
        minIou = Math.min(minIou, maskIou(one(got.masks, i), one(want, n), 0));
      });
      console.log(
        `end-to-end, ${what}: ${got.detections.length} instances as PyTorch/Ultralytics, max box Δ ${maxBox.toExponential(2)} px, min mask IoU ${minIou.toFixed(4)}`,
      );
      expect(maxBox).toBeLessThan(1e-3);
      expect(minIou).toBeGreaterThanOrEqual(0.98);
    };
    const ref = postprocessYoloSegReference(r.outputs, manifest, settings, img, img);
    compare(ref, 'reference chain');
    const gpu = await withDevice(async (device) => {
      const post = createGpuPostprocessor(device, manifest, img);
      const buffers = { detections: uploadStorage(device, 'detections', rows.data), protos: uploadStorage(device, 'protos', r.outputs.protos!.data) };
      try {
        const encoder = device.createCommandEncoder();
        post.encode(encoder, buffers, settings, resizeGeometry(size, size, manifest.input).transform, img, shapesOf(r));
        device.queue.submit([encoder.finish()]);
        const { detections } = await post.readResult();
        return { detections, masks: await post.readMasks() };
      } finally {
        post.destroy();
        for (const b of Object.values(buffers)) b.destroy();
      }
    });
    compare(gpu, 'GPU chain');
  }, 180_000);
});
