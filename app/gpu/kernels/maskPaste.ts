/**
 * Host code of shaders/mask_paste.wgsl: Mask R-CNN's [M, K + 1, 28, 28] mask logits → the
 * bit-packed InstanceMasks `[maxDetections, maskH, ceil(maskW / 32)]` u32 + each record's
 * maskArea, exactly as torchvision's `paste_masks_in_image` (padding 1, threshold 0.5).
 * Same bindings and outputs as maskUpsample (records, mask bits), so composeOverlay and the
 * read-back code are unchanged. Reference: app/reference/maskPaste.ts (`maskPasteReference`).
 *
 * CenterMask (app/families/centerMask) uses the same kernel with `mode: 'detectron2'`,
 * `classOffset: 0` ([M, K, 28, 28], no background channel) and `rowFromSource` (its
 * rescoring reorders the records and keeps each one's mask-head row in sourceIndex).
 * BlendMask / B2Inst: `mode: 'detectron2'`, `maskSize: 56`, `classAgnostic` (the blender's
 * [M, 56, 56] logits, app/gpu/kernels/blender.ts).
 *
 * Signatures (app/families/maskRcnn codes against these):
 *   createMaskPaste(device): MaskPasteKernel
 *   kernel.run(encoder, { records, maskLogits, maskBits }, { numClasses, maskSize, transform,
 *              image, mask, maxDetections, padding? }, pass?)
 *   maskBitsBytes(mask, maxDetections) (from ./maskUpsample) sizes `maskBits`.
 *
 * Paste resolution: MASK pixels (`params.mask`). The record's box goes relative input →
 * input pixels → image pixels (InputTransform, as the CPU maps detections) → × mask/image; so
 * with mask = image (the usual case) this is torchvision's paste at image resolution, and with
 * a capped mask (maskSizeFor) it is the paste into the image resized to the mask size.
 *
 * `run` writes its params with queue.writeBuffer at encode time: one kernel object per chain
 * (pane), at most one `run` of it per submitted command buffer.
 */
import shaderSourceRaw from '../../../shaders/mask_paste.wgsl?raw';
import { withIncludes } from '../shaderSource';
import type { InputTransform } from '../layout';
import { wordsPerRowFor } from '../../reference/maskAssembly';
import { PASTE_PADDING, PASTE_THRESHOLD, pasteMapping, type PasteMode } from '../../reference/maskPaste';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, bufferEntries, entry } from '../bindGroups';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';

const shaderSource = withIncludes(shaderSourceRaw);

export interface MaskPasteInputs {
  /** DetectionRecords from detectionCap; maskArea is reset and accumulated here. */
  records: GPUBuffer;
  /** Mask head output f32 [maxDetections, K + 1, S, S], row n = record n. */
  maskLogits: GPUBuffer;
  /** Output u32 [maxDetections, maskH, wordsPerRow]; see `maskBitsBytes` (maskUpsample.ts). */
  maskBits: GPUBuffer;
}

export interface MaskPasteParams {
  /** K foreground classes (K + 1 logit channels, channel 0 = background). */
  numClasses: number;
  /** S, the mask head's side (28). */
  maskSize: number;
  transform: InputTransform;
  image: { width: number; height: number };
  mask: { width: number; height: number };
  /** Records (and mask-logit rows) the buffers hold. */
  maxDetections: number;
  /** Zero border before resizing; default 1 (torchvision). */
  padding?: number;
  /**
   * 'torchvision' (default; Mask R-CNN: expanded integer box, > 0.5) or 'detectron2'
   * (CenterMask: clipped box, zero-padded grid_sample, ≥ 0.5); app/reference/maskPaste.ts.
   */
  mode?: PasteMode;
  /** Channel of class 0 in a mask-logit row: 1 (default, background first) or 0 ([M, K, S, S]). */
  classOffset?: number;
  /** Read record n's mask row at its sourceIndex instead of n (CenterMask after rescoring). */
  rowFromSource?: boolean;
  /**
   * One mask a row ([M, 1, S, S]), whatever the record's class: BlendMask / B2Inst's blender
   * logits (app/gpu/kernels/blender.ts, S = 56). numClasses and classOffset are then ignored.
   */
  classAgnostic?: boolean;
}

