/**
 * Host code of shaders/preprocess.wgsl: source texture (rgba8unorm, TEXTURE_BINDING) →
 * model input tensor f32 NCHW [1, 3, H, W] (a storage buffer of 12·H·W bytes, e.g. the one
 * handed to `ort.Tensor.fromGpuBuffer`).
 *
 * `run` writes its params with queue.writeBuffer at encode time, so use one kernel object
 * per chain (pane) and at most one `run` of it per submitted command buffer.
 */
import shaderCode from '../../../shaders/preprocess.wgsl?raw';
import type { InputTransform } from '../layout';
import { resizeGeometry, type InputSpec } from '../../reference/preprocess';
import { createUniformBuffer } from '../buffers';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const PREPROCESS = kernelSource({ name: 'preprocess', code: shaderCode, entryPoints: ['main'] });
/** Params struct of the WGSL, as it lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');
const WORKGROUP = 8;

export interface PreprocessInputs {
  /** rgba8unorm texture of the image / frame, at its own size. */
  source: GPUTexture;
  /** Output tensor, ≥ 3·H·W f32. */
  tensor: GPUBuffer;
}

export interface PreprocessKernel {
  /** Encodes one pass; returns the input→image transform for this source size. */
  run(encoder: GPUCommandEncoder, inputs: PreprocessInputs, input: InputSpec, pass?: GPUComputePassDescriptor): InputTransform;
  destroy(): void;
}

export function tensorBytes(input: InputSpec): number {
  return 3 * input.width * input.height * 4;
}

export function createPreprocess(device: GPUDevice): PreprocessKernel {
  const pipeline = kernelPipelines(device, PREPROCESS).pipelines.main;
  const params = createUniformBuffer(device, 'preprocess.params', PARAMS.size);
  const bindGroups = new WeakMap<GPUTexture, Map<GPUBuffer, GPUBindGroup>>();
  const bindGroupFor = (source: GPUTexture, tensor: GPUBuffer): GPUBindGroup => {
    let byTensor = bindGroups.get(source);
    if (!byTensor) bindGroups.set(source, (byTensor = new Map<GPUBuffer, GPUBindGroup>()));
    let group = byTensor.get(tensor);
    if (!group) {
      group = device.createBindGroup({
        label: 'preprocess.bindGroup',
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: source.createView({ label: 'preprocess.sourceView' }) },
          { binding: 1, resource: { buffer: tensor } },
          { binding: 2, resource: { buffer: params } },
        ],
      });
      byTensor.set(tensor, group);
    }
    return group;
  };

  return {
    run(encoder, { source, tensor }, input, pass) {
      const geometry = resizeGeometry(source.width, source.height, input);
      const data = packUniforms(PARAMS, {
        outSize: [input.width, input.height],
        resized: [geometry.resizedWidth, geometry.resizedHeight],
        pad: [geometry.padLeft, geometry.padTop],
        bgr: input.channels === 'bgr',
        scale: input.scale,
        mean: input.mean,
        stdDev: input.std,
        padValue: input.padValue ?? 114,
      });
      // Written at queue time: one preprocess per encoder and kernel object (several panes
      // each own a kernel object, so their params never race).
      device.queue.writeBuffer(params, 0, data);
      const p = encoder.beginComputePass(pass ?? { label: 'preprocess' });
      p.setPipeline(pipeline);
      p.setBindGroup(0, bindGroupFor(source, tensor));
      p.dispatchWorkgroups(Math.ceil(input.width / WORKGROUP), Math.ceil(input.height / WORKGROUP));
      p.end();
      return geometry.transform;
    },
    destroy() {
      params.destroy();
    },
  };
}
