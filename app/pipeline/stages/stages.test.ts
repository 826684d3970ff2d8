/**
 * The runner's parts without a browser: a program's checks, the steps run on each side
 * with a toy family (an "ONNX part" that doubles its input, a kernel step that sums it, on
 * the GPU through Dawn and in TypeScript), and the tensor table's counted moves.
 */
import { describe, expect, it } from 'vitest';
import { withDevice } from '../../../test/gpu';
import type { ModelManifest, PostprocessSettings } from '../../types';
import { readF32 } from '../../gpu/buffers';
import { familyProgram } from '../../families/registry';
import { program as maskRcnnProgram } from '../../families/maskRcnn/program';
import { runStepsOnCpu, runStepsOnGpu, type PartRunner } from './execute';
import { checkProgram, IMAGE, type FamilyCpu, type FamilyGpu, type FamilyProgram, type GpuTensor, type KernelStep } from './program';
import { FrameTensors, UploadBuffers } from './tensors';
import { listModels } from '../../models/registry';

const manifest = { id: 'toy', name: 'toy', input: { name: 'x' } } as unknown as ModelManifest;
const settings: PostprocessSettings = { scoreThreshold: 0.5, topK: 10, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 10 };
const frame = {
  manifest,
  settings,
  transform: { scaleX: 1, scaleY: 1, padX: 0, padY: 0 } as never,
  image: { width: 4, height: 4 },
  mask: { width: 4, height: 4 },
};

/** The toy GPU side: a buffer the kernel step writes the sum into. */
interface ToyGpu extends FamilyGpu {
  sum: GPUBuffer;
}

const SUM_WGSL = `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> sum: array<f32>;
@compute @workgroup_size(1) fn main() {
  var s = 0.0;
  for (var i = 0u; i < arrayLength(&x); i++) { s += x[i]; }
  sum[0] = s;
}`;

function toyProgram(device: GPUDevice | null): FamilyProgram<ToyGpu, FamilyCpu> {
  const pipeline = device?.createComputePipeline({
    label: 'toy.sum',
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: SUM_WGSL }), entryPoint: 'main' },
  });
  const sumStep: KernelStep<ToyGpu, FamilyCpu> = {
    kind: 'kernels',
    name: 'sum',
    reads: ['doubled'],
    publishes: ['total'],
    timing: 'decode',
    encode(gpu, encoder, tensors) {
      const group = device!.createBindGroup({
        layout: pipeline!.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: tensors.doubled!.buffer } },
          { binding: 1, resource: { buffer: gpu.sum } },
        ],
      });
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline!);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(1);
      pass.end();
      return { total: { buffer: gpu.sum, dims: [1], type: 'float32' } };
    },
    reference(cpu, tensors) {
      const total = tensors.doubled!.data.reduce((a, b) => a + b, 0);
      cpu.result = { detections: [], masks: { width: 0, height: 0, bits: new Uint32Array(0), wordsPerRow: 0 } };
      return { total: { data: Float32Array.of(total), dims: [1] } };
    },
  };
  return {
    steps: [{ kind: 'onnx', name: 'model', part: manifest, input: IMAGE, outputs: { doubled: 'y' }, timing: 'inference' }, sumStep],
    createGpu: (d) => ({ sum: d.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC }) }) as unknown as ToyGpu,
    createCpu: () => ({ result: null, timings: {} }),
  };
}

/** The toy "ONNX part" on the CPU: doubles its input. */
const doublePart: PartRunner = async (step, tensors) => {
  const input = await tensors.takeCpu(step.input);
  tensors.putCpu('doubled', { data: input.data.map((v) => 2 * v), dims: input.dims });
};

