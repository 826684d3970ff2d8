/**
 * ONNX check of the bundled YOLO-seg export, run by `onnx_check.py` (which writes the letterboxed
 * input of public/samples/sample-1.jpg and PyTorch's outputs into DIR):
 *   1. onnxruntime-web (wasm EP, Node, as `npm run eval`) on the same input vs PyTorch: max |Δ| per output;
 *   2. the app's letterbox (app/reference/preprocess.ts) vs the training letterbox (cv2, data.py).
 *   npx tsx models/yoloseg/onnx_check.mts [DIR]
 */
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIR = process.argv[2] ?? '/tmp/yoloseg-onnx-check';
import { preprocessReference } from '../../app/reference/preprocess';
import type { ModelManifest } from '../../app/types';
const manifest = JSON.parse(readFileSync(REPO + '/models/yoloseg/yoloseg-416.json', 'utf8')) as ModelManifest;
const f32 = (p: string) => new Float32Array(readFileSync(p).buffer.slice(0));
const input = f32(`${DIR}/input.bin`),
  o0 = f32(`${DIR}/output0.bin`),
  o1 = f32(`${DIR}/output1.bin`);
const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = REPO + '/node_modules/onnxruntime-web/dist/';
const session = await ort.InferenceSession.create(readFileSync(REPO + '/models/yoloseg/yoloseg-416.onnx'), { executionProviders: ['wasm'] });
const maxDiff = (a: Float32Array, b: Float32Array) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const r = await session.run({ images: new ort.Tensor('float32', input, [1, 3, 416, 416]) });
const a0 = r.output0!.data as Float32Array,
  a1 = r.output1!.data as Float32Array;
const n = r.output0!.dims[2]!;
const rows = (a: Float32Array, from: number, to: number) => a.subarray(from * n, to * n);
console.log(
  `ORT wasm vs PyTorch, max |Δ|: output0 ${JSON.stringify(r.output0!.dims)} boxes (px) ${maxDiff(rows(a0, 0, 4), rows(o0, 0, 4))}, ` +
    `scores ${maxDiff(rows(a0, 4, 84), rows(o0, 4, 84))}, coefficients ${maxDiff(rows(a0, 84, 116), rows(o0, 84, 116))}; ` +
    `output1 ${JSON.stringify(r.output1!.dims)} ${maxDiff(a1, o1)}`,
);
// the app's letterbox (TypeScript reference) vs the training letterbox (cv2) on the same image
const img = jpeg.decode(readFileSync(REPO + '/public/samples/sample-1.jpg'), { useTArray: true, formatAsRGBA: true });
const { tensor, geometry } = preprocessReference(img.data, img.width, img.height, manifest.input);
let sum = 0;
for (let i = 0; i < tensor.length; i++) sum += Math.abs(tensor[i]! - input[i]!);
console.log('app preprocess vs training letterbox: max |d|', maxDiff(tensor, input), 'mean |d|', sum / tensor.length, JSON.stringify(geometry.transform));
