/**
 * Host code of shaders/rpn_decode.wgsl: anchors generated in the kernel + RPN deltas decoded
 * into clipped proposals and a validity flag. Reference: app/reference/rpnDecode.ts.
 *
 * Outputs: proposals [A_total, 4] f32 xyxy (input pixels), valid [A_total] u32 (1 = both
 * sides ≥ 1e-3). Params are written with queue.writeBuffer at encode time: one kernel object
 * per chain, at most one `run` of it per submitted command buffer.
 */
import shaderCodeRaw from '../../../shaders/rpn_decode.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, bufferEntries, dispatchPass, entry } from '../bindGroups';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout, vec4Chunks } from '../uniforms';
import { BBOX_XFORM_CLIP, levelOffsets, RPN_MIN_SIZE, type RpnGeometry } from '../../reference/rpnDecode';

const shaderCode = withIncludes(shaderCodeRaw);

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const RPN_DECODE = kernelSource({ name: 'rpnDecode', code: shaderCode, entryPoints: ['main'] });
/** Params struct of rpn_decode.wgsl, as the WGSL lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');
/** Capacity of the params arrays (MAX levels / ratios). */
export const RPN_MAX_LEVELS = 8;
export const RPN_MAX_RATIOS = 8;
const WORKGROUP = 64;
/** WebGPU's default maxComputeWorkgroupsPerDimension. */
export const MAX_WORKGROUPS_PER_DIMENSION = 65535;

export interface RpnDecodeInputs {
  /** [A_total, 4] f32 deltas (dx, dy, dw, dh). */
  rpnDeltas: GPUBuffer;
  /** Outputs: [A_total, 4] f32 and [A_total] u32. */
  proposals: GPUBuffer;
  valid: GPUBuffer;
}

export interface RpnDecodeParams {
  geometry: RpnGeometry;
  input: { width: number; height: number };
}

export interface RpnDecodeKernel {
  run(encoder: GPUCommandEncoder, inputs: RpnDecodeInputs, params: RpnDecodeParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

/**
 * Workgroup counts for `n` invocations of `workgroup` lanes, folded into 2D so that no
 * dimension exceeds 65535 (kernels rebuild the linear index as (y · groups.x + x) · size + lane).
 */
export function linearDispatch(n: number, workgroup: number): [number, number] {
  const groups = Math.ceil(n / workgroup);
  if (groups <= MAX_WORKGROUPS_PER_DIMENSION) return [groups, 1];
  const y = Math.ceil(groups / MAX_WORKGROUPS_PER_DIMENSION);
  return [Math.ceil(groups / y), y];
}

export function packRpnDecodeParams(params: RpnDecodeParams): ArrayBuffer {
  const { geometry: g, input } = params;
  if (g.levels.length > RPN_MAX_LEVELS || g.levels.length === 0) throw new Error(`rpnDecode: ${g.levels.length} levels (1..${RPN_MAX_LEVELS})`);
  if (g.ratios.length > RPN_MAX_RATIOS || g.ratios.length === 0) throw new Error(`rpnDecode: ${g.ratios.length} ratios (1..${RPN_MAX_RATIOS})`);
  const { offsets, total } = levelOffsets(g);
  return packUniforms(PARAMS, {
    numLevels: g.levels.length,
    numRatios: g.ratios.length,
    numAnchors: total,
    inputWidth: input.width,
    inputHeight: input.height,
    clip: BBOX_XFORM_CLIP,
    minSize: RPN_MIN_SIZE,
    levels: g.levels.map((l, i) => [l.height, l.width, offsets[i]!, l.stride]),
    sizes: vec4Chunks(g.levels.map((l) => l.size)),
    ratios: vec4Chunks(g.ratios),
  });
}

export function createRpnDecode(device: GPUDevice): RpnDecodeKernel {
  const pipeline = kernelPipelines(device, RPN_DECODE).pipelines.main;
  const uniform = createUniformBuffer(device, 'rpnDecode.params', PARAMS.size);
  const bindGroups = new BindGroupCache<GPUBindGroup>();
  return {
    run(encoder, inputs, params, pass) {
      const total = levelOffsets(params.geometry).total;
      device.queue.writeBuffer(uniform, 0, packRpnDecodeParams(params));
      if (total === 0) return;
      const key = [inputs.rpnDeltas, inputs.proposals, inputs.valid];
      const group = bindGroups.get(key, () =>
        device.createBindGroup({
          label: 'rpnDecode.bindGroup',
          layout: pipeline.getBindGroupLayout(0),
          entries: [entry(0, uniform), ...bufferEntries(key, 1)],
        }),
      );
      dispatchPass(encoder, pass ?? { label: 'rpnDecode' }, pipeline, group, linearDispatch(total, WORKGROUP));
    },
    destroy() {
      uniform.destroy();
      bindGroups.clear();
    },
  };
}
