/**
 * Host code of shaders/yolo_seg_trim_top_k.wgsl: after classTopK on YOLO-seg's bestConf,
 * each class's count is cut to its entries with score ≥ 0 (its own best-class anchors).
 * Reference: `trimTopKReference` in app/reference/yoloSegDecode.ts.
 *
 * `run` writes its params with queue.writeBuffer at encode time: one `run` per submit.
 */
import shaderCode from '../../../shaders/yolo_seg_trim_top_k.wgsl?raw';
import { createUniformBuffer } from '../buffers';
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
  let cached: { key: GPUBuffer[]; group: GPUBindGroup } | undefined;
  return {
    run(encoder, inputs, params, pass) {
      if (params.numClasses === 0) return;
      device.queue.writeBuffer(uniform, 0, packUniforms(PARAMS, { numClasses: params.numClasses, topK: params.topK }));
      const key = [inputs.topScores, inputs.topCounts];
      if (!cached || cached.key.some((b, i) => b !== key[i])) {
        cached = {
          key,
          group: device.createBindGroup({
            label: 'yoloSegTrimTopK.bindGroup',
            layout: pipeline.getBindGroupLayout(0),
            entries: [...key.map((buffer, binding) => ({ binding, resource: { buffer } })), { binding: 2, resource: { buffer: uniform } }],
          }),
        };
      }
      const p = encoder.beginComputePass(pass ?? { label: 'yoloSegTrimTopK' });
      p.setPipeline(pipeline);
      p.setBindGroup(0, cached.group);
      p.dispatchWorkgroups(Math.ceil(params.numClasses / WORKGROUP));
      p.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
}
