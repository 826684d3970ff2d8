/**
 * Host code of shaders/detection_cap.wgsl: kept per-class entries → DetectionRecords
 * (app/gpu/layout.ts), sorted by score, at most maxDetections, scores ≥ scoreThreshold.
 * Also writes the header's candidateCount (from the decode's candidates buffer).
 * Reference: app/reference/detectionCap.ts.
 *
 * `run` writes its params with queue.writeBuffer at encode time, so use one kernel object
 * per chain (pane) and at most one `run` of it per submitted command buffer.
 */
import shaderCodeRaw from '../../../shaders/detection_cap.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, bufferEntries, entry } from '../bindGroups';
import { RECORD_HEADER_BYTES } from '../layout';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';

const shaderCode = withIncludes(shaderCodeRaw);

/** GPUShaderStage.COMPUTE, as a literal: this module may be evaluated before WebGPU's globals exist (Node tests). */
const COMPUTE = 0x4;
const storage = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({ binding, visibility: COMPUTE, buffer: { type } });

/**
 * The kernel's pipelines (app/gpu/kernelCache.ts): three entry points on one explicit
 * layout, so that one bind group serves the whole pass.
 */
export const DETECTION_CAP = kernelSource({
  name: 'detectionCap',
  code: shaderCode,
  entryPoints: ['prefixCounts', 'scatter', 'header'],
  bindings: [
    ...[0, 1, 2, 3, 4, 5].map((b) => storage(b, 'read-only-storage')),
    storage(6, 'storage'),
    storage(7, 'storage'),
    { binding: 8, visibility: COMPUTE, buffer: { type: 'uniform' } },
  ],
});
/** Params struct of detection_cap.wgsl, as the WGSL lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');
const WORKGROUP = 64;

export interface DetectionCapInputs {
  /** [N, 4] boxes by prior, or [C, S, 4] class-specific boxes with `boxClassStride` S > 0. */
  boxes: GPUBuffer;
  topIndices: GPUBuffer;
  topScores: GPUBuffer;
  topCounts: GPUBuffer;
  keep: GPUBuffer;
  /** Candidates buffer of yolactDecode (word 0 = candidate count). */
  candidates: GPUBuffer;
  /** Output DetectionRecords, ≥ recordsBufferBytes(maxDetections). */
  records: GPUBuffer;
}

export interface DetectionCapParams {
  numClasses: number;
  topK: number;
  /** YOLACT: 100. */
  maxDetections: number;
  /** Display threshold; 0 keeps all. */
  scoreThreshold: number;
  /**
   * 0 / absent: one box per prior, shared by all classes. S > 0: the box of (class c, prior p)
   * is row c·S + p (Mask R-CNN); the record's sourceIndex stays p.
   */
  boxClassStride?: number;
}

export interface DetectionCapKernel {
  run(encoder: GPUCommandEncoder, inputs: DetectionCapInputs, params: DetectionCapParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

export function createDetectionCap(device: GPUDevice): DetectionCapKernel {
  const compiled = kernelPipelines(device, DETECTION_CAP);
  const { prefixCounts, scatter, header } = compiled.pipelines;
  const bindGroupLayout = compiled.bindGroupLayout!;
  const uniform = createUniformBuffer(device, 'detectionCap.params', PARAMS.size);
  let scratch: GPUBuffer | undefined;
  const bindGroups = new BindGroupCache<GPUBindGroup>();

  return {
    run(encoder, inputs, params, pass) {
      if (params.maxDetections < 1) {
        // No record fits (and a 16-byte buffer cannot bind the records array): header only,
        // count 0 and the candidate count.
        encoder.clearBuffer(inputs.records, 0, RECORD_HEADER_BYTES);
        encoder.copyBufferToBuffer(inputs.candidates, 0, inputs.records, 4, 4);
        return;
      }
      const { numClasses, topK, maxDetections, scoreThreshold } = params;
      device.queue.writeBuffer(
        uniform,
        0,
        packUniforms(PARAMS, { numClasses, topK, maxDetections, scoreThreshold, boxClassStride: params.boxClassStride ?? 0 }),
      );
      // keptPrefix [C, topK + 1] + keptAbove [C]
      const scratchBytes = 4 * (params.numClasses * (params.topK + 1) + params.numClasses);
      if (!scratch || scratch.size < scratchBytes) {
        scratch?.destroy();
        scratch = device.createBuffer({ label: 'detectionCap.scratch', size: Math.max(16, scratchBytes), usage: GPUBufferUsage.STORAGE });
      }
      const key = [inputs.boxes, inputs.topIndices, inputs.topScores, inputs.topCounts, inputs.keep, inputs.candidates, inputs.records, scratch];
      const group = bindGroups.get(key, () =>
        device.createBindGroup({ label: 'detectionCap.bindGroup', layout: bindGroupLayout, entries: [...bufferEntries(key), entry(8, uniform)] }),
      );
      const p = encoder.beginComputePass(pass ?? { label: 'detectionCap' });
      p.setBindGroup(0, group);
      // prefixCounts always runs when there are classes: `header` sums its keptAbove, which
      // must not be a previous frame's.
      if (params.numClasses > 0) {
        p.setPipeline(prefixCounts);
        p.dispatchWorkgroups(Math.ceil(params.numClasses / WORKGROUP));
      }
      if (params.numClasses > 0 && params.topK > 0) {
        p.setPipeline(scatter);
        p.dispatchWorkgroups(Math.ceil((params.numClasses * params.topK) / WORKGROUP));
      }
      p.setPipeline(header);
      p.dispatchWorkgroups(1);
      p.end();
    },
    destroy() {
      uniform.destroy();
      scratch?.destroy();
      bindGroups.clear();
    },
  };
}
