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
import { CANDIDATES_HEADER_WORDS } from './yolactDecode';

export { boxesBytes, candidatesBytes, CANDIDATES_HEADER_WORDS } from './yolactDecode';

/** Params struct of yolo_seg_decode.wgsl: 0 numAnchors, 4 numClasses, 8 confThreshold f32,
 * 12 inputWidth f32, 16 inputHeight f32, 20–28 pad. */
const PARAMS_BYTES = 32;
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
  const module = device.createShaderModule({ label: 'yoloSegDecode.module', code: shaderCode });
  const pipeline = device.createComputePipeline({
    label: 'yoloSegDecode.pipeline',
    layout: 'auto',
    compute: { module, entryPoint: 'main' },
  });
  const uniform = createUniformBuffer(device, 'yoloSegDecode.params', PARAMS_BYTES);
  let cached: { key: GPUBuffer[]; group: GPUBindGroup } | undefined;

  return {
    run(encoder, inputs, params, pass) {
      const data = new ArrayBuffer(PARAMS_BYTES);
      new Uint32Array(data, 0, 2).set([params.numAnchors, params.numClasses]);
      new Float32Array(data, 8, 3).set([params.confThreshold, params.inputWidth, params.inputHeight]);
      device.queue.writeBuffer(uniform, 0, data);

      const key = [inputs.output0, inputs.boxes, inputs.bestConf, inputs.candidates];
      if (!cached || cached.key.some((b, i) => b !== key[i])) {
        cached = {
          key,
          group: device.createBindGroup({
            label: 'yoloSegDecode.bindGroup',
            layout: pipeline.getBindGroupLayout(0),
            entries: [
              ...key.map((buffer, binding) => ({ binding, resource: { buffer } })),
              { binding: 4, resource: { buffer: uniform } },
            ],
          }),
        };
      }
      encoder.clearBuffer(inputs.candidates, 0, 4 * CANDIDATES_HEADER_WORDS);
      if (params.numAnchors === 0) return;
      const p = encoder.beginComputePass(pass ?? { label: 'yoloSegDecode' });
      p.setPipeline(pipeline);
      p.setBindGroup(0, cached.group);
      p.dispatchWorkgroups(Math.ceil(params.numAnchors / WORKGROUP));
      p.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
}
