/**
 * Host code of shaders/class_topk.wgsl: per foreground class, the top k candidates by that
 * class's score (descending, ties by lower prior index). Reference: app/reference/classTopK.ts.
 *
 * Only scores ≥ `minScore` are ranked (the display threshold), and only classes with such
 * entries get a workgroup (indirect dispatch from `classLists`, which NMS reuses).
 *
 * Outputs, row c = class c, row stride = topK:
 *   topIndices [C, topK] u32 prior indices, topScores [C, topK] f32, topCounts [C] u32
 *   (cleared first; entries past topCounts[c] are left as they were); classLists.
 *
 * `run` writes its params with queue.writeBuffer at encode time, so use one kernel object
 * per chain (pane) and at most one `run` of it per submitted command buffer.
 */
import shaderCodeRaw from '../../../shaders/class_topk.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, entry } from '../bindGroups';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';

const shaderCode = withIncludes(shaderCodeRaw);

/**
 * The kernel's pipelines (app/gpu/kernelCache.ts). 'auto' layouts: the two entry points
 * bind different subsets (the scratch lists are written by one and read, also as the
 * indirect dispatch, by the other).
 */
export const CLASS_TOP_K = kernelSource({ name: 'classTopK', code: shaderCode, entryPoints: ['compact', 'selectClass'] });
/** Params struct of class_topk.wgsl, as the WGSL lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');

/** In-workgroup sort capacity of the kernel (SORT_CAPACITY in the WGSL). */
export const MAX_TOP_K = 512;

/** Words before the per-class counts in classLists: the indirect dispatch (x, y, z, pad). */
const LISTS_HEADER_WORDS = 4;

export interface ClassTopKInputs {
  /** [N, C + 1] f32 scores, background at column 0. */
  conf: GPUBuffer;
  /** Candidate list from yolactDecode (count + prior indices). */
  candidates: GPUBuffer;
  /** Outputs; see `topKBytes`. */
  topIndices: GPUBuffer;
  topScores: GPUBuffer;
  topCounts: GPUBuffer;
  /**
   * Output: the classes that have entries (`classListsBytes`, usage STORAGE | INDIRECT |
   * COPY_DST), which NMS can take to launch workgroups only for them. Default: a buffer of
   * the kernel's own.
   */
  classLists?: GPUBuffer;
}

export interface ClassTopKParams {
  numPriors: number;
  numClasses: number;
  /** ≤ MAX_TOP_K (YOLACT: 200). */
  topK: number;
  /**
   * Scores below it (and NaN) are not ranked: the display threshold, below which the
   * cross-class cap drops entries anyway (so the kept records do not change). Default −∞.
   */
  minScore?: number;
}

/** Bytes of topIndices / topScores ([C, topK]) and of topCounts ([C]). */
export function topKBytes(numClasses: number, topK: number): { rows: number; counts: number } {
  return { rows: 4 * numClasses * Math.max(1, topK), counts: 4 * numClasses };
}

/**
 * Bytes of classLists: [4 + 2C] u32 — the indirect dispatch (x = active classes, 1, 1, 0),
 * the entries of each class [C], the active classes [C] (x of them valid).
 */
export function classListsBytes(numClasses: number): number {
  return 4 * (LISTS_HEADER_WORDS + 2 * numClasses);
}

/** Word offset in classLists of the active-class list (what NMS reads). */
export function activeClassesWord(numClasses: number): number {
  return LISTS_HEADER_WORDS + numClasses;
}

export function createClassListsBuffer(device: GPUDevice, label: string, numClasses: number): GPUBuffer {
  return device.createBuffer({
    label,
    size: classListsBytes(numClasses),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.INDIRECT | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
}

export interface ClassTopKKernel {
  run(encoder: GPUCommandEncoder, inputs: ClassTopKInputs, params: ClassTopKParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

const WORKGROUP = 64;

export function createClassTopK(device: GPUDevice): ClassTopKKernel {
  const { compact, selectClass: select } = kernelPipelines(device, CLASS_TOP_K).pipelines;
  const uniform = createUniformBuffer(device, 'classTopK.params', PARAMS.size);
  let classKeys: GPUBuffer | undefined;
  let ownLists: GPUBuffer | undefined;
  const bindGroups = new BindGroupCache<{ compact: GPUBindGroup; select: GPUBindGroup }>();

  return {
    run(encoder, inputs, params, pass) {
      if (params.topK > MAX_TOP_K) throw new Error(`classTopK: topK ${params.topK} exceeds ${MAX_TOP_K}`);
      const c = params.numClasses;
      if (c === 0) return;
      const indexBits = Math.max(1, Math.ceil(Math.log2(Math.max(1, params.numPriors))));
      device.queue.writeBuffer(
        uniform,
        0,
        packUniforms(PARAMS, {
          numPriors: params.numPriors,
          numClasses: c,
          confStride: c + 1,
          classOffset: 1,
          topK: params.topK,
          indexBits,
          minScore: params.minScore ?? -Infinity,
        }),
      );
      // classKeys [C, N] vec2<u32>
      const keysBytes = Math.max(16, 8 * c * params.numPriors);
      if (!classKeys || classKeys.size < keysBytes) {
        classKeys?.destroy();
        classKeys = device.createBuffer({ label: 'classTopK.classKeys', size: keysBytes, usage: GPUBufferUsage.STORAGE });
      }
      let lists = inputs.classLists;
      if (!lists) {
        if (!ownLists || ownLists.size < classListsBytes(c)) {
          ownLists?.destroy();
          ownLists = createClassListsBuffer(device, 'classTopK.classLists', c);
        }
        lists = ownLists;
      }
      if (lists.size < classListsBytes(c)) throw new Error(`classTopK: classLists has ${lists.size} bytes, ${c} classes need ${classListsBytes(c)}`);
      const keys = classKeys;
      const key = [inputs.conf, inputs.candidates, keys, lists, inputs.topIndices, inputs.topScores, inputs.topCounts];
      const bound = bindGroups.get(key, () => ({
        compact: device.createBindGroup({
          label: 'classTopK.compact.bindGroup',
          layout: compact.getBindGroupLayout(0),
          entries: [entry(0, inputs.conf), entry(1, inputs.candidates), entry(2, uniform), entry(3, keys), entry(4, lists)],
        }),
        select: device.createBindGroup({
          label: 'classTopK.selectClass.bindGroup',
          layout: select.getBindGroupLayout(0),
          entries: [entry(2, uniform), entry(5, keys), entry(6, lists), entry(7, inputs.topIndices), entry(8, inputs.topScores), entry(9, inputs.topCounts)],
        }),
      }));
      // Classes without entries keep count 0; the lists start empty (x = 0 classes).
      encoder.clearBuffer(inputs.topCounts, 0, 4 * c);
      encoder.clearBuffer(lists, 0, 4 * (LISTS_HEADER_WORDS + c));
      const p = encoder.beginComputePass(pass ?? { label: 'classTopK' });
      p.setPipeline(compact);
      p.setBindGroup(0, bound.compact);
      // At least one workgroup: it writes the dispatch's y and z.
      p.dispatchWorkgroups(Math.max(1, Math.ceil(params.numPriors / WORKGROUP)));
      p.setPipeline(select);
      p.setBindGroup(0, bound.select);
      p.dispatchWorkgroupsIndirect(lists, 0);
      p.end();
    },
    destroy() {
      uniform.destroy();
      classKeys?.destroy();
      ownLists?.destroy();
      bindGroups.clear();
    },
  };
}
