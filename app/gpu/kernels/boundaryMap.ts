/**
 * Host code of shaders/boundary_map.wgsl: B2Inst's boundary-aware scoring inputs — per kept
 * record, its mask probability and Laplacian boundary (from the blender's logits, R = 56,
 * max pooled to R' = 28) and its RoI features, packed as [maxDetections, 2 + C, R', R'], the
 * scoring head's input. Reference: app/reference/boundaryMap.ts (which gives the choices and
 * their reasons).
 *
 * Inputs: the blender's logits (app/gpu/kernels/blender.ts) and the RoI features the RoIAlign
 * kernel wrote for the same records (`createRoiAlign`, `recordsRoiSource`, outSize R').
 *
 * Params are written with queue.writeBuffer at encode time: one kernel object per chain, at
 * most one `run` of it per submitted command buffer.
 */
import shaderCodeRaw from '../../../shaders/boundary_map.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { kernelPipelines, kernelSource, type KernelSource } from '../kernelCache';
import { ROI_ALIGN } from './roiAlign';
import { packUniforms, uniformLayout } from '../uniforms';
import { BOUNDARY_THRESHOLD, type BoundarySource } from '../../reference/boundaryMap';
import { linearDispatch } from './rpnDecode';

const shaderCode = withIncludes(shaderCodeRaw);

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const BOUNDARY_MAP = kernelSource({ name: 'boundaryMap', code: shaderCode, entryPoints: ['main'] });
/**
 * What a family's warm-up compiles for the scoring inputs (app/gpu/kernelCache.ts
 * `warmKernels`): RoIAlign, which makes the features, and this kernel.
 */
export const BOUNDARY_MAP_KERNELS: KernelSource[] = [ROI_ALIGN, BOUNDARY_MAP];
/** Params struct of boundary_map.wgsl, as the WGSL lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');
const WORKGROUP = 64;
/** `source` values of boundary_map.wgsl. */
const SOURCE_BINARY = 0;
const SOURCE_PROBABILITY = 1;

export interface BoundaryMapInputs {
  /** DetectionRecords (read: the count). */
  records: GPUBuffer;
  /** The blender's [maxDetections, R, R] f32. */
  maskLogits: GPUBuffer;
  /** [maxDetections, C, R', R'] f32, row n = record n. */
  roiFeatures: GPUBuffer;
  /** Output [maxDetections, 2 + C, R', R'] f32; see `boundaryMapBytes`. */
  output: GPUBuffer;
}

export interface BoundaryMapParams {
  maxDetections: number;
  /** R (56). */
  maskSize: number;
  /** R' (28), dividing R. */
  outSize: number;
  /** C. */
  channels: number;
  /** Default 'binary' (app/reference/boundaryMap.ts says why). */
  source?: BoundarySource;
}

export interface BoundaryMapKernel {
  run(encoder: GPUCommandEncoder, inputs: BoundaryMapInputs, params: BoundaryMapParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

/** Bytes of the packed output: maxDetections · (2 + C) · R'² f32. */
export function boundaryMapBytes(maxDetections: number, channels: number, outSize: number): number {
  return Math.max(4, 4 * maxDetections * (2 + channels) * outSize * outSize);
}

export function packBoundaryMapParams(p: BoundaryMapParams): ArrayBuffer {
  if (p.outSize < 1 || p.maskSize % p.outSize !== 0) throw new Error(`boundaryMap: R' ${p.outSize} does not divide R ${p.maskSize}`);
  return packUniforms(PARAMS, {
    maxDetections: p.maxDetections,
    maskSize: p.maskSize,
    outSize: p.outSize,
    channels: p.channels,
    source: p.source === 'probability' ? SOURCE_PROBABILITY : SOURCE_BINARY,
    boundaryThreshold: BOUNDARY_THRESHOLD,
  });
}

export function createBoundaryMap(device: GPUDevice): BoundaryMapKernel {
  const pipeline = kernelPipelines(device, BOUNDARY_MAP).pipelines.main;
  const uniform = createUniformBuffer(device, 'boundaryMap.params', PARAMS.size);
  let cached: { key: GPUBuffer[]; group: GPUBindGroup } | undefined;
  return {
    run(encoder, inputs, params, pass) {
      device.queue.writeBuffer(uniform, 0, packBoundaryMapParams(params));
      const total = params.maxDetections * (2 + params.channels) * params.outSize * params.outSize;
      if (total === 0) return;
      const key = [inputs.records, inputs.maskLogits, inputs.roiFeatures, inputs.output];
      if (!cached || cached.key.some((b, i) => b !== key[i])) {
        cached = {
          key,
          group: device.createBindGroup({
            label: 'boundaryMap.bindGroup',
            layout: pipeline.getBindGroupLayout(0),
            entries: [{ binding: 0, resource: { buffer: uniform } }, ...key.map((buffer, i) => ({ binding: i + 1, resource: { buffer } }))],
          }),
        };
      }
      const p = encoder.beginComputePass(pass ?? { label: 'boundaryMap' });
      p.setPipeline(pipeline);
      p.setBindGroup(0, cached.group);
      p.dispatchWorkgroups(...linearDispatch(total, WORKGROUP));
      p.end();
    },
    destroy() {
      uniform.destroy();
      cached = undefined;
    },
  };
}
