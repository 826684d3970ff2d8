/**
 * Host code of shaders/class_topk.wgsl: per foreground class, the top k candidates by that
 * class's score (descending, ties by lower prior index). Reference: app/reference/classTopK.ts.
 *
 * Outputs, row c = class c, row stride = topK:
 *   topIndices [C, topK] u32 prior indices, topScores [C, topK] f32, topCounts [C] u32
 *   (entries past topCounts[c] are left as they were).
 *
 * `run` writes its params with queue.writeBuffer at encode time, so use one kernel object
 * per chain (pane) and at most one `run` of it per submitted command buffer.
 */
import shaderCode from '../../../shaders/class_topk.wgsl?raw';
import { createUniformBuffer } from '../buffers';

/** Params struct of class_topk.wgsl (u32 each): 0 numPriors, 4 numClasses, 8 confStride,
 * 12 classOffset, 16 topK, 20 indexBits, 24/28 pad. */
const PARAMS_BYTES = 32;

/** In-workgroup sort capacity of the kernel (MAX_TOP_K in the WGSL). */
export const MAX_TOP_K = 512;

export interface ClassTopKInputs {
  /** [N, C + 1] f32 scores, background at column 0. */
  conf: GPUBuffer;
  /** Candidate list from yolactDecode (count + prior indices). */
  candidates: GPUBuffer;
  /** Outputs; see `topKBytes`. */
  topIndices: GPUBuffer;
  topScores: GPUBuffer;
  topCounts: GPUBuffer;
}

export interface ClassTopKParams {
  numPriors: number;
  numClasses: number;
  /** ≤ MAX_TOP_K (YOLACT: 200). */
  topK: number;
}

/** Bytes of topIndices / topScores ([C, topK]) and of topCounts ([C]). */
export function topKBytes(numClasses: number, topK: number): { rows: number; counts: number } {
  return { rows: 4 * numClasses * Math.max(1, topK), counts: 4 * numClasses };
}

export interface ClassTopKKernel {
  run(encoder: GPUCommandEncoder, inputs: ClassTopKInputs, params: ClassTopKParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

const WORKGROUP = 64;

export function createClassTopK(device: GPUDevice): ClassTopKKernel {
  const module = device.createShaderModule({ label: 'classTopK.module', code: shaderCode });
  const entry = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({
    binding,
    visibility: GPUShaderStage.COMPUTE,
    buffer: { type },
  });
  // Explicit layout: the two entry points use different subsets of the bindings.
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'classTopK.bindGroupLayout',
    entries: [
      entry(0, 'read-only-storage'),
      entry(1, 'read-only-storage'),
      entry(2, 'storage'),
      entry(3, 'storage'),
      entry(4, 'storage'),
      entry(5, 'uniform'),
      entry(6, 'storage'),
    ],
  });
  const layout = device.createPipelineLayout({ label: 'classTopK.layout', bindGroupLayouts: [bindGroupLayout] });
  const gather = device.createComputePipeline({ label: 'classTopK.gatherScores', layout, compute: { module, entryPoint: 'gatherScores' } });
  const select = device.createComputePipeline({ label: 'classTopK.select', layout, compute: { module, entryPoint: 'main' } });
  const uniform = createUniformBuffer(device, 'classTopK.params', PARAMS_BYTES);
  let classScores: GPUBuffer | undefined;
  let cached: { key: GPUBuffer[]; group: GPUBindGroup } | undefined;

  return {
    run(encoder, inputs, params, pass) {
      if (params.topK > MAX_TOP_K) throw new Error(`classTopK: topK ${params.topK} exceeds ${MAX_TOP_K}`);
      if (params.numClasses === 0) return;
      const indexBits = Math.max(1, Math.ceil(Math.log2(Math.max(1, params.numPriors))));
      device.queue.writeBuffer(
        uniform,
        0,
        new Uint32Array([params.numPriors, params.numClasses, params.numClasses + 1, 1, params.topK, indexBits, 0, 0]),
      );
      // classScores [C, N] f32
      const scratchBytes = Math.max(16, 4 * params.numClasses * params.numPriors);
      if (!classScores || classScores.size < scratchBytes) {
        classScores?.destroy();
        classScores = device.createBuffer({ label: 'classTopK.classScores', size: scratchBytes, usage: GPUBufferUsage.STORAGE });
      }
      const key = [inputs.conf, inputs.candidates, inputs.topIndices, inputs.topScores, inputs.topCounts, classScores];
      if (!cached || cached.key.some((b, i) => b !== key[i])) {
        cached = {
          key,
          group: device.createBindGroup({
            label: 'classTopK.bindGroup',
            layout: bindGroupLayout,
            entries: [
              ...key.slice(0, 5).map((buffer, binding) => ({ binding, resource: { buffer } })),
              { binding: 5, resource: { buffer: uniform } },
              { binding: 6, resource: { buffer: classScores } },
            ],
          }),
        };
      }
      const p = encoder.beginComputePass(pass ?? { label: 'classTopK' });
      p.setBindGroup(0, cached.group);
      if (params.numPriors > 0) {
        p.setPipeline(gather);
        p.dispatchWorkgroups(Math.ceil(params.numPriors / WORKGROUP));
      }
      p.setPipeline(select);
      p.dispatchWorkgroups(params.numClasses);
      p.end();
    },
    destroy() {
      uniform.destroy();
      classScores?.destroy();
    },
  };
}
