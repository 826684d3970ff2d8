/**
 * Host code of shaders/blender.wgsl: BlendMask's (and B2Inst's) blender — per kept record,
 * RoIAlign of the K bases to R×R (aligned, sampling 1, scale ¼), its K×M×M attention
 * upsampled to R×R, softmax over K, Σ_K → mask logits [maxDetections, R, R].
 * Reference: app/reference/blender.ts (`blenderReference`), which spells out the maths.
 *
 * The logits go to maskPaste with `mode: 'detectron2'`, `maskSize: R`, `classAgnostic: true`
 * (one mask a row, whatever the record's class) — it applies the sigmoid and pastes into the
 * shared bit masks — and to boundaryMap (B2Inst's scoring inputs).
 *
 * Attentions: `levels[l]` is the buffer of FCOS level l's top_feats with its first global
 * location (records' sourceIndex is the global location); `nchwAttention` describes
 * AdelaiDet's per-level [1, K·M·M, H, W] export.
 *
 * Params are written with queue.writeBuffer at encode time: one kernel object per chain, at
 * most one `run` of it per submitted command buffer.
 */
import shaderCodeRaw from '../../../shaders/blender.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, bufferEntries, dispatchPass, entry } from '../bindGroups';
import { kernelPipelines, kernelSource, type KernelSource } from '../kernelCache';
import { MASK_PASTE } from './maskPaste';
import { packUniforms, uniformLayout } from '../uniforms';
import { linearDispatch } from './rpnDecode';

const shaderCode = withIncludes(shaderCodeRaw);

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const BLENDER = kernelSource({ name: 'blender', code: shaderCode, entryPoints: ['main'] });
/**
 * What a family's warm-up compiles for its mask step (app/gpu/kernelCache.ts `warmKernels`):
 * the blender and the paste it feeds.
 */
export const BLENDER_KERNELS: KernelSource[] = [BLENDER, MASK_PASTE];
/** Params struct of blender.wgsl, as the WGSL lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');
const WORKGROUP = 64;
/** MAX_BASES of the WGSL (the softmax's registers). */
export const BLENDER_MAX_BASES = 8;
/** Attention levels the shader binds (FCOS P3..P7). */
export const BLENDER_MAX_LEVELS = 5;

/** One FCOS level's attentions; see app/reference/blender.ts `AttentionLevel`. */
export interface AttentionLevelBuffer {
  buffer: GPUBuffer;
  first: number;
  locations: number;
  locStride: number;
  featStride: number;
}

/** AdelaiDet's top_feats [1, K·M·M, H, W] of a level whose first global location is `first`. */
export function nchwAttention(buffer: GPUBuffer, first: number, height: number, width: number): AttentionLevelBuffer {
  return { buffer, first, locations: height * width, locStride: 1, featStride: height * width };
}

export interface BlenderInputs {
  /** DetectionRecords (read): box relative to the input, sourceIndex = global location. */
  records: GPUBuffer;
  /** [K, Hb, Wb] f32 (the bases at stride 4; B2Inst's boundary basis is channel K − 1). */
  bases: GPUBuffer;
  /** Per FCOS level, ordered by `first`. */
  attention: readonly AttentionLevelBuffer[];
  /** Output [maxDetections, R, R] f32; see `blenderLogitsBytes`. */
  logits: GPUBuffer;
}

export interface BlenderParams {
  maxDetections: number;
  /** K: 4 (BlendMask), 5 (B2Inst). */
  numBases: number;
  basisHeight: number;
  basisWidth: number;
  /** R (56). */
  outSize: number;
  /** M (14). */
  attnSize: number;
  /** The model input (relative boxes → pixels). */
  input: { width: number; height: number };
  /** 1 / basis stride (0.25). */
  spatialScale: number;
}

export interface BlenderKernel {
  run(encoder: GPUCommandEncoder, inputs: BlenderInputs, params: BlenderParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

export function blenderLogitsBytes(maxDetections: number, outSize: number): number {
  return Math.max(4, 4 * maxDetections * outSize * outSize);
}

export function packBlenderParams(p: BlenderParams, attention: readonly Omit<AttentionLevelBuffer, 'buffer'>[]): ArrayBuffer {
  if (p.numBases < 1 || p.numBases > BLENDER_MAX_BASES) throw new Error(`blender: ${p.numBases} bases (1..${BLENDER_MAX_BASES})`);
  if (attention.length < 1 || attention.length > BLENDER_MAX_LEVELS)
    throw new Error(`blender: ${attention.length} attention levels (1..${BLENDER_MAX_LEVELS})`);
  for (let l = 1; l < attention.length; l++) {
    if (attention[l]!.first < attention[l - 1]!.first + attention[l - 1]!.locations) throw new Error('blender: attention levels overlap or are out of order');
  }
  const levels = Array.from({ length: BLENDER_MAX_LEVELS }, (_, l) => {
    const a = attention[l];
    return a ? [a.first, a.locations, a.locStride, a.featStride] : [0xffffffff, 0, 0, 0];
  });
  return packUniforms(PARAMS, {
    maxDetections: p.maxDetections,
    numBases: p.numBases,
    basisHeight: p.basisHeight,
    basisWidth: p.basisWidth,
    outSize: p.outSize,
    attnSize: p.attnSize,
    numLevels: attention.length,
    inputWidth: p.input.width,
    inputHeight: p.input.height,
    spatialScale: p.spatialScale,
    levels,
  });
}

export function createBlender(device: GPUDevice): BlenderKernel {
  const pipeline = kernelPipelines(device, BLENDER).pipelines.main;
  const uniform = createUniformBuffer(device, 'blender.params', PARAMS.size);
  const bindGroups = new BindGroupCache<GPUBindGroup>();
  return {
    run(encoder, inputs, params, pass) {
      device.queue.writeBuffer(uniform, 0, packBlenderParams(params, inputs.attention));
      const total = params.maxDetections * params.outSize * params.outSize;
      if (total === 0) return;
      const a = inputs.attention.map((l) => l.buffer);
      // Unused attention bindings get level 0 again (read-only: binding it twice is allowed).
      const key = [inputs.records, inputs.bases, ...Array.from({ length: BLENDER_MAX_LEVELS }, (_, l) => a[l] ?? a[0]!), inputs.logits];
      const group = bindGroups.get(key, () =>
        device.createBindGroup({ label: 'blender.bindGroup', layout: pipeline.getBindGroupLayout(0), entries: [entry(0, uniform), ...bufferEntries(key, 1)] }),
      );
      dispatchPass(encoder, pass ?? { label: 'blender' }, pipeline, group, linearDispatch(total, WORKGROUP));
    },
    destroy() {
      uniform.destroy();
      bindGroups.clear();
    },
  };
}
