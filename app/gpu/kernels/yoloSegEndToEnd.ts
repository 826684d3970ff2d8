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
import { BindGroupCache, bufferEntries, dispatchPass, entry } from '../bindGroups';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';

const shaderCode = withIncludes(shaderCodeRaw);

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const YOLO_SEG_END_TO_END = kernelSource({ name: 'yoloSegEndToEnd', code: shaderCode, entryPoints: ['main'] });
/** Params struct of the WGSL, as it lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');

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
  const pipeline = kernelPipelines(device, YOLO_SEG_END_TO_END).pipelines.main;
  const uniform = createUniformBuffer(device, 'yoloSegEndToEnd.params', PARAMS.size);
  const bindGroups = new BindGroupCache<GPUBindGroup>();

  return {
    run(encoder, inputs, params, pass) {
      const { numRows, numClasses, maxDetections, confThreshold, scoreThreshold, inputWidth, inputHeight } = params;
      const rowStride = 6 + params.numPrototypes;
      device.queue.writeBuffer(
        uniform,
        0,
        packUniforms(PARAMS, { numRows, rowStride, numClasses, maxDetections, confThreshold, scoreThreshold, inputWidth, inputHeight }),
      );
      const key = [inputs.detections, inputs.records];
      const group = bindGroups.get(key, () =>
        device.createBindGroup({
          label: 'yoloSegEndToEnd.bindGroup',
          layout: pipeline.getBindGroupLayout(0),
          entries: [...bufferEntries(key), entry(2, uniform)],
        }),
      );
      dispatchPass(encoder, pass ?? { label: 'yoloSegEndToEnd' }, pipeline, group, [1]);
    },
    destroy() {
      uniform.destroy();
      bindGroups.clear();
    },
  };
}
