/**
 * Real outputs: the bundled YOLACT models run with onnxruntime-web's wasm backend in Node on
 * the sample images, then the GPU chain (Dawn) and the reference chain post-process the same
 * outputs. They must agree: same classes and priors, box IoU ≥ 0.99, mask IoU ≥ 0.98.
 * A model file that is not in the tree yet is reported and skipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { withDevice } from '../../../test/gpu';
import type { ModelManifest, PostprocessSettings } from '../../types';
import { preprocessReference } from '../../reference/preprocess';
import { runYolactParity } from '../../../test/families/conformance';
import type { RawOutput } from './reference';

const ROOT = join(__dirname, '..', '..', '..');
/** Model → the sample images it runs on (one each keeps the suite near a minute on 2 cores). */
const MODELS: Record<string, string[]> = { 'yolact-550': ['sample-1.jpg'], 'yolact-384': ['sample-2.jpg'] };

async function runModel(manifest: ModelManifest, rgba: Uint8Array, width: number, height: number): Promise<Record<string, RawOutput>> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist') + '/';
  const session = await ort.InferenceSession.create(readFileSync(join(ROOT, manifest.url)), { executionProviders: ['wasm'] });
  const { tensor } = preprocessReference(rgba, width, height, manifest.input);
  const feeds = { [manifest.input.name]: new ort.Tensor('float32', tensor, [1, 3, manifest.input.height, manifest.input.width]) };
  const results = await session.run(feeds);
  const outputs: Record<string, RawOutput> = {};
  for (const [logical, name] of Object.entries(manifest.outputs)) {
    const t = results[name]!;
    outputs[logical] = { data: t.data as Float32Array, dims: t.dims };
  }
  await session.release();
  return outputs;
}

describe('YOLACT GPU chain vs reference chain on real model outputs', () => {
  for (const [id, samples] of Object.entries(MODELS)) {
    const manifestPath = join(ROOT, 'models', 'yolact', `${id}.json`);
    const present = existsSync(manifestPath) && existsSync(join(ROOT, 'models', 'yolact', `${id}.onnx`));
    it.skipIf(!present)(`${id} on ${samples.join(', ')}`, async () => {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ModelManifest;
      // No display threshold: every instance NMS keeps (up to 100) is compared.
      const settings: PostprocessSettings = { ...manifest.defaults, scoreThreshold: 0 };
      let minMaskIou = 1;
      let maxProtoError = 0;
      let instances = 0;
      await withDevice(async (device) => {
        for (const sample of samples) {
          const img = jpeg.decode(readFileSync(join(ROOT, 'public', 'samples', sample)), { useTArray: true, formatAsRGBA: true });
          const outputs = await runModel(manifest, img.data, img.width, img.height);
          const { figures } = await runYolactParity(device, outputs, manifest, settings, { width: img.width, height: img.height });
          console.log(
            `${id} ${sample} (${img.width}x${img.height}): ${figures.instances} instances, min box IoU ${figures.minBoxIou.toFixed(4)}, ` +
              `min mask IoU ${figures.minMaskIou.toFixed(4)}, max proto-mask error ${figures.maxProtoMaskError.toExponential(2)}` +
              (figures.problems.length ? `; ${figures.problems.join('; ')}` : ''),
          );
          expect(figures.problems).toEqual([]);
          minMaskIou = Math.min(minMaskIou, figures.minMaskIou);
          maxProtoError = Math.max(maxProtoError, figures.maxProtoMaskError);
          instances += figures.instances;
        }
      });
      console.log(`${id}: ${instances} instances in all, min mask IoU ${minMaskIou.toFixed(4)}, max proto-mask error ${maxProtoError.toExponential(2)}`);
      expect(instances).toBeGreaterThan(0);
    });
  }
});
