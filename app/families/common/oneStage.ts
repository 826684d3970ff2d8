/**
 * The program of a single-part model (YOLACT, YOLO-seg, public Mask R-CNN exports): the
 * ONNX model on the image, then the family's whole post-processing as one kernel step —
 * its GPU post-processor's `encode` (decode → top-k → NMS → cap → masks → compose), or its
 * TypeScript reference on 'wasm'.
 *
 *   image ─► [onnx 'model'] ─► the manifest's outputs ─► [kernels 'postprocess'] ─► records
 */
import type { Detection, InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import type { InputTransform } from '../../gpu/layout';
import {
  IMAGE,
  type CpuTensor,
  type FamilyCpu,
  type FamilyGpu,
  type FamilyGpuOptions,
  type FamilyProgram,
  type GpuTensor,
} from '../../pipeline/stages/program';

/** An output's dims and ORT type this frame ('float32', 'int64' …). */
export interface OutputShape {
  dims: readonly number[];
  type?: string;
}

/** A single-part family's GPU post-processor (app/families/<family>/gpu.ts). */
export interface OneStageGpu extends FamilyGpu {
  encode(
    encoder: GPUCommandEncoder,
    outputs: Record<string, GPUBuffer>,
    settings: PostprocessSettings,
    transform: InputTransform,
    image: { width: number; height: number },
    /**
     * This frame's dims and ORT type of each output (by logical name): needed where the
     * row count varies per frame (Mask R-CNN exports, NMS in the graph); others ignore it.
     */
    shapes?: Record<string, OutputShape>,
  ): void;
}

export type OneStageGpuFactory = (
  device: GPUDevice,
  manifest: ModelManifest,
  mask: { width: number; height: number },
  options: FamilyGpuOptions,
) => OneStageGpu;

/** A single-part family's CPU post-processing (app/families/<family>/reference.ts). */
export type OneStageReference = (
  outputs: Record<string, CpuTensor>,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  imageSize: { width: number; height: number },
) => { detections: Detection[]; masks: InstanceMasks; timings?: Partial<Pick<StageTimings, 'decode' | 'nms' | 'masks'>> };

export function oneStageProgram(manifest: ModelManifest, createGpu: OneStageGpuFactory, reference: OneStageReference): FamilyProgram<OneStageGpu> {
  const outputs = Object.keys(manifest.outputs);
  return {
    steps: [
      { kind: 'onnx', name: 'model', part: manifest, input: IMAGE, outputs: manifest.outputs, timing: 'inference' },
      {
        kind: 'kernels',
        name: 'postprocess',
        reads: outputs,
        publishes: [],
        timing: 'decode',
        encode(gpu, encoder, tensors, frame) {
          const buffers: Record<string, GPUBuffer> = {};
          const shapes: Record<string, OutputShape> = {};
          for (const [name, t] of Object.entries(tensors) as [string, GpuTensor][]) {
            buffers[name] = t.buffer;
            shapes[name] = { dims: t.dims, type: t.type };
          }
          gpu.encode(encoder, buffers, frame.settings, frame.transform, frame.image, shapes);
        },
        reference(cpu, tensors, frame) {
          const post = reference({ ...tensors }, manifest, frame.settings, frame.image);
          cpu.result = { detections: post.detections, masks: post.masks };
          if (post.timings) Object.assign(cpu.timings, post.timings);
        },
      },
    ],
    createGpu: (device, mask, options) => createGpu(device, manifest, mask, options),
    createCpu: (): FamilyCpu => ({ result: null, timings: {} }),
  };
}
