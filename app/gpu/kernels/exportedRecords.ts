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
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';

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

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const EXPORTED_RECORDS = kernelSource({ name: 'exportedRecords', code: shaderCode, entryPoints: ['main'] });
/** Params struct of the WGSL, as it lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');

export function packExportedRecordsParams(p: ExportedRecordsParams): ArrayBuffer {
  return packUniforms(PARAMS, {
    numRows: p.numRows,
    maxDetections: p.maxDetections,
    labelMode: LABEL_MODES[p.labels],
    numLabels: p.numLabels,
    confThreshold: p.confThreshold,
    scoreThreshold: Math.max(0, p.scoreThreshold),
    inputWidth: p.inputWidth,
    inputHeight: p.inputHeight,
  });
}

export function createExportedRecords(device: GPUDevice): ExportedRecordsKernel {
  const pipeline = kernelPipelines(device, EXPORTED_RECORDS).pipelines.main;
  const uniform = createUniformBuffer(device, 'exportedRecords.params', PARAMS.size);
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
