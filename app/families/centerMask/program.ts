/**
 * CenterMask as the runner sees it (Lee & Park 2020, /work/shared/MODELS.md §4): two ONNX
 * parts with our kernels between them.
 *
 *   image ─► [onnx detector] ─► p3…p5, clsP3…P7, boxP3…P7, ctrP3…P7
 *         ─► [kernels detections] fcosDecode → classTopK → NMS → cap → RoIAlign 14x14 (Eq. 2) ─► maskFeatures [M, C, 14, 14]
 *         ─► [onnx maskHead] ─► maskLogits [M, K, 28, 28], maskIou [M, K]
 *         ─► [kernels masks] maskRescore → maskPaste (detectron2) → compose → records
 *
 * M is the pane's maxDetections on the GPU (padded RoIs go through the head and are ignored,
 * so 'webgpu' reads nothing back before the records); on 'wasm+gpu' the mask features come
 * back for the CPU head (counted by the runner). On 'wasm' M is the kept count (at least one
 * row, so the head always has a batch).
 */
import type { ModelManifest } from '../../types';
import { IMAGE, type CpuTensor, type FamilyCpu, type FamilyProgram, type GpuTensor } from '../../pipeline/stages/program';
import { CenterMaskGpu, warmCenterMaskGpu } from './gpu';
import { centerMaskLayout, maskBatch, maskFeatureDims, maskHeadManifest, MASK_HEAD_OUTPUTS } from './manifest';
import { centerMaskDetectionsReference, centerMaskMasksReference, type CenterMaskCpuFrame } from './reference';

/** The CPU side of a frame: the reference chain's state between its two steps. */
export interface CenterMaskCpu extends FamilyCpu {
  frame: CenterMaskCpuFrame | null;
}

function buffers(tensors: Readonly<Record<string, GpuTensor>>): Record<string, GPUBuffer> {
  return Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, t.buffer]));
}

function addTimings(cpu: CenterMaskCpu, timings: Partial<Record<'decode' | 'nms' | 'roi' | 'masks', number>>): void {
  for (const [k, v] of Object.entries(timings)) cpu.timings[k as 'roi'] = (cpu.timings[k as 'roi'] ?? 0) + (v ?? 0);
}

export function program(manifest: ModelManifest): FamilyProgram<CenterMaskGpu, CenterMaskCpu> {
  const layout = centerMaskLayout(manifest);
  const f32 = (buffer: GPUBuffer, dims: readonly number[]): GpuTensor => ({ buffer, dims, type: 'float32' });
  const cpuTensor = (data: Float32Array, dims: readonly number[]): CpuTensor => ({ data, dims });
  return {
    steps: [
      { kind: 'onnx', name: 'detector', part: manifest, input: IMAGE, outputs: manifest.outputs, timing: 'inference' },
      {
        kind: 'kernels',
        name: 'detections',
        reads: Object.keys(manifest.outputs),
        publishes: ['maskFeatures'],
        timing: 'decode',
        encode(gpu, encoder, tensors, frame) {
          gpu.encodeDetections(encoder, buffers(tensors), frame.settings, frame.transform, frame.image);
          return { maskFeatures: f32(gpu.maskFeatures, maskFeatureDims(layout, maskBatch(frame.settings))) };
        },
        reference(cpu, tensors, frame) {
          const { frame: f, timings } = centerMaskDetectionsReference(tensors, manifest, frame.settings, (kept) => Math.max(1, kept));
          cpu.frame = f;
          addTimings(cpu, timings);
          return { maskFeatures: cpuTensor(f.maskFeatures, maskFeatureDims(layout, Math.max(1, f.records.length))) };
        },
      },
      { kind: 'onnx', name: 'maskHead', part: maskHeadManifest(manifest), input: 'maskFeatures', outputs: MASK_HEAD_OUTPUTS, timing: 'heads' },
      {
        kind: 'kernels',
        name: 'masks',
        reads: ['maskLogits', 'maskIou'],
        publishes: [],
        timing: 'masks',
        encode(gpu, encoder, tensors) {
          gpu.encodeMasks(encoder, tensors.maskLogits!.buffer, tensors.maskIou!.buffer);
        },
        reference(cpu, tensors, frame) {
          if (!cpu.frame) throw new Error('CenterMask: the masks step ran before the detections');
          const out = centerMaskMasksReference(cpu.frame, tensors.maskLogits!.data, tensors.maskIou!.data, manifest, frame.settings, frame.image, frame.mask);
          cpu.result = { detections: out.detections, masks: out.masks };
          addTimings(cpu, out.timings);
        },
      },
    ],
    createGpu: (device, mask, options) => new CenterMaskGpu(device, manifest, mask, options),
    warmGpu: (device) => warmCenterMaskGpu(device),
    createCpu: () => ({ result: null, timings: {}, frame: null }),
  };
}
