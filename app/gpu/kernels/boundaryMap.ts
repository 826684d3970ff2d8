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
import { BindGroupCache, bufferEntries, dispatchPass, entry } from '../bindGroups';
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
  /** Output [maxDetections, outChannels, R', R'] f32; see `boundaryMapBytes`. */
  output: GPUBuffer;
}

export interface BoundaryMapParams {
  maxDetections: number;
  /** R (56). */
  maskSize: number;
  /** R' (28), dividing R. */
  outSize: number;
  /** C (0: no features packed; `roiFeatures` may then be any buffer). */
  channels: number;
  /** Default 'binary' (app/reference/boundaryMap.ts says why). */
  source?: BoundarySource;
  /** Default true: the boundary ∈ {0, 1}; false: clamp(Laplacian, 0) (models/blendmask's head). */
  binarise?: boolean;
  /**
   * Channels of the packed [2 + C] layout this run writes: from `firstChannel` (default 0),
   * `outChannels` of them (default 2 + C). A head with separate inputs: mask (0, 1), boundary
   * (1, 1), one kernel object per run.
   */
  firstChannel?: number;
  outChannels?: number;
}

export interface BoundaryMapKernel {
  run(encoder: GPUCommandEncoder, inputs: BoundaryMapInputs, params: BoundaryMapParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

/** Bytes of the output: maxDetections · outChannels · R'² f32 (outChannels = 2 + C for the packed tensor). */
export function boundaryMapBytes(maxDetections: number, outChannels: number, outSize: number): number {
  return Math.max(4, 4 * maxDetections * outChannels * outSize * outSize);
}

function channelRange(p: BoundaryMapParams): { first: number; count: number } {
  const first = p.firstChannel ?? 0;
  const count = p.outChannels ?? 2 + p.channels - first;
  if (first < 0 || count < 1 || first + count > 2 + p.channels) throw new Error(`boundaryMap: channels ${first}..${first + count - 1} of ${2 + p.channels}`);
  return { first, count };
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
    firstChannel: channelRange(p).first,
    outChannels: channelRange(p).count,
    binarise: p.binarise === false ? 0 : 1,
  });
}

export function createBoundaryMap(device: GPUDevice): BoundaryMapKernel {
  const pipeline = kernelPipelines(device, BOUNDARY_MAP).pipelines.main;
  const uniform = createUniformBuffer(device, 'boundaryMap.params', PARAMS.size);
  const bindGroups = new BindGroupCache<GPUBindGroup>();
  return {
    run(encoder, inputs, params, pass) {
      device.queue.writeBuffer(uniform, 0, packBoundaryMapParams(params));
      const total = params.maxDetections * channelRange(params).count * params.outSize * params.outSize;
      if (total === 0) return;
      const key = [inputs.records, inputs.maskLogits, inputs.roiFeatures, inputs.output];
      const group = bindGroups.get(key, () =>
        device.createBindGroup({
          label: 'boundaryMap.bindGroup',
          layout: pipeline.getBindGroupLayout(0),
          entries: [entry(0, uniform), ...bufferEntries(key, 1)],
        }),
      );
      dispatchPass(encoder, pass ?? { label: 'boundaryMap' }, pipeline, group, linearDispatch(total, WORKGROUP));
    },
    destroy() {
      uniform.destroy();
      bindGroups.clear();
    },
  };
}
