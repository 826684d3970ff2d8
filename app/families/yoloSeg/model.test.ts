/**
 * Real ONNX files of the YOLO-seg layout (tiny untrained networks from
 * models/yoloseg/make_test_models.py): recognised by detect.ts, run with onnxruntime-web's
 * wasm backend in Node on a sample image (letterboxed), then the GPU chain (Dawn) and the
 * reference chain post-process the same outputs and must agree (classes, box IoU ≥ 0.99,
 * mask IoU ≥ 0.98).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { withDevice } from '../../../test/gpu';
import type { ModelManifest, PostprocessSettings } from '../../types';
import { preprocessReference } from '../../reference/preprocess';
import { manifestFromOnnx } from '../detect';
import { runYoloSegParity } from '../../../test/families/yoloSeg/conformance';
import type { RawOutput } from './reference';

const ROOT = join(__dirname, '..', '..', '..');
const FILES = ['yoloseg-tiny-320-nc80.onnx', 'yoloseg-tiny-320-nc3.onnx', 'yoloseg-tiny-320-nc80-e2e.onnx'];

async function runModel(manifest: ModelManifest, bytes: Uint8Array, rgba: Uint8Array, width: number, height: number): Promise<Record<string, RawOutput>> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist') + '/';
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const { tensor } = preprocessReference(rgba, width, height, manifest.input);
  const results = await session.run({ [manifest.input.name]: new ort.Tensor('float32', tensor, [1, 3, manifest.input.height, manifest.input.width]) });
  const outputs: Record<string, RawOutput> = {};
  for (const [logical, name] of Object.entries(manifest.outputs)) outputs[logical] = { data: results[name]!.data as Float32Array, dims: results[name]!.dims };
  await session.release();
  return outputs;
}

describe('YOLO-seg GPU chain vs reference chain on real ONNX outputs', () => {
  for (const file of FILES) {
    it(
      file,
      async () => {
        const bytes = new Uint8Array(readFileSync(join(ROOT, 'models', 'yoloseg', 'test', file)));
        const { manifest, missing } = manifestFromOnnx(bytes, { fileName: file, url: '' });
        expect(missing).toEqual([]);
        const img = jpeg.decode(readFileSync(join(ROOT, 'public', 'samples', 'sample-1.jpg')), { useTArray: true, formatAsRGBA: true });
        const outputs = await runModel(manifest, bytes, img.data, img.width, img.height);
        // Untrained: scores near 0.5 everywhere, so NMS has thousands of candidates; 40 kept keeps the mask step short.
        const settings: PostprocessSettings = { ...manifest.defaults, maxDetections: 40 };
        const { figures, gpu } = await withDevice((device) => runYoloSegParity(device, outputs, manifest, settings, { width: img.width, height: img.height }));
        console.log(
          `${file} on sample-1.jpg (${img.width}x${img.height}): ${figures.instances} instances of ${gpu.candidateCount} candidates, ` +
            `min box IoU ${figures.minBoxIou.toFixed(4)}, min mask IoU ${figures.minMaskIou.toFixed(4)}, max proto-mask error ${figures.maxProtoMaskError.toExponential(2)}` +
            (figures.problems.length ? `; ${figures.problems.join('; ')}` : ''),
        );
        expect(figures.problems).toEqual([]);
        expect(figures.instances).toBeGreaterThan(0);
      },
      180_000,
    );
  }
});
