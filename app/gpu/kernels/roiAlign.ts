/**
 * Host code of shaders/roi_align.wgsl (multi-level RoIAlign). RoIPool (roiPool.ts,
 * shaders/roi_pool.wgsl) has the same inputs, outputs and params, so the two are
 * interchangeable (`TwoStageConfig.pooler`); both are built by `createRoiPooler` here.
 * References: app/reference/roiAlign.ts, app/reference/roiPool.ts.
 *
 * Output: [R, C, out, out] f32 (R = `numRois`, the fixed row count the head was exported
 * with); rows at or past the GPU-side count are 0.
 * Params are written with queue.writeBuffer at encode time: one kernel object per use in a
 * frame (the box and the mask pooling each need their own), at most one `run` of it per
 * submitted command buffer.
 */
import shaderCodeRaw from '../../../shaders/roi_align.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, bufferEntries, dispatchPass, entry } from '../bindGroups';
import { RECORD_FLOATS, RECORD_HEADER_BYTES } from '../layout';
import { kernelPipelines, kernelSource, type KernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';
import type { RoiLevelMapping } from '../../reference/roiAlign';
import { linearDispatch } from './rpnDecode';

const shaderCode = withIncludes(shaderCodeRaw);

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const ROI_ALIGN = kernelSource({ name: 'roiAlign', code: shaderCode, entryPoints: ['main'] });
/** What roi_align.wgsl and roi_pool.wgsl both have. */
export type RoiPoolerSource = KernelSource<'main'>;
/**
 * Params struct of roi_align.wgsl / roi_pool.wgsl (shaders/common/roi_levels.wgsl), as the
 * WGSL lays it out.
 */
const PARAMS = uniformLayout(shaderCode, 'Params');
const WORKGROUP = 64;
/** `levelRule` values of common/roi_levels.wgsl: FPN's Equation 1, CenterMask's Equation 2. */
const LEVEL_RULE_SCALE = 0;
const LEVEL_RULE_RATIO = 1;
/** Feature maps the shader binds (P2..P5). */
export const ROI_MAX_LEVELS = 4;

/**
 * Where the RoIs are: box n = boxes[offsetWords + n·strideWords .. + 4] (xyxy f32) scaled by
 * (scaleX, scaleY) into input pixels; the number of valid boxes is the u32 at word
 * `countWord` of `count` (it may be the same buffer).
 */
export interface RoiSource {
  boxes: GPUBuffer;
  offsetWords: number;
  strideWords: number;
  scaleX: number;
  scaleY: number;
  count: GPUBuffer;
  countWord: number;
}

/** RoIs as the RPN stage writes them: rois [R, 4] in input pixels, roiCount word 0. */
export function pixelRoiSource(rois: GPUBuffer, roiCount: GPUBuffer): RoiSource {
  return { boxes: rois, offsetWords: 0, strideWords: 4, scaleX: 1, scaleY: 1, count: roiCount, countWord: 0 };
}

/** DetectionRecords (app/gpu/layout.ts): boxes relative to the input, count in header word 0. */
export function recordsRoiSource(records: GPUBuffer, input: { width: number; height: number }): RoiSource {
  return {
    boxes: records,
    offsetWords: RECORD_HEADER_BYTES / 4,
    strideWords: RECORD_FLOATS,
    scaleX: input.width,
    scaleY: input.height,
    count: records,
    countWord: 0,
  };
}

export interface RoiPoolerInputs {
  rois: RoiSource;
  /** P2..P5 (or fewer), NCHW [1, C, H_l, W_l] f32. */
  features: readonly GPUBuffer[];
  /** Output [numRois, C, outSize, outSize] f32; see `roiFeaturesBytes`. */
  output: GPUBuffer;
}

export interface RoiPoolerParams extends RoiLevelMapping {
  numRois: number;
  channels: number;
  outSize: number;
  /** Per feature map: [height, width] and 1 / stride. */
  levelSizes: ReadonlyArray<readonly [number, number]>;
  spatialScales: readonly number[];
  /** RoIAlign only: > 0 fixed, ≤ 0 adaptive. */
  samplingRatio: number;
  /** RoIAlign only: half-pixel offset. */
  aligned: boolean;
}

export interface RoiPoolerKernel {
  run(encoder: GPUCommandEncoder, inputs: RoiPoolerInputs, params: RoiPoolerParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

export function roiFeaturesBytes(numRois: number, channels: number, outSize: number): number {
  return Math.max(4, 4 * numRois * channels * outSize * outSize);
}

export function packRoiPoolerParams(p: RoiPoolerParams, rois: RoiSource): ArrayBuffer {
  const numLevels = p.levelSizes.length;
  if (p.rule === 'ratio' && !(p.inputArea !== undefined && p.inputArea > 0)) throw new Error('roi pooling: the “ratio” level rule needs inputArea');
  if (numLevels < 1 || numLevels > ROI_MAX_LEVELS) throw new Error(`roi pooling: ${numLevels} feature maps (1..${ROI_MAX_LEVELS})`);
  return packUniforms(PARAMS, {
    numRois: p.numRois,
    channels: p.channels,
    outSize: p.outSize,
    numLevels,
    roiOffset: rois.offsetWords,
    roiStride: rois.strideWords,
    countWord: rois.countWord,
    samplingRatio: p.samplingRatio,
    aligned: p.aligned,
    minLevel: p.minLevel,
    maxLevel: p.maxLevel,
    levelRule: p.rule === 'ratio' ? LEVEL_RULE_RATIO : LEVEL_RULE_SCALE,
    roiScaleX: rois.scaleX,
    roiScaleY: rois.scaleY,
    canonicalScale: p.canonicalScale,
    canonicalLevel: p.canonicalLevel,
    levelSizes: p.levelSizes.map(([h, w]) => [h, w]),
    spatialScales: p.spatialScales,
    inputArea: p.inputArea ?? 0,
  });
}

/** @param source ROI_ALIGN | ROI_POOL (its name labels the GPU objects). */
export function createRoiPooler(device: GPUDevice, source: RoiPoolerSource): RoiPoolerKernel {
  const name = source.name;
  const pipeline = kernelPipelines(device, source).pipelines.main;
  const uniform = createUniformBuffer(device, `${name}.params`, PARAMS.size);
  const bindGroups = new BindGroupCache<GPUBindGroup>();
  return {
    run(encoder, inputs, params, pass) {
      const total = params.numRois * params.channels * params.outSize * params.outSize;
      device.queue.writeBuffer(uniform, 0, packRoiPoolerParams(params, inputs.rois));
      if (total === 0) return;
      const f = inputs.features;
      if (f.length !== params.levelSizes.length) throw new Error(`${name}: ${f.length} feature buffers for ${params.levelSizes.length} levels`);
      // Unused feature bindings get P2 again (read-only: binding it twice is allowed).
      const key = [inputs.rois.boxes, inputs.rois.count, f[0]!, f[1] ?? f[0]!, f[2] ?? f[0]!, f[3] ?? f[0]!, inputs.output];
      const group = bindGroups.get(key, () =>
        device.createBindGroup({ label: `${name}.bindGroup`, layout: pipeline.getBindGroupLayout(0), entries: [entry(0, uniform), ...bufferEntries(key, 1)] }),
      );
      dispatchPass(encoder, pass ?? { label: name }, pipeline, group, linearDispatch(total, WORKGROUP));
    },
    destroy() {
      uniform.destroy();
      bindGroups.clear();
    },
  };
}

export function createRoiAlign(device: GPUDevice): RoiPoolerKernel {
  return createRoiPooler(device, ROI_ALIGN);
}
