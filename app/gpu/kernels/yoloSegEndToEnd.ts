/**
 * Host code of shaders/yolo_seg_end_to_end.wgsl: an end-to-end YOLO-seg export's
 * detections [R, 6 + K] (NMS done in the graph) → DetectionRecords (app/gpu/layout.ts):
 * threshold, class check, order by score, cap. Reference: app/reference/yoloSegEndToEnd.ts.
 *
 * `run` writes its params with queue.writeBuffer at encode time, so use one kernel object
 * per chain (pane) and at most one `run` of it per submitted command buffer.
 */
import shaderCodeRaw from '../../../shaders/yolo_seg_end_to_end.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';

const shaderCode = withIncludes(shaderCodeRaw);

/** Params: 0 numRows, 4 rowStride, 8 numClasses, 12 maxDetections (u32), 16 confThreshold,
 * 20 scoreThreshold, 24 inputWidth, 28 inputHeight (f32). */
const PARAMS_BYTES = 32;

export interface YoloSegEndToEndInputs {
  /** [1, R, 6 + K] f32. */
  detections: GPUBuffer;
  /** Output DetectionRecords, ≥ recordsBufferBytes(maxDetections). */
  records: GPUBuffer;
}

export interface YoloSegEndToEndParams {
  numRows: number;
  numPrototypes: number;
  numClasses: number;
  maxDetections: number;
  confThreshold: number;
  scoreThreshold: number;
  inputWidth: number;
  inputHeight: number;
}

export interface YoloSegEndToEndKernel {
  run(encoder: GPUCommandEncoder, inputs: YoloSegEndToEndInputs, params: YoloSegEndToEndParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

export function createYoloSegEndToEnd(device: GPUDevice): YoloSegEndToEndKernel {
  const module = device.createShaderModule({ label: 'yoloSegEndToEnd.module', code: shaderCode });
  const pipeline = device.createComputePipeline({
    label: 'yoloSegEndToEnd.pipeline',
    layout: 'auto',
    compute: { module, entryPoint: 'main' },
  });
  const uniform = createUniformBuffer(device, 'yoloSegEndToEnd.params', PARAMS_BYTES);
  let cached: { key: GPUBuffer[]; group: GPUBindGroup } | undefined;

  return {
    run(encoder, inputs, params, pass) {
      const data = new ArrayBuffer(PARAMS_BYTES);
      new Uint32Array(data, 0, 4).set([params.numRows, 6 + params.numPrototypes, params.numClasses, params.maxDetections]);
      new Float32Array(data, 16, 4).set([params.confThreshold, params.scoreThreshold, params.inputWidth, params.inputHeight]);
      device.queue.writeBuffer(uniform, 0, data);
      const key = [inputs.detections, inputs.records];
      if (!cached || cached.key.some((b, i) => b !== key[i])) {
        cached = {
          key,
          group: device.createBindGroup({
            label: 'yoloSegEndToEnd.bindGroup',
            layout: pipeline.getBindGroupLayout(0),
            entries: [
              ...key.map((buffer, binding) => ({ binding, resource: { buffer } })),
              { binding: 2, resource: { buffer: uniform } },
            ],
          }),
        };
      }
      const p = encoder.beginComputePass(pass ?? { label: 'yoloSegEndToEnd' });
      p.setPipeline(pipeline);
      p.setBindGroup(0, cached.group);
      p.dispatchWorkgroups(1);
      p.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
}
