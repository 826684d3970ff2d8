/**
 * Host code of shaders/yolo_seg_layout.wgsl: one output of a YOLO-seg export (float16,
 * and/or a transposed raw head) into an f32 channel-major buffer the decoders read.
 * Reference: `yoloSegLayoutReference` (./layout.ts).
 *
 * `run` writes its params with queue.writeBuffer at encode time: one `run` per kernel object
 * per submit (the GPU side makes one object per output it converts).
 */
import shaderCode from '../../../shaders/yolo_seg_layout.wgsl?raw';
import { createUniformBuffer } from '../../gpu/buffers';
import { kernelPipelines, kernelSource } from '../../gpu/kernelCache';
import { packUniforms, uniformLayout } from '../../gpu/uniforms';

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const YOLO_SEG_LAYOUT = kernelSource({ name: 'yoloSegLayout', code: shaderCode, entryPoints: ['main'] });
const PARAMS = uniformLayout(shaderCode, 'Params');
const WORKGROUP = 256;
const MAX_GROUPS_X = 65535;

export interface YoloSegLayoutParams {
  /** Rows × cols of the f32 output (channel-major: rows = channels). */
  rows: number;
  cols: number;
  /** The input is [cols, rows]. */
  transposed: boolean;
  /** The input is float16 (two a u32 word). */
  half: boolean;
}

export interface YoloSegLayoutKernel {
  run(encoder: GPUCommandEncoder, inputs: { src: GPUBuffer; dst: GPUBuffer }, params: YoloSegLayoutParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

/** Bytes the input of `params` occupies (what `src` must hold at least). */
export function layoutInputBytes(params: YoloSegLayoutParams): number {
  return params.rows * params.cols * (params.half ? 2 : 4);
}

export function createYoloSegLayout(device: GPUDevice, label = 'yoloSegLayout'): YoloSegLayoutKernel {
  const pipeline = kernelPipelines(device, YOLO_SEG_LAYOUT).pipelines.main;
  const uniform = createUniformBuffer(device, `${label}.params`, PARAMS.size);
  let cached: { key: GPUBuffer[]; group: GPUBindGroup } | undefined;
  return {
    run(encoder, inputs, params, pass) {
      const total = params.rows * params.cols;
      if (total === 0) return;
      if (inputs.src.size < layoutInputBytes(params)) throw new Error(`${label}: the input has ${inputs.src.size} bytes, ${layoutInputBytes(params)} needed`);
      if (inputs.dst.size < total * 4) throw new Error(`${label}: the output has ${inputs.dst.size} bytes, ${total * 4} needed`);
      device.queue.writeBuffer(
        uniform,
        0,
        packUniforms(PARAMS, { rows: params.rows, cols: params.cols, transposed: params.transposed ? 1 : 0, half: params.half ? 1 : 0 }),
      );
      const key = [inputs.src, inputs.dst];
      if (!cached || cached.key.some((b, i) => b !== key[i])) {
        cached = {
          key,
          group: device.createBindGroup({
            label: `${label}.bindGroup`,
            layout: pipeline.getBindGroupLayout(0),
            entries: [...key.map((buffer, binding) => ({ binding, resource: { buffer } })), { binding: 2, resource: { buffer: uniform } }],
          }),
        };
      }
      const groups = Math.ceil(total / WORKGROUP);
      const p = encoder.beginComputePass(pass ?? { label });
      p.setPipeline(pipeline);
      p.setBindGroup(0, cached.group);
      p.dispatchWorkgroups(Math.min(groups, MAX_GROUPS_X), Math.ceil(groups / MAX_GROUPS_X));
      p.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
}
