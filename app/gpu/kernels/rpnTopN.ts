/**
 * Host code of shaders/rpn_top_n.wgsl: per RPN level, the top min(topN, H·W·A) anchors by
 * objectness logit (descending, ties by lower anchor index) and their sigmoid probability.
 * Reference: app/reference/rpnTopN.ts.
 *
 * Outputs, row l = level l, row stride = topN:
 *   topIndices [L, topN] u32 anchor indices, topScores [L, topN] f32, topCounts [L] u32
 *   (entries past topCounts[l] are left as they were).
 * Params are written with queue.writeBuffer at encode time: one kernel object per chain, at
 * most one `run` of it per submitted command buffer.
 */
import shaderCodeRaw from '../../../shaders/rpn_top_n.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, bufferEntries, dispatchPass, entry } from '../bindGroups';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';
import { RPN_MAX_LEVELS } from './rpnDecode';

const shaderCode = withIncludes(shaderCodeRaw);

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const RPN_TOP_N = kernelSource({ name: 'rpnTopN', code: shaderCode, entryPoints: ['main'] });
/** Params struct of rpn_top_n.wgsl, as the WGSL lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');

/** In-workgroup sort capacity of the kernel (SORT_CAPACITY in the WGSL). */
export const MAX_TOP_N = 1024;

export interface RpnTopNInputs {
  /** [A_total] f32 objectness logits. */
  objectness: GPUBuffer;
  /** Outputs; see `rpnTopNBytes`. */
  topIndices: GPUBuffer;
  topScores: GPUBuffer;
  topCounts: GPUBuffer;
}

export interface RpnTopNParams {
  /** First anchor and anchor count of each level (levelOffsets in app/reference/rpnDecode.ts). */
  offsets: readonly number[];
  counts: readonly number[];
  /** Pre-NMS top-n per level, ≤ MAX_TOP_N (torchvision test: 1000). */
  topN: number;
}

export interface RpnTopNKernel {
  run(encoder: GPUCommandEncoder, inputs: RpnTopNInputs, params: RpnTopNParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

/** Bytes of topIndices / topScores ([L, topN]) and of topCounts ([L]). */
export function rpnTopNBytes(numLevels: number, topN: number): { rows: number; counts: number } {
  return { rows: 4 * numLevels * Math.max(1, topN), counts: 4 * numLevels };
}

export function createRpnTopN(device: GPUDevice): RpnTopNKernel {
  const pipeline = kernelPipelines(device, RPN_TOP_N).pipelines.main;
  const uniform = createUniformBuffer(device, 'rpnTopN.params', PARAMS.size);
  const bindGroups = new BindGroupCache<GPUBindGroup>();
  return {
    run(encoder, inputs, params, pass) {
      const numLevels = params.offsets.length;
      if (params.topN > MAX_TOP_N) throw new Error(`rpnTopN: topN ${params.topN} exceeds ${MAX_TOP_N}`);
      if (numLevels > RPN_MAX_LEVELS) throw new Error(`rpnTopN: ${numLevels} levels exceed ${RPN_MAX_LEVELS}`);
      if (numLevels === 0) return;
      const numAnchors = params.offsets[numLevels - 1]! + params.counts[numLevels - 1]!;
      const indexBits = Math.max(1, Math.ceil(Math.log2(Math.max(1, numAnchors))));
      const levels = params.offsets.map((first, l) => [first, params.counts[l]!]);
      device.queue.writeBuffer(uniform, 0, packUniforms(PARAMS, { numLevels, topN: params.topN, numAnchors, indexBits, levels }));
      const key = [inputs.objectness, inputs.topIndices, inputs.topScores, inputs.topCounts];
      const group = bindGroups.get(key, () =>
        device.createBindGroup({ label: 'rpnTopN.bindGroup', layout: pipeline.getBindGroupLayout(0), entries: [entry(0, uniform), ...bufferEntries(key, 1)] }),
      );
      dispatchPass(encoder, pass ?? { label: 'rpnTopN' }, pipeline, group, [numLevels]); // one workgroup per level
    },
    destroy() {
      uniform.destroy();
      bindGroups.clear();
    },
  };
}
