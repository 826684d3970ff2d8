/**
 * Host code of shaders/mask_upsample.wgsl: proto-space masks → bit-packed InstanceMasks at
 * mask resolution `[maxDetections, maskH, ceil(maskW / 32)]` u32, and each record's maskArea.
 * Reference: `maskUpsampleReference` in app/reference/maskAssembly.ts.
 */
import shaderSourceRaw from '../../../shaders/mask_upsample.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';
import { maskThreshold, upsampleMapping, wordsPerRowFor, type MaskAssemblySpec } from '../../reference/maskAssembly';
import type { InputTransform } from '../layout';

const shaderSource = withIncludes(shaderSourceRaw);

export interface MaskUpsampleInputs {
  /** DetectionRecords; maskArea must be 0 beforehand (maskCoefficients resets it). */
  records: GPUBuffer;
  /** f32 [maxDetections, protoH, protoW] from maskCoefficients. */
  protoMasks: GPUBuffer;
  /** Output u32 [maxDetections, maskH, wordsPerRow]; see `maskBitsBytes`. */
  maskBits: GPUBuffer;
}

export interface MaskUpsampleParams {
  spec: Pick<MaskAssemblySpec, 'protoWidth' | 'protoHeight' | 'cropMode' | 'activation'>;
  transform: InputTransform;
  image: { width: number; height: number };
  mask: { width: number; height: number };
  maxDetections: number;
}

export interface MaskUpsampleKernel {
  run(encoder: GPUCommandEncoder, inputs: MaskUpsampleInputs, params: MaskUpsampleParams, pass?: GPUComputePassDescriptor): void;
  /** Frees the kernel's own buffers (not the inputs). */
  destroy(): void;
}

/** Bytes of the bit-mask buffer: maxDetections · maskH · ceil(maskW / 32) · 4. */
export function maskBitsBytes(mask: { width: number; height: number }, maxDetections: number): number {
  return Math.max(4, maxDetections * mask.height * wordsPerRowFor(mask.width) * 4);
}

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const MASK_UPSAMPLE = kernelSource({ name: 'maskUpsample', code: shaderSource, entryPoints: ['main'] });
/** Params struct of the WGSL, as it lays it out. */
const PARAMS = uniformLayout(shaderSource, 'Params');
const WORKGROUP = 64;
/** WebGPU's default maxComputeWorkgroupsPerDimension. */
const MAX_WORKGROUPS_PER_DIMENSION = 65535;
const CROP_CODES = { 'yolact-padded': 0, integer: 1, none: 2 } as const;

export function packMaskUpsampleParams(params: MaskUpsampleParams): ArrayBuffer {
  const { spec, mask } = params;
  const mapping = upsampleMapping(params.transform, params.image, mask, {
    width: spec.protoWidth,
    height: spec.protoHeight,
  });
  return packUniforms(PARAMS, {
    maskWidth: mask.width,
    maskHeight: mask.height,
    wordsPerRow: wordsPerRowFor(mask.width),
    maxDetections: params.maxDetections,
    protoWidth: spec.protoWidth,
    protoHeight: spec.protoHeight,
    cropMode: CROP_CODES[spec.cropMode],
    mapping: { ...mapping },
    threshold: maskThreshold(spec.activation),
  });
}

export function createMaskUpsample(device: GPUDevice): MaskUpsampleKernel {
  const pipeline = kernelPipelines(device, MASK_UPSAMPLE).pipelines.main;
  const uniform = createUniformBuffer(device, 'maskUpsample.params', PARAMS.size);
  let cached: { inputs: MaskUpsampleInputs; bindGroup: GPUBindGroup } | undefined;

  function bindGroupFor(inputs: MaskUpsampleInputs): GPUBindGroup {
    const c = cached?.inputs;
    if (cached && c && c.records === inputs.records && c.protoMasks === inputs.protoMasks && c.maskBits === inputs.maskBits) {
      return cached.bindGroup;
    }
    const bindGroup = device.createBindGroup({
      label: 'maskUpsample.bindGroup',
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: uniform } },
        { binding: 1, resource: { buffer: inputs.records } },
        { binding: 2, resource: { buffer: inputs.protoMasks } },
        { binding: 3, resource: { buffer: inputs.maskBits } },
      ],
    });
    cached = { inputs: { ...inputs }, bindGroup };
    return bindGroup;
  }

  return {
    /** One run per submit: the params live in this kernel's one uniform buffer. */
    run(encoder, inputs, params, pass) {
      const { mask, maxDetections } = params;
      if (maxDetections === 0) return;
      const groups = Math.ceil((mask.height * wordsPerRowFor(mask.width)) / WORKGROUP);
      if (groups > MAX_WORKGROUPS_PER_DIMENSION) {
        throw new Error(`maskUpsample: mask ${mask.width}x${mask.height} is too large; cap the mask size (maskSizeFor)`);
      }
      device.queue.writeBuffer(uniform, 0, packMaskUpsampleParams(params));
      const computePass = encoder.beginComputePass({ label: 'maskUpsample.pass', ...pass });
      computePass.setPipeline(pipeline);
      computePass.setBindGroup(0, bindGroupFor(inputs));
      computePass.dispatchWorkgroups(groups);
      computePass.end();
    },
    destroy() {
      uniform.destroy();
      cached = undefined;
    },
  };
}
