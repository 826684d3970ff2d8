// Runs one ONNX file with onnxruntime-web's wasm backend in Node (no onnxruntime for
// Python here), for models/*/verify_onnx.py (models/common/onnx_check.py).
//   node models/common/ort_run.mjs MODEL.onnx DIR
// DIR/feeds.json: { name: { dims: [..], file: 'x.f32' } }; raw little-endian float32 inputs.
// Writes DIR/out-<name>.f32 for every output and DIR/outputs.json { name: dims }.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const [modelPath, dir] = process.argv.slice(2);
const ort = await import(join(root, 'node_modules', 'onnxruntime-web', 'dist', 'ort.node.min.mjs')).catch(() => import('onnxruntime-web'));
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = join(root, 'node_modules', 'onnxruntime-web', 'dist') + '/';
const session = await ort.InferenceSession.create(readFileSync(modelPath), { executionProviders: ['wasm'] });
const spec = JSON.parse(readFileSync(join(dir, 'feeds.json'), 'utf8'));
const feeds = {};
for (const [name, { dims, file }] of Object.entries(spec)) {
  const buf = readFileSync(join(dir, file));
  feeds[name] = new ort.Tensor('float32', new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), dims);
}
const results = await session.run(feeds);
const dims = {};
for (const [name, t] of Object.entries(results)) {
  const data = t.data;
  writeFileSync(join(dir, `out-${name}.f32`), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  dims[name] = t.dims;
}
writeFileSync(join(dir, 'outputs.json'), JSON.stringify(dims));
await session.release();
