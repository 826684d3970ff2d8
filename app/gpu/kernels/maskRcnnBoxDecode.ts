/**
 * Host code of shaders/maskrcnn_box_decode.wgsl: the detection stage of our Mask R-CNN up to
 * NMS. Reference: app/reference/maskRcnnBoxDecode.ts (`maskRcnnBoxDecodeReference`,
 * `maskRcnnSelectReference`; the whole stage: `maskRcnnDetectionsReference`).
 *
 * Signatures (app/families/maskRcnn codes against these):
 *   createMaskRcnnBoxDecode(device): MaskRcnnBoxDecodeKernel
 *   kernel.run(encoder, inputs: MaskRcnnBoxDecodeInputs, params: MaskRcnnBoxDecodeParams, pass?)
 *   maskRcnnBoxDecodeBytes(numRois, numClasses, topK) → sizes of the output buffers
 *   MAX_ROIS (1024), MASK_RCNN_CANDIDATES_BYTES (16)
 *
 * A frame's chain (boxes are class-specific: box of (class c, RoI r) = boxes[c·R + r]):
 *   decode.run(enc, { classLogits, boxDeltas, proposals, proposalCount, boxes, scores,
 *                     candidates, topIndices, topScores, topCounts },
 *              { numRois: R, numClasses: K, inputWidth, inputHeight, boxWeights, scoreThreshold: 0.05, topK })
 *   nms.run(enc, { boxes, topIndices, topCounts, keep }, { numClasses: K, topK, nmsIou, boxClassStride: R })
 *   cap.run(enc, { boxes, topIndices, topScores, topCounts, keep, candidates, records },
 *           { numClasses: K, topK, maxDetections, scoreThreshold: display (≥ 0), boxClassStride: R })
 * (fastNms.ts / greedyNms.ts / detectionCap.ts: `boxClassStride`). topK = min(R, 512) keeps
 * every candidate of a class, as torchvision's batched NMS does. Records: box relative to
 * the model input, classIndex 0-based foreground, sourceIndex = RoI r; header candidateCount
 * = candidate (RoI, class) pairs.
 *
 * `run` writes its params with queue.writeBuffer at encode time, so use one kernel object
 * per chain (pane) and at most one `run` of it per submitted command buffer.
 */
import shaderCodeRaw from '../../../shaders/maskrcnn_box_decode.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, entry } from '../bindGroups';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';
import { BOX_DELTA_CLIP, MIN_BOX_SIDE } from '../../reference/maskRcnnBoxDecode';
import { MAX_TOP_K } from './classTopK';

const shaderCode = withIncludes(shaderCodeRaw);

/** The kernel's pipelines (app/gpu/kernelCache.ts); 'auto' layouts: each entry point binds only what it uses (≤ 8 storage buffers each). */
export const MASK_RCNN_BOX_DECODE = kernelSource({ name: 'maskRcnnBoxDecode', code: shaderCode, entryPoints: ['decode', 'selectClass'] });
/** Params struct of the WGSL, as it lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');
const WORKGROUP = 64;

/** The most RoIs a class's candidates can be sorted from in workgroup memory (SORT_CAPACITY in the WGSL). */
export const MAX_ROIS = 1024;
/** The candidates buffer: word 0 = candidate (RoI, class) pairs, 3 words pad (detectionCap reads word 0). */
export const MASK_RCNN_CANDIDATES_BYTES = 16;

export interface MaskRcnnBoxDecodeInputs {
  /** Box head output [R, K + 1] f32 logits, column 0 = background. */
  classLogits: GPUBuffer;
  /** Box head output [R, (K + 1)·4] f32 deltas (column group 0 = background, unused). */
  boxDeltas: GPUBuffer;
  /** [R, 4] f32 xyxy proposals in model-input pixels (rows ≥ the valid count are padding). */
  proposals: GPUBuffer;
  /**
   * u32 buffer holding the number of valid proposals at word `params.proposalCountWord`
   * (default 0), written on the GPU by the RPN stage. Absent: all R rows are valid.
   */
  proposalCount?: GPUBuffer;
  /** Output [K, R, 4] f32 xyxy relative to the input, class-major; see `maskRcnnBoxDecodeBytes`. */
  boxes: GPUBuffer;
  /** Output [K, R] f32 softmax scores, −1 where (r, c) is not a candidate. */
  scores: GPUBuffer;
  /** Output MASK_RCNN_CANDIDATES_BYTES: word 0 = candidate count (cleared by `run`). */
  candidates: GPUBuffer;
  /** Outputs in classTopK's format: [K, topK] RoI indices, [K, topK] scores, [K] counts. */
  topIndices: GPUBuffer;
  topScores: GPUBuffer;
  topCounts: GPUBuffer;
}

