/**
 * CenterMask on the exported ONNX parts (models/centermask, maybe untrained weights): the
 * detector runs with onnxruntime-web's wasm backend in Node on a sample image; then the
 * program's steps through `runStepsOnGpu` (Dawn; the mask head on ORT wasm, as 'wasm+gpu')
 * and `runStepsOnCpu` (the references, as 'wasm') must give the same instances.
 * Skipped while the parts are not in the checkout.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { runProgramBothSides } from '../../../test/families/fcosSynthetic';
import type { ModelManifest, PostprocessSettings } from '../../types';
import type { CpuTensor } from '../../pipeline/stages/program';
import type { PartRunner } from '../../pipeline/stages/execute';
import { preprocessReference } from '../../reference/preprocess';
import { MAX_TOP_K } from '../../gpu/kernels/classTopK';
import { program } from './program';

const ROOT = join(__dirname, '..', '..', '..');
const MANIFEST = join(ROOT, 'models', 'centermask', 'centermask-lite-512.json');
const SAMPLE = 'sample-1.jpg';

type Session = import('onnxruntime-web').InferenceSession;

describe('CenterMask on the exported parts: GPU steps vs reference steps', () => {
  it.skipIf(!existsSync(MANIFEST))(
    `centermask-lite-512 on ${SAMPLE}`,
    async () => {
      const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as ModelManifest;
      // The export's defaults.topK (1000) is above classTopK's capacity (the schema refuses it).
      manifest.defaults = { ...manifest.defaults, topK: Math.min(manifest.defaults.topK, MAX_TOP_K) };
      // Untrained weights score low (FCOS's prior bias: sigmoid ≈ 0.01): candidate and display
      // thresholds lowered so there are instances either way.
      manifest.centerMask = { ...manifest.centerMask!, candidateThreshold: 0.001 };
      const settings: PostprocessSettings = { ...manifest.defaults, scoreThreshold: 0.001 };
      const ort = await import('onnxruntime-web');
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.wasmPaths = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist') + '/';
      const open = (url: string) => ort.InferenceSession.create(readFileSync(join(ROOT, url)), { executionProviders: ['wasm'] });
      const detector = await open(manifest.url);
      const maskHead: Session = await open(manifest.centerMask!.maskHeadUrl);
      const img = jpeg.decode(readFileSync(join(ROOT, 'public', 'samples', SAMPLE)), { useTArray: true, formatAsRGBA: true });
      const image = { width: img.width, height: img.height };
      const pre = preprocessReference(img.data, img.width, img.height, manifest.input);
      const raw = await detector.run({ [manifest.input.name]: new ort.Tensor('float32', pre.tensor, [1, 3, manifest.input.height, manifest.input.width]) });
      const outputs: Record<string, CpuTensor> = {};
      for (const [logical, name] of Object.entries(manifest.outputs)) outputs[logical] = { data: raw[name]!.data as Float32Array, dims: raw[name]!.dims };
      const runPart: PartRunner = async (step, tensors) => {
        const input = await tensors.onCpu(step.input);
        const r = await maskHead.run({ [step.part.input.name]: new ort.Tensor('float32', input.data, input.dims) });
        for (const [logical, name] of Object.entries(step.outputs)) tensors.putCpu(logical, { data: r[name]!.data as Float32Array, dims: r[name]!.dims });
      };

      const { cpu, gpu } = await runProgramBothSides(program(manifest), manifest, settings, outputs, image, runPart);
      const ref = cpu.detections;
      const got = gpu.result;
      console.log(
        `centermask-lite-512 ${SAMPLE}: ${ref.length} reference / ${got.detections.length} GPU instances, ${got.candidateCount} candidate locations; ` +
          `top: ${ref
            .slice(0, 3)
            .map((d) => `${manifest.classes[d.classIndex]} ${d.score.toFixed(3)}`)
            .join(', ')}`,
      );
      expect(ref.length).toBeGreaterThan(0);
      expect(got.detections.length).toBe(ref.length);
      got.detections.forEach((d, i) => {
        const r = ref[i]!;
        expect(d.classIndex).toBe(r.classIndex);
        expect(Math.abs(d.score - r.score)).toBeLessThan(1e-4);
        d.box.forEach((v, k) => expect(Math.abs(v - r.box[k]!)).toBeLessThan(0.05));
        expect(Math.abs(d.maskArea - r.maskArea)).toBeLessThanOrEqual(Math.max(4, r.maskArea * 0.02));
      });
      for (const s of [detector, maskHead]) await s.release();
    },
    600_000,
  );
});
