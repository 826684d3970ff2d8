/**
 * Host code of shaders/yolo_seg_trim_top_k.wgsl: after classTopK on YOLO-seg's bestConf,
 * each class's count is cut to its entries with score ≥ 0 (its own best-class anchors).
 * Reference: `trimTopKReference` in app/reference/yoloSegDecode.ts.
 *
 * `run` writes its params with queue.writeBuffer at encode time: one `run` per submit.
 */
import shaderCode from '../../../shaders/yolo_seg_trim_top_k.wgsl?raw';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, bufferEntries, dispatchPass, entry } from '../bindGroups';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const YOLO_SEG_TRIM_TOP_K = kernelSource({ name: 'yoloSegTrimTopK', code: shaderCode, entryPoints: ['main'] });
/** Params struct of the WGSL, as it lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');
const WORKGROUP = 64;

export interface YoloSegTrimTopKInputs {
  /** [C, topK] f32 from classTopK. */
  topScores: GPUBuffer;
  /** [C] u32 from classTopK, rewritten in place. */
  topCounts: GPUBuffer;
}

export interface YoloSegTrimTopKKernel {
  run(encoder: GPUCommandEncoder, inputs: YoloSegTrimTopKInputs, params: { numClasses: number; topK: number }, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

export function createYoloSegTrimTopK(device: GPUDevice): YoloSegTrimTopKKernel {
  const pipeline = kernelPipelines(device, YOLO_SEG_TRIM_TOP_K).pipelines.main;
  const uniform = createUniformBuffer(device, 'yoloSegTrimTopK.params', PARAMS.size);
  const bindGroups = new BindGroupCache<GPUBindGroup>();
  return {
    run(encoder, inputs, params, pass) {
      if (params.numClasses === 0) return;
      device.queue.writeBuffer(uniform, 0, packUniforms(PARAMS, { numClasses: params.numClasses, topK: params.topK }));
      const key = [inputs.topScores, inputs.topCounts];
      const group = bindGroups.get(key, () =>
        device.createBindGroup({
          label: 'yoloSegTrimTopK.bindGroup',
          layout: pipeline.getBindGroupLayout(0),
          entries: [...bufferEntries(key), entry(2, uniform)],
        }),
      );
      dispatchPass(encoder, pass ?? { label: 'yoloSegTrimTopK' }, pipeline, group, [Math.ceil(params.numClasses / WORKGROUP)]);
    },
    destroy() {
      uniform.destroy();
      bindGroups.clear();
    },
  };
}