export interface MaskRcnnBoxDecodeParams {
  /** R = rpnPostNmsTopN, the fixed row count of the box head (≤ MAX_ROIS). */
  numRois: number;
  /** K foreground classes. */
  numClasses: number;
  inputWidth: number;
  inputHeight: number;
  /** (wx, wy, ww, wh), torchvision (10, 10, 5, 5). */
  boxWeights: readonly [number, number, number, number];
  /** Candidate test: score > this (torchvision box_score_thresh 0.05). */
  scoreThreshold: number;
  /** Row stride of the per-class outputs, ≤ MAX_TOP_K (512); min(R, 512) keeps every candidate. */
  topK: number;
  /** Smallest kept side in input pixels (default 0.01). */
  minSize?: number;
  /** Word of `inputs.proposalCount` holding the valid proposal count (default 0). */
  proposalCountWord?: number;
}

export interface MaskRcnnBoxDecodeKernel {
  run(encoder: GPUCommandEncoder, inputs: MaskRcnnBoxDecodeInputs, params: MaskRcnnBoxDecodeParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

/** Bytes of the output buffers for R RoIs, K classes and row stride topK. */
export function maskRcnnBoxDecodeBytes(
  numRois: number,
  numClasses: number,
  topK: number,
): {
  boxes: number;
  scores: number;
  candidates: number;
  topRows: number;
  topCounts: number;
} {
  const k = Math.max(1, numClasses);
  return {
    boxes: 16 * k * Math.max(1, numRois),
    scores: 4 * k * Math.max(1, numRois),
    candidates: MASK_RCNN_CANDIDATES_BYTES,
    topRows: 4 * k * Math.max(1, topK),
    topCounts: 4 * k,
  };
}

export function packMaskRcnnBoxDecodeParams(params: MaskRcnnBoxDecodeParams, countWord: number): ArrayBuffer {
  return packUniforms(PARAMS, {
    numRois: params.numRois,
    numClasses: params.numClasses,
    topK: params.topK,
    countWord,
    inputWidth: params.inputWidth,
    inputHeight: params.inputHeight,
    scoreThreshold: params.scoreThreshold,
    minSize: params.minSize ?? MIN_BOX_SIDE,
    weights: params.boxWeights,
    deltaClip: BOX_DELTA_CLIP,
  });
}

export function createMaskRcnnBoxDecode(device: GPUDevice): MaskRcnnBoxDecodeKernel {
  const { decode, selectClass: select } = kernelPipelines(device, MASK_RCNN_BOX_DECODE).pipelines;
  const uniform = createUniformBuffer(device, 'maskRcnnBoxDecode.params', PARAMS.size);
  // Stand-in proposal count (= R) when the caller gives none.
  const allValid = device.createBuffer({
    label: 'maskRcnnBoxDecode.allValid',
    size: 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  const bindGroups = new BindGroupCache<{ decode: GPUBindGroup; select: GPUBindGroup }>();

  return {
    run(encoder, inputs, params, pass) {
      if (params.numRois > MAX_ROIS) throw new Error(`maskRcnnBoxDecode: ${params.numRois} RoIs exceed ${MAX_ROIS}`);
      if (params.topK > MAX_TOP_K || params.topK < 1) throw new Error(`maskRcnnBoxDecode: topK ${params.topK} not in [1, ${MAX_TOP_K}]`);
      encoder.clearBuffer(inputs.candidates, 0, MASK_RCNN_CANDIDATES_BYTES);
      if (params.numClasses === 0 || params.numRois === 0) {
        if (params.numClasses > 0) encoder.clearBuffer(inputs.topCounts, 0, 4 * params.numClasses);
        return;
      }
      const countBuffer = inputs.proposalCount ?? allValid;
      if (!inputs.proposalCount) device.queue.writeBuffer(allValid, 0, new Uint32Array([params.numRois, 0, 0, 0]));
      const countWord = inputs.proposalCount ? (params.proposalCountWord ?? 0) : 0;
      device.queue.writeBuffer(uniform, 0, packMaskRcnnBoxDecodeParams(params, countWord));
      const key = [
        inputs.classLogits,
        inputs.boxDeltas,
        inputs.proposals,
        countBuffer,
        inputs.boxes,
        inputs.scores,
        inputs.candidates,
        inputs.topIndices,
        inputs.topScores,
        inputs.topCounts,
      ];
      const bound = bindGroups.get(key, () => {
        const entries = (bindings: number[]) => [...bindings.map((binding) => entry(binding, key[binding]!)), entry(10, uniform)];
        return {
          decode: device.createBindGroup({
            label: 'maskRcnnBoxDecode.decodeBindGroup',
            layout: decode.getBindGroupLayout(0),
            entries: entries([0, 1, 2, 3, 4, 5]),
          }),
          select: device.createBindGroup({
            label: 'maskRcnnBoxDecode.selectBindGroup',
            layout: select.getBindGroupLayout(0),
            entries: entries([3, 5, 6, 7, 8, 9]),
          }),
        };
      });
      const p = encoder.beginComputePass(pass ?? { label: 'maskRcnnBoxDecode' });
      p.setPipeline(decode);
      p.setBindGroup(0, bound.decode);
      p.dispatchWorkgroups(Math.ceil(params.numRois / WORKGROUP));
      p.setPipeline(select);
      p.setBindGroup(0, bound.select);
      p.dispatchWorkgroups(params.numClasses);
      p.end();
    },
    destroy() {
      uniform.destroy();
      allValid.destroy();
      bindGroups.clear();
    },
  };
}