describe('checkProgram', () => {
  it('accepts the bundled models’ programs', async () => {
    const models = listModels();
    expect(models.length).toBeGreaterThanOrEqual(5);
    for (const m of models) checkProgram(await familyProgram(m), m.id);
  });

  it('refuses a step that reads what no earlier step publishes', () => {
    const p = toyProgram(null);
    const bad = { ...p, steps: [p.steps[0]!, { ...(p.steps[1] as KernelStep), reads: ['nothing'] }] };
    expect(() => checkProgram(bad as FamilyProgram, 'toy')).toThrow(/step 2 \(“sum”\) reads “nothing”, which no earlier step publishes/);
  });

  it('refuses a program that does not start with an ONNX part or end with kernels', () => {
    const p = toyProgram(null);
    expect(() => checkProgram({ ...p, steps: [p.steps[1]!] } as FamilyProgram, 'toy')).toThrow(/starts with an ONNX part/);
    expect(() => checkProgram({ ...p, steps: [p.steps[0]!] } as FamilyProgram, 'toy')).toThrow(/ends with kernels/);
  });

  it('a Mask R-CNN two-stage program is backbone, proposals, box head, detections, mask head, masks', () => {
    const m = listModels().find((x) => x.twoStage);
    expect(m).toBeDefined();
    expect(maskRcnnProgram(m!).steps.map((s) => `${s.kind}:${s.name}`)).toEqual([
      'onnx:backbone',
      'kernels:proposals',
      'onnx:boxHead',
      'kernels:detections',
      'onnx:maskHead',
      'kernels:masks',
    ]);
  });
});

describe('runStepsOnCpu / runStepsOnGpu with a toy family', () => {
  it('CPU: the part, then the reference; its time goes to its field, its tensor is published', async () => {
    const p = toyProgram(null);
    const tensors = new FrameTensors(null, null, (_w, fn) => fn());
    tensors.putCpu(IMAGE, { data: Float32Array.of(1, 2, 3), dims: [3] });
    const cpu = p.createCpu();
    const timings = {};
    await runStepsOnCpu(p.steps, cpu, tensors, frame, doublePart, timings);
    expect((await tensors.onCpu('total')).data).toEqual(Float32Array.of(12));
    expect(Object.keys(timings)).toEqual(['inference']);
    expect(Object.keys(cpu.timings)).toEqual(['decode']);
    expect(tensors.has(IMAGE)).toBe(false); // handed to the part
  });

  it('a step that publishes other tensors than it declares is refused, naming both', async () => {
    const p = toyProgram(null);
    const step = { ...(p.steps[1] as KernelStep<ToyGpu, FamilyCpu>), publishes: ['sum'] };
    const tensors = new FrameTensors(null, null, (_w, fn) => fn());
    tensors.putCpu('doubled', { data: Float32Array.of(1), dims: [1] });
    await expect(runStepsOnCpu([step], p.createCpu(), tensors, frame, doublePart, {})).rejects.toThrow(/published \[total\], but declares \[sum\]/);
  });

  it('GPU: the CPU part’s output is uploaded once (timed), the kernel’s output read back only when asked (counted)', async () => {
    await withDevice(async (device) => {
      const p = toyProgram(device);
      const uploads = new UploadBuffers(device, 'toy.uploads');
      const sections: string[] = [];
      const tensors = new FrameTensors(device, uploads, (where, fn) => (sections.push(where), fn()));
      tensors.putCpu(IMAGE, { data: Float32Array.of(1, 2, 3, 4), dims: [4] });
      const gpu = p.createGpu(device, { width: 1, height: 1 }, { classColours: new Uint32Array(1), style: { premultiplied: true } });
      await runStepsOnGpu(p.steps, gpu, device, tensors, frame, doublePart, {}, (where, fn) => (sections.push(where), fn()));
      expect(sections).toEqual(['upload doubled', 'sum']);
      expect(tensors.uploadMs).toBeGreaterThanOrEqual(0);
      expect(tensors.bytesReadBack).toBe(0);
      const total = await tensors.onCpu('total');
      expect(total.data).toEqual(Float32Array.of(20));
      expect(tensors.bytesReadBack).toBe(4);
      expect((await readF32(device, (tensors.onGpu('total') as GpuTensor).buffer, 1))[0]).toBe(20);
      uploads.destroy();
    });
  });

  it('GPU: a tensor read back every frame goes through one kept staging buffer (no buffer made a frame)', async () => {
    await withDevice(async (device) => {
      const source = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      let made = 0;
      const counted = new Proxy(device, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (prop === 'createBuffer') made++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      const reader = new UploadBuffers(counted, 'toy.reads');
      for (let frame = 1; frame <= 3; frame++) {
        device.queue.writeBuffer(source, 0, Float32Array.of(frame, 2 * frame, 0, 0));
        const tensors = new FrameTensors(counted, reader, (_w, fn) => fn());
        tensors.putGpu('features', { buffer: source, dims: [2], type: 'float32' });
        expect((await tensors.onCpu('features')).data).toEqual(Float32Array.of(frame, 2 * frame));
      }
      expect(made).toBe(1);
      reader.destroy();
      source.destroy();
    });
  });
});
