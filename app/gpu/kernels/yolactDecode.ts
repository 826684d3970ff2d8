/**
 * Host code of shaders/yolact_decode.wgsl: loc [N, 4], conf [N, C + 1], priors [N, 4] →
 * boxes [N, 4] xyxy relative, and the candidate list (count + prior indices).
 * Reference: app/reference/yolactDecode.ts.
 *
 * `run` writes its params with queue.writeBuffer at encode time, so use one kernel object
 * per chain (pane) and at most one `run` of it per submitted command buffer.
 */
import shaderCode from '../../../shaders/yolact_decode.wgsl?raw';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, bufferEntries, dispatchPass, entry } from '../bindGroups';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const YOLACT_DECODE = kernelSource({ name: 'yolactDecode', code: shaderCode, entryPoints: ['main'] });
/** Params struct of yolact_decode.wgsl, as the WGSL lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');
const WORKGROUP = 64;

/** Words before the candidate indices in the candidates buffer (word 0 = count). */
export const CANDIDATES_HEADER_WORDS = 4;

/** Bytes of a candidates buffer for N priors: 16-byte header + N u32. */
export function candidatesBytes(numPriors: number): number {
  return 4 * (CANDIDATES_HEADER_WORDS + numPriors);
}

/** Bytes of a boxes buffer for N priors: [N, 4] f32. */
export function boxesBytes(numPriors: number): number {
  return 16 * numPriors;
}

export interface YolactDecodeInputs {
  /** [N, 4] f32 deltas. */
  loc: GPUBuffer;
  /** [N, C + 1] f32, softmaxed, background at column 0. */
  conf: GPUBuffer;
  /** [N, 4] f32 (cx, cy, w, h). */
  priors: GPUBuffer;
  /** Output [N, 4] f32 xyxy relative; see `boxesBytes`. */
  boxes: GPUBuffer;
  /** Output count + candidate prior indices; see `candidatesBytes`. Cleared by `run`. */
  candidates: GPUBuffer;
}

export interface YolactDecodeParams {
  numPriors: number;
  /** Foreground classes C (conf has C + 1 columns). */
  numClasses: number;
  /** YOLACT: 0.05. */
  confThreshold: number;
}

export interface YolactDecodeKernel {
  run(encoder: GPUCommandEncoder, inputs: YolactDecodeInputs, params: YolactDecodeParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

export function createYolactDecode(device: GPUDevice): YolactDecodeKernel {
  const pipeline = kernelPipelines(device, YOLACT_DECODE).pipelines.main;
  const uniform = createUniformBuffer(device, 'yolactDecode.params', PARAMS.size);
  const bindGroups = new BindGroupCache<GPUBindGroup>();

  return {
    run(encoder, inputs, params, pass) {
      const { numPriors, numClasses, confThreshold } = params;
      device.queue.writeBuffer(uniform, 0, packUniforms(PARAMS, { numPriors, numClasses, confThreshold }));

      const key = [inputs.loc, inputs.conf, inputs.priors, inputs.boxes, inputs.candidates];
      const group = bindGroups.get(key, () =>
        device.createBindGroup({
          label: 'yolactDecode.bindGroup',
          layout: pipeline.getBindGroupLayout(0),
          entries: [...bufferEntries(key), entry(5, uniform)],
        }),
      );
      encoder.clearBuffer(inputs.candidates, 0, 4 * CANDIDATES_HEADER_WORDS);
      if (params.numPriors === 0) return;
      dispatchPass(encoder, pass ?? { label: 'yolactDecode' }, pipeline, group, [Math.ceil(params.numPriors / WORKGROUP)]);
    },
    destroy() {
      uniform.destroy();
      bindGroups.clear();
    },
  };
}
