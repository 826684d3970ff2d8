/**
 * Host code of shaders/mask_coefficients.wgsl: proto-space masks `[maxDetections, H, W]`
 * from the prototypes, the raw coefficients and the DetectionRecords of the NMS stage.
 * Reference: `maskCoefficientsReference` in app/reference/maskAssembly.ts.
 */
import shaderSourceRaw from '../../../shaders/mask_coefficients.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';
import { MAX_PROTOTYPES, type MaskAssemblySpec } from '../../reference/maskAssembly';

const shaderSource = withIncludes(shaderSourceRaw);

export interface MaskCoefficientsInputs {
  /** DetectionRecords (app/gpu/layout.ts); maskArea of each kept record is reset to 0. */
  records: GPUBuffer;
  /** Raw coefficients, addressed through `spec.coefficients` (YOLACT `mask` [N, 32]). */
  coefficients: GPUBuffer;
  /** Prototypes [H, W, K] or [K, H, W] (`spec.protoLayout`). */
  protos: GPUBuffer;
  /** Output f32 [maxDetections, H, W]; see `protoMasksBytes`. */
  protoMasks: GPUBuffer;
}

export interface MaskCoefficientsParams {
  spec: MaskAssemblySpec;
  /** Records the dispatch covers (the records buffer's capacity). */
  maxDetections: number;
}

export interface MaskCoefficientsKernel {
  run(encoder: GPUCommandEncoder, inputs: MaskCoefficientsInputs, params: MaskCoefficientsParams, pass?: GPUComputePassDescriptor): void;
  /** Frees the kernel's own buffers (not the inputs). */
  destroy(): void;
}

/** Bytes of the proto-space masks buffer: maxDetections · H · W · 4. */
export function protoMasksBytes(spec: Pick<MaskAssemblySpec, 'protoWidth' | 'protoHeight'>, maxDetections: number): number {
  return Math.max(4, maxDetections * spec.protoHeight * spec.protoWidth * 4);
}

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const MASK_COEFFICIENTS = kernelSource({ name: 'maskCoefficients', code: shaderSource, entryPoints: ['main'] });
/** Params struct of the WGSL, as it lays it out. */
const PARAMS = uniformLayout(shaderSource, 'Params');
const TILE = 8;
const CROP_CODES = { 'yolact-padded': 0, integer: 1, none: 2 } as const;

export function packMaskCoefficientsParams(params: MaskCoefficientsParams): ArrayBuffer {
  const { spec } = params;
  return packUniforms(PARAMS, {
    protoWidth: spec.protoWidth,
    protoHeight: spec.protoHeight,
    numPrototypes: spec.numPrototypes,
    maxDetections: params.maxDetections,
    protoLayout: spec.protoLayout === 'nchw' ? 1 : 0,
    cropMode: CROP_CODES[spec.cropMode],
    activation: spec.activation === 'sigmoid' ? 0 : 1,
    coeffOffset: spec.coefficients.offset,
    coeffIndexStride: spec.coefficients.indexStride,
    coeffKStride: spec.coefficients.kStride,
  });
}

export function createMaskCoefficients(device: GPUDevice): MaskCoefficientsKernel {
  const pipeline = kernelPipelines(device, MASK_COEFFICIENTS).pipelines.main;
  const uniform = createUniformBuffer(device, 'maskCoefficients.params', PARAMS.size);
  let cached: { inputs: MaskCoefficientsInputs; bindGroup: GPUBindGroup } | undefined;

  function bindGroupFor(inputs: MaskCoefficientsInputs): GPUBindGroup {
    const c = cached?.inputs;
    if (
      cached &&
      c &&
      c.records === inputs.records &&
      c.coefficients === inputs.coefficients &&
      c.protos === inputs.protos &&
      c.protoMasks === inputs.protoMasks
    ) {
      return cached.bindGroup;
    }
    const bindGroup = device.createBindGroup({
      label: 'maskCoefficients.bindGroup',
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: uniform } },
        { binding: 1, resource: { buffer: inputs.records } },
        { binding: 2, resource: { buffer: inputs.coefficients } },
        { binding: 3, resource: { buffer: inputs.protos } },
        { binding: 4, resource: { buffer: inputs.protoMasks } },
      ],
    });
    cached = { inputs: { ...inputs }, bindGroup };
    return bindGroup;
  }

  return {
    /** One run per submit: the params live in this kernel's one uniform buffer. */
    run(encoder, inputs, params, pass) {
      const { spec, maxDetections } = params;
      if (spec.numPrototypes < 1 || spec.numPrototypes > MAX_PROTOTYPES) {
        throw new Error(`maskCoefficients: ${spec.numPrototypes} prototypes; 1 to ${MAX_PROTOTYPES} are supported`);
      }
      if (maxDetections === 0) return;
      device.queue.writeBuffer(uniform, 0, packMaskCoefficientsParams(params));
      const computePass = encoder.beginComputePass({ label: 'maskCoefficients.pass', ...pass });
      computePass.setPipeline(pipeline);
      computePass.setBindGroup(0, bindGroupFor(inputs));
      computePass.dispatchWorkgroups(Math.ceil(spec.protoWidth / TILE), Math.ceil(spec.protoHeight / TILE));
      computePass.end();
    },
    destroy() {
      uniform.destroy();
      cached = undefined;
    },
  };
}
