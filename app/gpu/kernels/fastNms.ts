/**
 * Host code of shaders/fast_nms.wgsl (YOLACT's Fast NMS). The greedy kernel
 * (greedyNms.ts) has the same inputs, outputs and params, so the two are interchangeable
 * (`PostprocessSettings.nmsKind`); both are built by `createNmsKernel` here.
 * References: app/reference/fastNms.ts, app/reference/greedyNms.ts.
 *
 * `run` writes its params with queue.writeBuffer at encode time, so use one kernel object
 * per chain (pane) and at most one `run` of it per submitted command buffer.
 */
import shaderCodeRaw from '../../../shaders/fast_nms.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, bufferEntries, entry } from '../bindGroups';
import { kernelPipelines, kernelSource, type KernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';
import { MAX_TOP_K } from './classTopK';

const shaderCode = withIncludes(shaderCodeRaw);

/** The kernel's pipelines (app/gpu/kernelCache.ts): one workgroup per class, or per listed class. */
export const FAST_NMS = kernelSource({ name: 'fastNms', code: shaderCode, entryPoints: ['main', 'listed'] });
/** What fast_nms.wgsl and greedy_nms.wgsl both have. */
export type NmsSource = KernelSource<'main' | 'listed'>;

export interface NmsInputs {
  /**
   * [N, 4] f32 xyxy boxes, indexed by prior (from yolactDecode); or, with
   * `params.boxClassStride` S > 0, class-specific boxes [C, S, 4] (maskRcnnBoxDecode).
   */
  boxes: GPUBuffer;
  /** From classTopK: [C, topK] prior indices and [C] counts. */
  topIndices: GPUBuffer;
  topCounts: GPUBuffer;
  /** Output [C, topK] u32: 1 kept, 0 suppressed (entries < topCounts[c]); see `keepBytes`. */
  keep: GPUBuffer;
  /**
   * classTopK's classLists: when given, workgroups run only for the classes listed there
   * (an indirect dispatch), and keep rows of the others are left as they were (their
   * topCounts are 0, so nothing reads them). Absent: one workgroup per class.
   */
  classLists?: GPUBuffer;
}

export interface NmsParams {
  numClasses: number;
  /** Row stride of topIndices / keep (the topK classTopK ran with). */
  topK: number;
  /** IoU above which a box is suppressed (YOLACT: 0.5). */
  nmsIou: number;
  /**
   * 0 / absent: one box per prior, shared by all classes. S > 0: boxes are per class, the box
   * of (class c, index p) is row c·S + p (Mask R-CNN: S = R, its RoI count).
   */
  boxClassStride?: number;
}

export interface NmsKernel {
  run(encoder: GPUCommandEncoder, inputs: NmsInputs, params: NmsParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

export function keepBytes(numClasses: number, topK: number): number {
  return 4 * numClasses * Math.max(1, topK);
}

/** u32 words of one suppression-matrix row in greedy_nms.wgsl (MASK_WORDS). */
const MASK_WORDS = MAX_TOP_K / 32;

/**
 * @param scratchMasks the kernel needs a suppression-matrix scratch buffer
 *   [C, MAX_TOP_K, MASK_WORDS] u32 at binding 5 (greedy); owned and grown here.
 */
export function createNmsKernel(device: GPUDevice, source: NmsSource, scratchMasks = false): NmsKernel {
  const name = source.name;
  const { pipelines } = kernelPipelines(device, source);
  // Params struct of fast_nms.wgsl / greedy_nms.wgsl (the same fields), as the WGSL lays it out.
  const PARAMS = uniformLayout(source.code, 'Params');
  const uniform = createUniformBuffer(device, `${name}.params`, PARAMS.size);
  const bindGroups = new BindGroupCache<GPUBindGroup>();
  let masks: GPUBuffer | undefined;
  return {
    run(encoder, inputs, params, pass) {
      if (params.topK > MAX_TOP_K) throw new Error(`${name}: topK ${params.topK} exceeds ${MAX_TOP_K}`);
      if (params.numClasses === 0) return;
      const { numClasses, topK, nmsIou } = params;
      device.queue.writeBuffer(uniform, 0, packUniforms(PARAMS, { numClasses, topK, nmsIou, boxClassStride: params.boxClassStride ?? 0 }));
      if (scratchMasks) {
        const bytes = 4 * params.numClasses * MAX_TOP_K * MASK_WORDS;
        if (!masks || masks.size < bytes) {
          masks?.destroy();
          masks = device.createBuffer({ label: `${name}.masks`, size: bytes, usage: GPUBufferUsage.STORAGE });
        }
      }
      const lists = inputs.classLists;
      const pipeline = lists ? pipelines.listed : pipelines.main;
      const key = [inputs.boxes, inputs.topIndices, inputs.topCounts, inputs.keep, masks, lists];
      const group = bindGroups.get(key, () =>
        device.createBindGroup({
          label: lists ? `${name}.listed.bindGroup` : `${name}.bindGroup`,
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            ...bufferEntries([inputs.boxes, inputs.topIndices, inputs.topCounts, inputs.keep]),
            entry(4, uniform),
            ...(masks ? [entry(5, masks)] : []),
            ...(lists ? [entry(6, lists)] : []),
          ],
        }),
      );
      const p = encoder.beginComputePass(pass ?? { label: name });
      p.setPipeline(pipeline);
      p.setBindGroup(0, group);
      if (lists) p.dispatchWorkgroupsIndirect(lists, 0);
      else p.dispatchWorkgroups(params.numClasses);
      p.end();
    },
    destroy() {
      uniform.destroy();
      masks?.destroy();
      bindGroups.clear();
    },
  };
}

export function createFastNms(device: GPUDevice): NmsKernel {
  return createNmsKernel(device, FAST_NMS);
}
