/**
 * Host code of shaders/pasted_mask_bits.wgsl: the masks of a public Mask R-CNN export →
 * bit-packed InstanceMasks at mask resolution `[maxDetections, maskH, ceil(maskW / 32)]`
 * u32 + each record's maskArea (the output of maskUpsample, so composeOverlay and the
 * read-back are shared). Modes:
 *   'pasted'  torchvision [N,1,H,W] probabilities at the input size, sampled bilinearly
 *             through the input→image transform;
 *   'roi'     ONNX-zoo [N,1,28,28] probabilities, pasted as torchvision's
 *             paste_masks_in_image (padding 1) at mask resolution.
 * References: `pastedMaskBitsReference`, `roiMaskBitsReference` (app/reference/pastedMaskBits.ts).
 *
 * Why not maskPaste.ts (the two-stage model's paste, same torchvision rules): it reads
 * logits [M, K + 1, 28, 28] with row n = record n and applies a sigmoid; an export gives
 * probabilities [N, 1, 28, 28] whose row is the record's sourceIndex, so reusing it would
 * need a per-frame gather + logit copy. The 'roi' mode here reads the export's rows in place;
 * its reference is checked against maskPasteReference (exported.test.ts: 0 mismatches).
 *
 *   createPastedMaskBits(device) → { run(encoder, inputs, params, pass?), destroy() }
 */
import shaderCodeRaw from '../../../shaders/pasted_mask_bits.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { upsampleMapping, wordsPerRowFor } from '../../reference/maskAssembly';
import { createUniformBuffer } from '../buffers';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';
import type { InputTransform } from '../layout';
import { maskToBoxScale, MASK_THRESHOLD, ROI_MASK_SIDE } from '../../reference/pastedMaskBits';

const shaderCode = withIncludes(shaderCodeRaw);

/** 'pasted': torchvision [N,1,H,W] at the input size; 'roi': ONNX-zoo [N,1,28,28]. */
export type PastedMaskMode = 'pasted' | 'roi';

export { maskBitsBytes } from './maskUpsample';

export interface PastedMaskBitsInputs {
  /** DetectionRecords (maskArea 0 beforehand: exportedRecords writes it). */
  records: GPUBuffer;
  /** f32 [N, 1, srcH, srcW]. */
  masks: GPUBuffer;
  /** Output u32 [maxDetections, maskH, wordsPerRow] (`maskBitsBytes`). */
  maskBits: GPUBuffer;
}

export interface PastedMaskBitsParams {
  mode: PastedMaskMode;
  /** The model input size (the pasted masks' size; the transform's input). */
  input: { width: number; height: number };
  transform: InputTransform;
  image: { width: number; height: number };
  mask: { width: number; height: number };
  maxDetections: number;
}

export interface PastedMaskBitsKernel {
  run(encoder: GPUCommandEncoder, inputs: PastedMaskBitsInputs, params: PastedMaskBitsParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const PASTED_MASK_BITS = kernelSource({ name: 'pastedMaskBits', code: shaderCode, entryPoints: ['main'] });
/** Params struct of the WGSL, as it lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');
const WORKGROUP = 64;
const MAX_WORKGROUPS_PER_DIMENSION = 65535;

export function packPastedMaskBitsParams(p: PastedMaskBitsParams): ArrayBuffer {
  const { mask } = p;
  const src = p.mode === 'pasted' ? p.input : { width: ROI_MASK_SIDE, height: ROI_MASK_SIDE };
  // pasted: mask pixel → input pixel sampling; roi: relative box → mask pixels.
  const m = p.mode === 'pasted' ? upsampleMapping(p.transform, p.image, mask, p.input) : maskToBoxScale(p.transform, p.image, mask);
  return packUniforms(PARAMS, {
    maskWidth: mask.width,
    maskHeight: mask.height,
    wordsPerRow: wordsPerRowFor(mask.width),
    maxDetections: p.maxDetections,
    mode: p.mode === 'pasted' ? 0 : 1,
    srcWidth: src.width,
    srcHeight: src.height,
    mapping: { ...m },
    threshold: MASK_THRESHOLD,
  });
}

export function createPastedMaskBits(device: GPUDevice): PastedMaskBitsKernel {
  const pipeline = kernelPipelines(device, PASTED_MASK_BITS).pipelines.main;
  const uniform = createUniformBuffer(device, 'pastedMaskBits.params', PARAMS.size);
  let cached: { inputs: PastedMaskBitsInputs; bindGroup: GPUBindGroup } | undefined;

  function bindGroupFor(inputs: PastedMaskBitsInputs): GPUBindGroup {
    const c = cached?.inputs;
    if (cached && c && c.records === inputs.records && c.masks === inputs.masks && c.maskBits === inputs.maskBits) return cached.bindGroup;
    const bindGroup = device.createBindGroup({
      label: 'pastedMaskBits.bindGroup',
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: uniform } },
        { binding: 1, resource: { buffer: inputs.records } },
        { binding: 2, resource: { buffer: inputs.masks } },
        { binding: 3, resource: { buffer: inputs.maskBits } },
      ],
    });
    cached = { inputs: { ...inputs }, bindGroup };
    return bindGroup;
  }

  return {
    run(encoder, inputs, params, pass) {
      const { mask, maxDetections } = params;
      if (maxDetections === 0) return;
      const groups = Math.ceil((mask.height * wordsPerRowFor(mask.width)) / WORKGROUP);
      if (groups > MAX_WORKGROUPS_PER_DIMENSION) throw new Error(`pastedMaskBits: mask ${mask.width}x${mask.height} is too large; cap the mask size`);
      device.queue.writeBuffer(uniform, 0, packPastedMaskBitsParams(params));
      const computePass = encoder.beginComputePass({ label: 'pastedMaskBits.pass', ...pass });
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
