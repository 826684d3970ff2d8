/**
 * Host code of shaders/exported_records.wgsl: the detections of a public Mask R-CNN export
 * (boxes [N,4], labels [N], scores [N], NMS done in the graph) → DetectionRecords
 * (threshold, label → class, rank by score, cap). Reference: `exportedRecordsReference` in
 * app/reference/exportedRecords.ts.
 *
 *   createExportedRecords(device) → { run(encoder, inputs, params, pass?), destroy() }
 *
 * `run` writes its params with queue.writeBuffer at encode time: one kernel object per
 * chain and at most one `run` per submitted command buffer.
 */
import shaderCodeRaw from '../../../shaders/exported_records.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';

const shaderCode = withIncludes(shaderCodeRaw);

/** How the labels buffer holds its values. */
export type LabelEncoding = 'f32' | 'i64' | 'i32';
const LABEL_MODES: Record<LabelEncoding, number> = { f32: 0, i64: 1, i32: 2 };

export interface ExportedRecordsInputs {
  /** f32 [N, 4] xyxy in input pixels. */
  boxes: GPUBuffer;
  /** [N] labels, see `LabelEncoding`. */
  labels: GPUBuffer;
  /** f32 [N]. */
  scores: GPUBuffer;
  /** i32 [numLabels]: class index of each label value, −1 for none. */
  labelToClass: GPUBuffer;
  /** Output DetectionRecords (recordsBufferBytes(maxDetections)). */
  records: GPUBuffer;
}

export interface ExportedRecordsParams {
  numRows: number;
  maxDetections: number;
  labels: LabelEncoding;
  numLabels: number;
  confThreshold: number;
  scoreThreshold: number;
  inputWidth: number;
  inputHeight: number;
}

export interface ExportedRecordsKernel {
  run(encoder: GPUCommandEncoder, inputs: ExportedRecordsInputs, params: ExportedRecordsParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

/**
 * Params (uniform, 32 bytes), mirrors `struct Params` of the WGSL:
 *   u32: 0 numRows, 4 maxDetections, 8 labelMode (0 f32, 1 i64, 2 i32), 12 numLabels
 *   f32: 16 confThreshold, 20 scoreThreshold, 24 inputWidth, 28 inputHeight
 */
const PARAMS_BYTES = 32;

export function packExportedRecordsParams(p: ExportedRecordsParams): ArrayBuffer {
  const bytes = new ArrayBuffer(PARAMS_BYTES);
  new Uint32Array(bytes, 0, 4).set([p.numRows, p.maxDetections, LABEL_MODES[p.labels], p.numLabels]);
  new Float32Array(bytes, 16, 4).set([p.confThreshold, Math.max(0, p.scoreThreshold), p.inputWidth, p.inputHeight]);
  return bytes;
}

export function createExportedRecords(device: GPUDevice): ExportedRecordsKernel {
  const module = device.createShaderModule({ label: 'exportedRecords.module', code: shaderCode });
  const pipeline = device.createComputePipeline({ label: 'exportedRecords.pipeline', layout: 'auto', compute: { module, entryPoint: 'main' } });
  const uniform = createUniformBuffer(device, 'exportedRecords.params', PARAMS_BYTES);
  let cached: { inputs: ExportedRecordsInputs; bindGroup: GPUBindGroup } | undefined;

  function bindGroupFor(inputs: ExportedRecordsInputs): GPUBindGroup {
    const c = cached?.inputs;
    if (cached && c && (Object.keys(inputs) as Array<keyof ExportedRecordsInputs>).every((k) => c[k] === inputs[k])) return cached.bindGroup;
    const bindGroup = device.createBindGroup({
      label: 'exportedRecords.bindGroup',
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: uniform } },
        { binding: 1, resource: { buffer: inputs.boxes } },
        { binding: 2, resource: { buffer: inputs.labels } },
        { binding: 3, resource: { buffer: inputs.scores } },
        { binding: 4, resource: { buffer: inputs.labelToClass } },
        { binding: 5, resource: { buffer: inputs.records } },
      ],
    });
    cached = { inputs: { ...inputs }, bindGroup };
    return bindGroup;
  }

  return {
    run(encoder, inputs, params, pass) {
      if (params.maxDetections < 1) throw new Error('exportedRecords: maxDetections must be ≥ 1');
      device.queue.writeBuffer(uniform, 0, packExportedRecordsParams(params));
      const computePass = encoder.beginComputePass({ label: 'exportedRecords.pass', ...pass });
      computePass.setPipeline(pipeline);
      computePass.setBindGroup(0, bindGroupFor(inputs));
      computePass.dispatchWorkgroups(1);
      computePass.end();
    },
    destroy() {
      uniform.destroy();
      cached = undefined;
    },
  };
}