export interface MaskPasteKernel {
  run(encoder: GPUCommandEncoder, inputs: MaskPasteInputs, params: MaskPasteParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const MASK_PASTE = kernelSource({ name: 'maskPaste', code: shaderSource, entryPoints: ['main', 'resetAreas'] });
/** Params struct of the WGSL, as it lays it out. */
const PARAMS = uniformLayout(shaderSource, 'Params');
const WORKGROUP = 64;
/** `mode` values of mask_paste.wgsl. */
const MODE_TORCHVISION = 0;
const MODE_DETECTRON2 = 1;
/** WebGPU's default maxComputeWorkgroupsPerDimension. */
const MAX_WORKGROUPS_PER_DIMENSION = 65535;

export function packMaskPasteParams(params: MaskPasteParams): ArrayBuffer {
  const padding = params.padding ?? PASTE_PADDING;
  const m = pasteMapping(params.transform, params.image, params.mask);
  return packUniforms(PARAMS, {
    maskWidth: params.mask.width,
    maskHeight: params.mask.height,
    wordsPerRow: wordsPerRowFor(params.mask.width),
    maxDetections: params.maxDetections,
    numClasses: params.classAgnostic ? 1 : params.numClasses,
    maskSize: params.maskSize,
    padding,
    mapping: { ...m },
    expand: (params.maskSize + 2 * padding) / params.maskSize,
    threshold: PASTE_THRESHOLD,
    mode: params.mode === 'detectron2' ? MODE_DETECTRON2 : MODE_TORCHVISION,
    classOffset: params.classAgnostic ? 0 : (params.classOffset ?? 1),
    rowFromSource: params.rowFromSource ? 1 : 0,
    classAgnostic: params.classAgnostic ? 1 : 0,
  });
}

export function createMaskPaste(device: GPUDevice): MaskPasteKernel {
  const { main: pipeline, resetAreas: reset } = kernelPipelines(device, MASK_PASTE).pipelines;
  const uniform = createUniformBuffer(device, 'maskPaste.params', PARAMS.size);
  const bindGroups = new BindGroupCache<{ main: GPUBindGroup; reset: GPUBindGroup }>();

  return {
    run(encoder, inputs, params, pass) {
      const { mask, maxDetections } = params;
      if (maxDetections === 0) return;
      const groups = Math.ceil((mask.height * wordsPerRowFor(mask.width)) / WORKGROUP);
      if (groups > MAX_WORKGROUPS_PER_DIMENSION) {
        throw new Error(`maskPaste: mask ${mask.width}x${mask.height} is too large; cap the mask size (maskSizeFor)`);
      }
      device.queue.writeBuffer(uniform, 0, packMaskPasteParams(params));
      const key = [inputs.records, inputs.maskLogits, inputs.maskBits];
      const bound = bindGroups.get(key, () => ({
        main: device.createBindGroup({
          label: 'maskPaste.bindGroup',
          layout: pipeline.getBindGroupLayout(0),
          entries: [entry(0, uniform), ...bufferEntries(key, 1)],
        }),
        reset: device.createBindGroup({
          label: 'maskPaste.resetBindGroup',
          layout: reset.getBindGroupLayout(0),
          entries: [entry(0, uniform), entry(1, inputs.records)],
        }),
      }));
      const p = encoder.beginComputePass(pass ?? { label: 'maskPaste' });
      p.setPipeline(reset);
      p.setBindGroup(0, bound.reset);
      p.dispatchWorkgroups(Math.ceil(maxDetections / WORKGROUP));
      p.setPipeline(pipeline);
      p.setBindGroup(0, bound.main);
      p.dispatchWorkgroups(groups);
      p.end();
    },
    destroy() {
      uniform.destroy();
      bindGroups.clear();
    },
  };
}
