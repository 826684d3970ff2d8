/**
 * ExportedGpuPostprocessor (Dawn) against postprocessExportedReference on the outputs of the
 * tiny exports (models/maskrcnn/test) run with onnxruntime-web's wasm backend in Node: the
 * same records, the same mask bits (no pixel may differ: the masks here hold no value
 * within f32 rounding of 0.5), labels uploaded as ORT's int64 (the webgpu path's buffers)
 * and as float32 (runOnCpu's conversion, the wasm+gpu path); an empty frame (N = 0).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withDevice } from '../../../test/gpu';
import type { ModelManifest, PostprocessSettings } from '../../types';
import { uploadStorage } from '../../gpu/buffers';
import { preprocessReference, resizeGeometry } from '../../reference/preprocess';
import { maskSizeFor } from '../../reference/maskAssembly';
import { manifestFromOnnx } from '../detect';
import { postprocessExportedReference, type ExportedRawOutput } from './exported';
import { createExportedGpuPostprocessor, type OutputShape } from './exportedGpu';

const ROOT = join(__dirname, '..', '..', '..');

async function runTiny(
  file: string,
  image: { width: number; height: number },
): Promise<{ manifest: ModelManifest; outputs: Record<string, ExportedRawOutput> }> {
  const bytes = new Uint8Array(readFileSync(join(ROOT, 'models', 'maskrcnn', 'test', file)));
  const { manifest } = manifestFromOnnx(bytes, { fileName: file, url: '', inputSize: 96 });
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist') + '/';
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  // A horizontal ramp, so that the input is not flat.
  const rgba = new Uint8Array(image.width * image.height * 4).map((_, i) => ((i >> 2) % image.width) & 255);
  const { tensor } = preprocessReference(rgba, image.width, image.height, manifest.input);
  const results = await session.run({ [manifest.input.name]: new ort.Tensor('float32', tensor, [3, manifest.input.height, manifest.input.width]) });
  const outputs: Record<string, ExportedRawOutput> = {};
  for (const [logical, name] of Object.entries(manifest.outputs))
    outputs[logical] = { data: results[name]!.data as ExportedRawOutput['data'], dims: results[name]!.dims };
  await session.release();
  return { manifest, outputs };
}

const settings: PostprocessSettings = { scoreThreshold: 0.3, topK: 100, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100 };

async function gpuRun(
  device: GPUDevice,
  manifest: ModelManifest,
  outputs: Record<string, ExportedRawOutput>,
  image: { width: number; height: number },
  labelsAs: 'int64' | 'float32',
) {
  const mask = maskSizeFor(image.width, image.height);
  const post = createExportedGpuPostprocessor(device, manifest, mask);
  const buffers: Record<string, GPUBuffer> = {};
  const shapes: Record<string, OutputShape> = {};
  for (const [name, t] of Object.entries(outputs)) {
    const data = name === 'labels' && labelsAs === 'float32' ? Float32Array.from(t.data as ArrayLike<number | bigint>, Number) : t.data;
    buffers[name] = uploadStorage(device, `test.${name}`, data);
    shapes[name] = { dims: t.dims, type: name === 'labels' ? labelsAs : 'float32' };
  }
  const transform = resizeGeometry(image.width, image.height, manifest.input).transform;
  const encoder = device.createCommandEncoder({ label: 'test.exported' });
  post.encode(encoder, buffers, settings, transform, image, shapes);
  device.queue.submit([encoder.finish()]);
  const read = await post.readResult();
  const masks = await post.readMasks();
  post.destroy();
  for (const b of Object.values(buffers)) b.destroy();
  return { read, masks };
}

describe('exported Mask R-CNN: GPU chain vs reference chain', () => {
  for (const [file, image] of [
    ['maskrcnn-torchvision-tiny.onnx', { width: 150, height: 110 }],
    ['maskrcnn-zoo-tiny.onnx', { width: 120, height: 170 }],
  ] as const) {
    for (const labelsAs of ['int64', 'float32'] as const) {
      it(`${file}, labels as ${labelsAs}`, async () => {
        const { manifest, outputs } = await runTiny(file, image);
        const ref = postprocessExportedReference(outputs, manifest, settings, image);
        expect(ref.detections.length).toBe(2);
        const { read, masks } = await withDevice((device) => gpuRun(device, manifest, outputs, image, labelsAs));
        expect(read.records.map((r) => [r.sourceIndex, r.classIndex, r.score, r.maskArea])).toEqual(
          ref.records.map((r) => [r.sourceIndex, r.classIndex, r.score, r.maskArea]),
        );
        read.detections.forEach((d, n) => d.box.forEach((v, k) => expect(v).toBeCloseTo(ref.detections[n]!.box[k]!, 3)));
        expect(masks.width).toBe(ref.masks.width);
        let mismatches = 0;
        for (let i = 0; i < ref.masks.bits.length; i++) if (masks.bits[i] !== ref.masks.bits[i]) mismatches++;
        console.log(
          `${file} (${labelsAs} labels): ${read.detections.length} instances, mask areas ${read.records.map((r) => r.maskArea).join(', ')}, ${mismatches} mismatched mask words`,
        );
        expect(mismatches).toBe(0);
      }, 60_000);
    }
  }

  it('an empty frame (N = 0) gives no detections', async () => {
    const { manifest } = await runTiny('maskrcnn-zoo-tiny.onnx', { width: 32, height: 32 });
    const empty: Record<string, ExportedRawOutput> = {
      boxes: { data: new Float32Array(0), dims: [0, 4] },
      labels: { data: new BigInt64Array(0), dims: [0] },
      scores: { data: new Float32Array(0), dims: [0] },
      roiMasks: { data: new Float32Array(0), dims: [0, 1, 28, 28] },
    };
    const { read } = await withDevice((device) => gpuRun(device, manifest, empty, { width: 32, height: 32 }, 'int64'));
    expect(read.detections).toEqual([]);
    expect(postprocessExportedReference(empty, manifest, settings, { width: 32, height: 32 }).detections).toEqual([]);
  }, 60_000);
});
