/**
 * Host code of shaders/yolo_seg_decode.wgsl: YOLO-seg output0 [4 + C + K, N] (channel
 * major, read in place) → boxes [N, 4] xyxy relative to the input, the best-class score
 * rows bestConf [N, C + 1] (candidates' rows only; the layout classTopK reads) and the
 * candidate list (count + anchor indices). Reference: app/reference/yoloSegDecode.ts.
 *
 * `run` writes its params with queue.writeBuffer at encode time, so use one kernel object
 * per chain (pane) and at most one `run` of it per submitted command buffer.
 */
import shaderCode from '../../../shaders/yolo_seg_decode.wgsl?raw';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, bufferEntries, dispatchPass, entry } from '../bindGroups';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';
import { CANDIDATES_HEADER_WORDS } from './yolactDecode';

export { boxesBytes, candidatesBytes, CANDIDATES_HEADER_WORDS } from './yolactDecode';

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const YOLO_SEG_DECODE = kernelSource({ name: 'yoloSegDecode', code: shaderCode, entryPoints: ['main'] });
/** Params struct of the WGSL, as it lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');
const WORKGROUP = 64;

/** Bytes of the bestConf buffer: [N, C + 1] f32. */
export function bestConfBytes(numAnchors: number, numClasses: number): number {
  return Math.max(16, 4 * numAnchors * (numClasses + 1));
}

export interface YoloSegDecodeInputs {
  /** [1, 4 + C + K, N] f32 head output. */
  output0: GPUBuffer;
  /** Output [N, 4] f32 xyxy relative; see `boxesBytes`. */
  boxes: GPUBuffer;
  /** Output [N, C + 1] f32; see `bestConfBytes`. */
  bestConf: GPUBuffer;
  /** Output count + candidate anchor indices; see `candidatesBytes`. Cleared by `run`. */
  candidates: GPUBuffer;
}

export interface YoloSegDecodeParams {
  numAnchors: number;
  numClasses: number;
  /** Ultralytics predict: 0.25 (val: 0.001). */
  confThreshold: number;
  inputWidth: number;
  inputHeight: number;
}

export interface YoloSegDecodeKernel {
  run(encoder: GPUCommandEncoder, inputs: YoloSegDecodeInputs, params: YoloSegDecodeParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

export function createYoloSegDecode(device: GPUDevice): YoloSegDecodeKernel {
  const pipeline = kernelPipelines(device, YOLO_SEG_DECODE).pipelines.main;
  const uniform = createUniformBuffer(device, 'yoloSegDecode.params', PARAMS.size);
  const bindGroups = new BindGroupCache<GPUBindGroup>();

  return {
    run(encoder, inputs, params, pass) {
      const { numAnchors, numClasses, confThreshold, inputWidth, inputHeight } = params;
      device.queue.writeBuffer(uniform, 0, packUniforms(PARAMS, { numAnchors, numClasses, confThreshold, inputWidth, inputHeight }));

      const key = [inputs.output0, inputs.boxes, inputs.bestConf, inputs.candidates];
      const group = bindGroups.get(key, () =>
        device.createBindGroup({
          label: 'yoloSegDecode.bindGroup',
          layout: pipeline.getBindGroupLayout(0),
          entries: [...bufferEntries(key), entry(4, uniform)],
        }),
      );
      encoder.clearBuffer(inputs.candidates, 0, 4 * CANDIDATES_HEADER_WORDS);
      if (params.numAnchors === 0) return;
      dispatchPass(encoder, pass ?? { label: 'yoloSegDecode' }, pipeline, group, [Math.ceil(params.numAnchors / WORKGROUP)]);
    },
    destroy() {
      uniform.destroy();
      bindGroups.clear();
    },
  };
}
