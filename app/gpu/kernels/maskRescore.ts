/**
 * Host code of shaders/mask_rescore.wgsl: the records rescored by a mask-scoring head's
 * quality q (`quality`: 'none' keeps the score; 'perClass' score · q[n, class], CenterMask's
 * MaskIoU head [M, K]; 'sqrtPair' score · sqrt(q[n, 0] · q[n, 1]) and 'productPair'
 * score · q[n, 0] · q[n, 1], B2Inst's scoring head [M, 2] = (S_IoU, S_boundary)), re-sorted,
 * those below the display threshold dropped, and each record's mask-head row kept in
 * sourceIndex (maskPaste's `rowFromSource`). Reference: app/reference/maskRescore.ts.
 *
 * The kernel reads a copy of the records (its own scratch buffer, copied at the start of
 * `run`) and writes the records buffer in place. Params are written with queue.writeBuffer
 * at encode time: one kernel object per chain, at most one `run` of it per submit.
 */
import shaderCodeRaw from '../../../shaders/mask_rescore.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, bufferEntries, dispatchPass, entry } from '../bindGroups';
import { recordsBufferBytes } from '../layout';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';
import { qualityRowLength, type MaskRescoreQuality } from '../../reference/maskRescore';

const shaderCode = withIncludes(shaderCodeRaw);

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const MASK_RESCORE = kernelSource({ name: 'maskRescore', code: shaderCode, entryPoints: ['main'] });
/** Params struct of mask_rescore.wgsl, as the WGSL lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');
const WORKGROUP = 64;
/** `mode` values of mask_rescore.wgsl. */
const MODES: Record<MaskRescoreQuality, number> = { none: 0, perClass: 1, sqrtPair: 2, productPair: 3 };

export interface MaskRescoreInputs {
  /** DetectionRecords of the cap (rows of the mask head's batch), rewritten in place. */
  records: GPUBuffer;
  /**
   * The scoring head's output f32: [maxDetections, K] for 'perClass' (CenterMask's MaskIoU
   * head), [maxDetections, 2] for the pair modes (B2Inst's (S_IoU, S_boundary)); bound but
   * unread for 'none'.
   */
  maskIou: GPUBuffer;
}

export interface MaskRescoreParams {
  numClasses: number;
  maxDetections: number;
  /**
   * 'none': the plain score (order unchanged); 'perClass': score · q[n, class];
   * 'sqrtPair': score · sqrt(max(0, q[n, 0] · q[n, 1])); 'productPair': score · q[n, 0] · q[n, 1].
   */
  quality: MaskRescoreQuality;
  /** Display threshold; records scoring below it are dropped. */
  scoreThreshold: number;
}

export interface MaskRescoreKernel {
  run(encoder: GPUCommandEncoder, inputs: MaskRescoreInputs, params: MaskRescoreParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

export function createMaskRescore(device: GPUDevice): MaskRescoreKernel {
  const pipeline = kernelPipelines(device, MASK_RESCORE).pipelines.main;
  const uniform = createUniformBuffer(device, 'maskRescore.params', PARAMS.size);
  let recordsIn: GPUBuffer | undefined;
  const bindGroups = new BindGroupCache<GPUBindGroup>();
  return {
    run(encoder, inputs, params, pass) {
      const d = Math.max(1, Math.floor(params.maxDetections));
      const bytes = recordsBufferBytes(d);
      if (inputs.records.size < bytes) throw new Error(`maskRescore: records has ${inputs.records.size} bytes, ${d} detections need ${bytes}`);
      const row = qualityRowLength(params.quality, params.numClasses);
      if (inputs.maskIou.size < 4 * d * row)
        throw new Error(`maskRescore: maskIou has ${inputs.maskIou.size} bytes, [${d}, ${row}] f32 ('${params.quality}') needs ${4 * d * row}`);
      if (!recordsIn || recordsIn.size < bytes) {
        recordsIn?.destroy();
        recordsIn = device.createBuffer({ label: 'maskRescore.recordsIn', size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      }
      device.queue.writeBuffer(
        uniform,
        0,
        packUniforms(PARAMS, {
          numClasses: params.numClasses,
          maxDetections: d,
          mode: MODES[params.quality],
          scoreThreshold: params.scoreThreshold,
        }),
      );
      const key = [recordsIn, inputs.maskIou, inputs.records];
      const group = bindGroups.get(key, () =>
        device.createBindGroup({
          label: 'maskRescore.bindGroup',
          layout: pipeline.getBindGroupLayout(0),
          entries: [entry(0, uniform), ...bufferEntries(key, 1)],
        }),
      );
      encoder.copyBufferToBuffer(inputs.records, 0, recordsIn, 0, bytes);
      dispatchPass(encoder, pass ?? { label: 'maskRescore' }, pipeline, group, [Math.ceil(d / WORKGROUP)]);
    },
    destroy() {
      uniform.destroy();
      recordsIn?.destroy();
      bindGroups.clear();
    },
  };
}
