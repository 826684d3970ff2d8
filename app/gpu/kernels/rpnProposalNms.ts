/**
 * Host code of shaders/rpn_proposal_nms.wgsl: per-level greedy NMS of the RPN proposals,
 * then the best R across levels into a fixed-size RoI buffer.
 * Reference: app/reference/rpnProposalNms.ts.
 *
 * Outputs: rois [R, 4] f32 xyxy (input pixels; rows ≥ count are 0), roiScores [R] f32,
 * roiCount u32 [4] = (count = min(R, kept), kept over all levels, 0, 0). Scratch buffers
 * (suppression matrix, kept lists) are owned here.
 * Params are written with queue.writeBuffer at encode time: one kernel object per chain, at
 * most one `run` of it per submitted command buffer.
 */
import shaderCodeRaw from '../../../shaders/rpn_proposal_nms.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, entry } from '../bindGroups';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';
import { MAX_TOP_N } from './rpnTopN';

const shaderCode = withIncludes(shaderCodeRaw);

/** Params struct of rpn_proposal_nms.wgsl, as the WGSL lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');
/** u32 words of one suppression-matrix row (MASK_WORDS in the WGSL). */
const MASK_WORDS = MAX_TOP_N / 32;
const WORKGROUP = 64;

export interface RpnProposalNmsInputs {
  /** From rpnDecode: [A_total, 4] f32 proposals and [A_total] u32 validity. */
  proposals: GPUBuffer;
  valid: GPUBuffer;
  /** [A_total] f32 logits. */
  objectness: GPUBuffer;
  /** From rpnTopN: [L, topN] anchor indices and [L] counts. */
  topIndices: GPUBuffer;
  topCounts: GPUBuffer;
  /** Outputs; see `rpnRoiBytes`. */
  rois: GPUBuffer;
  roiScores: GPUBuffer;
  roiCount: GPUBuffer;
}

export interface RpnProposalNmsParams {
  numLevels: number;
  /** Row stride of topIndices (the topN rpnTopN ran with), ≤ MAX_TOP_N. */
  topN: number;
  /** R = rpnPostNmsTopN. */
  numRois: number;
  /** IoU above which a proposal is suppressed (0.7). */
  nmsIou: number;
}

export interface RpnProposalNmsKernel {
  run(encoder: GPUCommandEncoder, inputs: RpnProposalNmsInputs, params: RpnProposalNmsParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

/** Bytes of rois [R, 4] f32, roiScores [R] f32 and roiCount [4] u32. */
export function rpnRoiBytes(numRois: number): { rois: number; scores: number; count: number } {
  return { rois: 16 * Math.max(1, numRois), scores: 4 * Math.max(1, numRois), count: 16 };
}

/** The bindings each entry point uses (its 'auto' layout holds only those). */
const ENTRY_BINDINGS = {
  suppression: [0, 1, 4, 5, 6],
  walk: [0, 2, 4, 5, 6, 7, 8],
  merge: [0, 1, 3, 4, 7, 8, 9, 10, 11],
} as const;
type Entry = keyof typeof ENTRY_BINDINGS;

/** The kernel's pipelines (app/gpu/kernelCache.ts): 'auto' layouts, one per entry point. */
export const RPN_PROPOSAL_NMS = kernelSource<Entry>({ name: 'rpnProposalNms', code: shaderCode, entryPoints: ['suppression', 'walk', 'merge'] });

export function createRpnProposalNms(device: GPUDevice): RpnProposalNmsKernel {
  const entries = RPN_PROPOSAL_NMS.entryPoints;
  const { pipelines } = kernelPipelines(device, RPN_PROPOSAL_NMS);
  const uniform = createUniformBuffer(device, 'rpnProposalNms.params', PARAMS.size);
  let scratch: { masks: GPUBuffer; kept: GPUBuffer; keptCounts: GPUBuffer; levels: number; topN: number } | undefined;
  const bindGroups = new BindGroupCache<Record<Entry, GPUBindGroup>>();

  function scratchFor(levels: number, topN: number) {
    if (!scratch || scratch.levels < levels || scratch.topN < topN) {
      scratch?.masks.destroy();
      scratch?.kept.destroy();
      scratch?.keptCounts.destroy();
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
      scratch = {
        // masks [L, MAX_TOP_N, MASK_WORDS] u32: 5 levels → 640 KiB
        masks: device.createBuffer({ label: 'rpnProposalNms.masks', size: 4 * levels * MAX_TOP_N * MASK_WORDS, usage }),
        kept: device.createBuffer({ label: 'rpnProposalNms.kept', size: 4 * levels * Math.max(1, topN), usage }),
        keptCounts: device.createBuffer({ label: 'rpnProposalNms.keptCounts', size: Math.max(16, 4 * levels), usage }),
        levels,
        topN,
      };
    }
    return scratch;
  }

  return {
    run(encoder, inputs, params, pass) {
      const { numLevels, topN, numRois } = params;
      if (topN > MAX_TOP_N) throw new Error(`rpnProposalNms: topN ${topN} exceeds ${MAX_TOP_N}`);
      if (numLevels === 0 || numRois === 0) return;
      device.queue.writeBuffer(uniform, 0, packUniforms(PARAMS, { numLevels, topN, numRois, nmsIou: params.nmsIou }));
      const s = scratchFor(numLevels, topN);
      const buffers: GPUBuffer[] = [
        uniform,
        inputs.proposals,
        inputs.valid,
        inputs.objectness,
        inputs.topIndices,
        inputs.topCounts,
        s.masks,
        s.kept,
        s.keptCounts,
        inputs.rois,
        inputs.roiScores,
        inputs.roiCount,
      ];
      const groups = bindGroups.get(
        buffers,
        () =>
          Object.fromEntries(
            entries.map((e) => [
              e,
              device.createBindGroup({
                label: `rpnProposalNms.${e}.bindGroup`,
                layout: pipelines[e].getBindGroupLayout(0),
                entries: ENTRY_BINDINGS[e].map((binding) => entry(binding, buffers[binding]!)),
              }),
            ]),
          ) as Record<Entry, GPUBindGroup>,
      );
      const p = encoder.beginComputePass(pass ?? { label: 'rpnProposalNms' });
      p.setPipeline(pipelines.suppression);
      p.setBindGroup(0, groups.suppression);
      p.dispatchWorkgroups(Math.max(1, Math.ceil(topN / WORKGROUP)), numLevels);
      p.setPipeline(pipelines.walk);
      p.setBindGroup(0, groups.walk);
      p.dispatchWorkgroups(numLevels);
      p.setPipeline(pipelines.merge);
      p.setBindGroup(0, groups.merge);
      p.dispatchWorkgroups(Math.ceil(Math.max(topN, numRois) / WORKGROUP), numLevels);
      p.end();
    },
    destroy() {
      uniform.destroy();
      scratch?.masks.destroy();
      scratch?.kept.destroy();
      scratch?.keptCounts.destroy();
      scratch = undefined;
      bindGroups.clear();
    },
  };
}
