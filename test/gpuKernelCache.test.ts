/**
 * The kernel cache (app/gpu/kernelCache.ts): pipelines are compiled once per device and
 * reused by every GPU side of a model, at any mask size, and by other models of the family;
 * a family's warm-up compiles everything its GPU side takes, so nothing is compiled
 * synchronously afterwards.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withDevice } from './gpu';
import type { ModelManifest } from '../app/types';
import { kernelCacheStats, kernelPipelines, kernelSource, pipelineKey, warmKernels } from '../app/gpu/kernelCache';
import { createYolactDecode, YOLACT_DECODE } from '../app/gpu/kernels/yolactDecode';
import { createGpuPostprocessor as createYolactGpu, YOLACT_GPU_KERNELS } from '../app/families/yolact/gpu';
import { syntheticManifest } from '../app/families/yolact/synthetic';
import { syntheticYoloSegManifest } from '../app/families/yoloSeg/synthetic';
import { familyProgram } from '../app/families/registry';
import { manifestFromOnnx } from '../app/families/detect';

const ROOT = join(__dirname, '..');
const options = { classColours: new Uint32Array([0xff0000, 0x00ff00, 0x0000ff]), style: { premultiplied: true as const } };

const TINY_WGSL = `
@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@compute @workgroup_size(1) fn first() { data[0] = 1u; }
@compute @workgroup_size(1) fn second() { data[0] = 2u; }
`;

describe('kernel cache', () => {
  it('two GPU sides of one model, and one at another mask size, compile the pipelines once', async () => {
    await withDevice(async (device) => {
      const manifest = syntheticManifest(64, 3);
      const first = createYolactGpu(device, manifest, { width: 64, height: 48 }, options);
      const cold = kernelCacheStats(device);
      // Every pipeline of the chain, compiled here (nothing was warmed).
      const expected = YOLACT_GPU_KERNELS.filter((k) => k.name !== 'preprocess').reduce((n, k) => n + k.entryPoints.length, 0);
      expect(cold.pipelines).toBe(expected);
      expect(cold.syncCompiles).toBe(expected);
      expect(cold.hits).toBe(0);

      const second = createYolactGpu(device, manifest, { width: 64, height: 48 }, options);
      const resized = createYolactGpu(device, manifest, { width: 333, height: 200 }, options);
      const other = createYolactGpu(device, syntheticManifest(96, 5), { width: 96, height: 96 }, options);
      const after = kernelCacheStats(device);
      expect(after.pipelines).toBe(cold.pipelines);
      expect(after.shaderModules).toBe(cold.shaderModules);
      expect(after.hits).toBe(3 * expected);
      for (const post of [first, second, resized, other]) post.destroy();
    });
  });

  it("a family's warm-up compiles asynchronously everything its GPU side takes", async () => {
    await withDevice(async (device) => {
      const torchvision = manifestFromOnnx(new Uint8Array(readFileSync(join(ROOT, 'models', 'maskrcnn', 'test', 'maskrcnn-torchvision-tiny.onnx'))), {
        fileName: 'maskrcnn-torchvision-tiny.onnx',
        url: '',
        inputSize: 96,
      }).manifest;
      const twoStage = JSON.parse(readFileSync(join(ROOT, 'models', 'maskrcnn', 'maskrcnn-512.json'), 'utf8')) as ModelManifest;
      const manifests: ModelManifest[] = [
        syntheticManifest(64, 3),
        syntheticYoloSegManifest(64, 3, 'raw'),
        syntheticYoloSegManifest(64, 3, 'end-to-end'),
        torchvision,
        twoStage,
      ];
      for (const manifest of manifests) {
        const program = await familyProgram(manifest);
        expect('warmGpu' in program, manifest.id).toBe(true);
        const before = kernelCacheStats(device);
        await program.warmGpu!(device);
        const warmed = kernelCacheStats(device);
        const gpu = program.createGpu(device, { width: 40, height: 30 }, options);
        const made = kernelCacheStats(device);
        expect({ id: manifest.id, syncCompiles: made.syncCompiles }).toEqual({ id: manifest.id, syncCompiles: 0 });
        expect(made.pipelines).toBe(warmed.pipelines);
        expect(warmed.asyncCompiles).toBeGreaterThanOrEqual(before.asyncCompiles);
        // Warming again compiles nothing.
        await program.warmGpu!(device);
        expect(kernelCacheStats(device).pipelines).toBe(warmed.pipelines);
        gpu.destroy();
      }
      // The first family compiled something; the pipelines shared across families (NMS, cap,
      // compose, preprocess …) were not compiled again.
      const stats = kernelCacheStats(device);
      expect(stats.asyncCompiles).toBe(stats.pipelines);
      expect(stats.asyncCompiles).toBeGreaterThan(0);
    });
  });

  it('a pipeline asked for twice while compiling is compiled once; the synchronous path then finds it', async () => {
    await withDevice(async (device) => {
      const tiny = kernelSource({ name: 'tiny', code: TINY_WGSL, entryPoints: ['first', 'second'] });
      await Promise.all([warmKernels(device, [tiny]), warmKernels(device, [tiny, tiny])]);
      const warmed = kernelCacheStats(device);
      expect([warmed.pipelines, warmed.asyncCompiles, warmed.shaderModules]).toEqual([2, 2, 1]);
      const a = kernelPipelines(device, tiny);
      const b = kernelPipelines(device, tiny);
      expect(a.pipelines.first).toBe(b.pipelines.first);
      expect(a.pipelines.first).not.toBe(a.pipelines.second);
      expect(kernelCacheStats(device).syncCompiles).toBe(0);
    });
  });

  it('the key holds the kernel name, entry point, constants, layout and code — and nothing else', async () => {
    const tiny = kernelSource({ name: 'tiny', code: TINY_WGSL, entryPoints: ['first'] });
    const key = pipelineKey(tiny, 'first');
    expect(pipelineKey({ ...tiny }, 'first')).toBe(key);
    expect(pipelineKey(tiny, 'second')).not.toBe(key);
    expect(pipelineKey({ ...tiny, name: 'other' }, 'first')).not.toBe(key);
    expect(pipelineKey({ ...tiny, code: `${TINY_WGSL}\n` }, 'first')).not.toBe(key);
    expect(pipelineKey({ ...tiny, constants: { N: 1 } }, 'first')).not.toBe(pipelineKey({ ...tiny, constants: { N: 2 } }, 'first'));
    expect(pipelineKey({ ...tiny, constants: { A: 1, B: 2 } }, 'first')).toBe(pipelineKey({ ...tiny, constants: { B: 2, A: 1 } }, 'first'));
    expect(pipelineKey({ ...tiny, bindings: [] }, 'first')).not.toBe(key);
    // Another device has a cache of its own.
    await withDevice(async (a) => {
      createYolactDecode(a).destroy();
      await withDevice(async (b) => {
        createYolactDecode(b).destroy();
        expect(kernelCacheStats(b).pipelines).toBe(YOLACT_DECODE.entryPoints.length);
        expect(kernelCacheStats(b).hits).toBe(0);
      });
      expect(kernelCacheStats(a).pipelines).toBe(YOLACT_DECODE.entryPoints.length);
    });
  });

  it('a warm-up of a shader that does not compile rejects', async () => {
    await withDevice(async (device) => {
      device.pushErrorScope('validation');
      const broken = kernelSource({ name: 'broken', code: '@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }', entryPoints: ['main'] });
      await expect(warmKernels(device, [broken])).rejects.toBeDefined();
      expect(await device.popErrorScope()).not.toBeNull();
    });
  });
});
