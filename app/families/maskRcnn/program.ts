/**
 * Mask R-CNN as the runner sees it.
 *
 * Public single-file exports (torchvision, ONNX zoo; NMS and RoiAlign inside the graph):
 * one ONNX model, then the post-processing (../common/oneStage.ts).
 *
 * Our two-stage models (`manifest.twoStage`): three ONNX parts with our RoI kernels between
 * them (RoIAlign is not one of the operators ORT's WebGPU EP runs on the GPU):
 *
 *   image ─► [onnx backbone] ─► objectness, rpnDeltas, p2…p5
 *         ─► [kernels proposals]  rpnDecode → rpnTopN → rpnProposalNms → RoIAlign 7x7 ─► boxFeatures [R, C, 7, 7]
 *         ─► [onnx boxHead] ─► classLogits [R, K + 1], boxDeltas [R, (K + 1)·4]
 *         ─► [kernels detections] box decode → per-class NMS → cap → RoIAlign 14x14 ─► maskFeatures [M, C, 14, 14]
 *         ─► [onnx maskHead] ─► maskLogits [M, K + 1, 28, 28]
 *         ─► [kernels masks] maskPaste → compose → records
 *
 * R (rpnPostNmsTopN) and M are fixed for a frame on the GPU (padded RoIs go through the heads
 * and are ignored), so 'webgpu' reads nothing back before the records; on 'wasm+gpu' the two
 * feature tensors come back for the CPU heads (counted by the runner). On 'wasm' M is the
 * kept count (at least 1 row, so the mask head always has a batch; a row depends on its own
 * features alone).
 */
import type { ModelManifest } from '../../types';
import { IMAGE, type CpuTensor, type FamilyCpu, type FamilyProgram, type GpuTensor } from '../../pipeline/stages/program';
import { oneStageProgram } from '../common/oneStage';
import { createExportedGpuPostprocessor, warmExportedGpu } from './exportedGpu';
import { MaskRcnnTwoStageGpu, warmTwoStageGpu } from './gpu';
import { BOX_HEAD_OUTPUTS, boxFeatureDims, headManifests, isTwoStage, MASK_HEAD_OUTPUTS, maskBatch, maskFeatureDims, twoStageLayout } from './manifest';
import {
  postprocessMaskRcnnReference,
  twoStageDetectionsReference,
  twoStageMasksReference,
  twoStageProposalsReference,
  type TwoStageCpuFrame,
} from './reference';

const FPN = ['p2', 'p3', 'p4', 'p5'] as const;

/** The CPU side of a two-stage frame: the reference chain's state between steps. */
interface TwoStageCpu extends FamilyCpu {
  frame: TwoStageCpuFrame | null;
}

function buffers(tensors: Readonly<Record<string, GpuTensor>>): Record<string, GPUBuffer> {
  return Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, t.buffer]));
}

function frameOf(cpu: TwoStageCpu): TwoStageCpuFrame {
  if (!cpu.frame) throw new Error('Mask R-CNN: a step ran before the proposals');
  return cpu.frame;
}

function twoStageProgram(manifest: ModelManifest): FamilyProgram<MaskRcnnTwoStageGpu, TwoStageCpu> {
  const layout = twoStageLayout(manifest);
  const heads = headManifests(manifest);
  const f32 = (buffer: GPUBuffer, dims: readonly number[]): GpuTensor => ({ buffer, dims, type: 'float32' });
  const cpuTensor = (data: Float32Array, dims: readonly number[]): CpuTensor => ({ data, dims });
  return {
    steps: [
      { kind: 'onnx', name: 'backbone', part: manifest, input: IMAGE, outputs: manifest.outputs, timing: 'inference' },
      {
        kind: 'kernels',
        name: 'proposals',
        reads: Object.keys(manifest.outputs),
        publishes: ['boxFeatures'],
        timing: 'rpn',
        encode(gpu, encoder, tensors) {
          gpu.encodeProposals(encoder, buffers(tensors));
          return { boxFeatures: f32(gpu.boxFeatures, boxFeatureDims(layout)) };
        },
        reference(cpu, tensors) {
          const { frame, timings } = twoStageProposalsReference({ ...tensors }, layout);
          cpu.frame = frame;
          Object.assign(cpu.timings, timings);
          return { boxFeatures: cpuTensor(frame.boxFeatures, boxFeatureDims(layout)) };
        },
      },
      { kind: 'onnx', name: 'boxHead', part: heads.boxHead, input: 'boxFeatures', outputs: BOX_HEAD_OUTPUTS, timing: 'heads' },
      {
        kind: 'kernels',
        name: 'detections',
        reads: ['classLogits', 'boxDeltas', ...FPN],
        publishes: ['maskFeatures'],
        timing: 'decode',
        encode(gpu, encoder, tensors, frame) {
          const { classLogits, boxDeltas, ...fpn } = buffers(tensors);
          gpu.encodeDetections(encoder, { classLogits: classLogits!, boxDeltas: boxDeltas! }, fpn, frame.settings, frame.transform, frame.image);
          return { maskFeatures: f32(gpu.maskFeatures, maskFeatureDims(layout, maskBatch(frame.settings))) };
        },
        reference(cpu, tensors, frame) {
          const f = frameOf(cpu);
          const timings = twoStageDetectionsReference(f, tensors.classLogits!.data, tensors.boxDeltas!.data, manifest, frame.settings, (kept) =>
            Math.max(1, kept),
          );
          for (const [k, v] of Object.entries(timings)) cpu.timings[k as 'roi'] = (cpu.timings[k as 'roi'] ?? 0) + (v ?? 0);
          return { maskFeatures: cpuTensor(f.maskFeatures, maskFeatureDims(layout, Math.max(1, f.records.length))) };
        },
      },
      { kind: 'onnx', name: 'maskHead', part: heads.maskHead, input: 'maskFeatures', outputs: MASK_HEAD_OUTPUTS, timing: 'heads' },
      {
        kind: 'kernels',
        name: 'masks',
        reads: ['maskLogits'],
        publishes: [],
        timing: 'masks',
        encode(gpu, encoder, tensors) {
          gpu.encodeMasks(encoder, tensors.maskLogits!.buffer);
        },
        reference(cpu, tensors, frame) {
          const out = twoStageMasksReference(frameOf(cpu), tensors.maskLogits!.data, manifest, frame.image, frame.mask);
          cpu.result = { detections: out.detections, masks: out.masks };
          cpu.timings.masks = (cpu.timings.masks ?? 0) + (out.timings.masks ?? 0);
        },
      },
    ],
    createGpu: (device, mask, options) => new MaskRcnnTwoStageGpu(device, manifest, mask, options),
    warmGpu: (device) => warmTwoStageGpu(device, manifest),
    createCpu: () => ({ result: null, timings: {}, frame: null }),
  };
}

export function program(manifest: ModelManifest): FamilyProgram {
  if (isTwoStage(manifest)) return twoStageProgram(manifest);
  return { ...oneStageProgram(manifest, createExportedGpuPostprocessor, postprocessMaskRcnnReference), warmGpu: warmExportedGpu };
}
