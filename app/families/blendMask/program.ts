/**
 * BlendMask and B2Inst as the runner sees them (/work/shared/MODELS.md §5). BlendMask is one
 * ONNX part and our kernels after it; B2Inst adds its boundary-aware scoring head between two
 * kernel steps:
 *
 *   BlendMask  image ─► [onnx detector] ─► bases, logits / bbox_reg / centerness / top_feats P3…P7
 *              ─► [kernels postprocess] fcosDecode → classTopK → NMS → cap → blender → maskPaste
 *                 → compose → records
 *   B2Inst     image ─► [onnx detector] ─► the same (bases: K = 5, the boundary basis last)
 *              ─► [kernels detections] … → blender → RoIAlign of the bases → boundaryMap
 *                 ─► scoringFeatures [M, 2 + K, R, R]
 *              ─► [onnx scoringHead] ─► qualities [M, 2] (S_IoU, S_boundary)
 *              ─► [kernels masks] maskRescore → maskPaste → compose → records (+ qualities)
 *
 * M is the pane's maxDetections on the GPU (padded rows go through the head and are ignored,
 * so 'webgpu' reads nothing back before the records); on 'wasm+gpu' the scoring features come
 * back for the CPU head (counted by the runner). On 'wasm' M is the kept count (at least one
 * row, so the head always has a batch).
 */
import type { ModelManifest } from '../../types';
import { IMAGE, type CpuTensor, type FamilyCpu, type FamilyProgram, type GpuTensor, type KernelStep, type Step } from '../../pipeline/stages/program';
import { BlendMaskGpu, warmBlendMaskGpu } from './gpu';
import { blendBatch, blendMaskLayout, SCORING_FEATURES, SCORING_SCORES, scoringFeatureDims, scoringHeadManifest } from './manifest';
import { blendMaskDetectionsReference, blendMaskMasksReference, type BlendMaskCpuFrame } from './reference';

/** The CPU side of a frame: the reference chain's state between its steps. */
export interface BlendMaskCpu extends FamilyCpu {
  frame: BlendMaskCpuFrame | null;
}

function buffers(tensors: Readonly<Record<string, GpuTensor>>): Record<string, GPUBuffer> {
  return Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, t.buffer]));
}

function addTimings(cpu: BlendMaskCpu, timings: Partial<Record<'decode' | 'nms' | 'roi' | 'masks', number>>): void {
  for (const [k, v] of Object.entries(timings)) cpu.timings[k as 'roi'] = (cpu.timings[k as 'roi'] ?? 0) + (v ?? 0);
}

export function program(manifest: ModelManifest): FamilyProgram<BlendMaskGpu, BlendMaskCpu> {
  const layout = blendMaskLayout(manifest);
  const detectorOutputs = Object.keys(manifest.outputs);
  const detector: Step<BlendMaskGpu, BlendMaskCpu> = {
    kind: 'onnx',
    name: 'detector',
    part: manifest,
    input: IMAGE,
    outputs: manifest.outputs,
    timing: 'inference',
  };
  const masksReference = (cpu: BlendMaskCpu, qualities: Float32Array | null, frame: Parameters<KernelStep['reference']>[2]) => {
    if (!cpu.frame) throw new Error('BlendMask: the masks step ran before the detections');
    const out = blendMaskMasksReference(cpu.frame, qualities, manifest, frame.settings, frame.image, frame.mask);
    cpu.result = { detections: out.detections, masks: out.masks, ...(out.auxiliaryMap ? { auxiliaryMap: out.auxiliaryMap } : {}) };
    addTimings(cpu, out.timings);
  };
  const common = {
    createGpu: (device: GPUDevice, mask: { width: number; height: number }, options: ConstructorParameters<typeof BlendMaskGpu>[3]) =>
      new BlendMaskGpu(device, manifest, mask, options),
    warmGpu: (device: GPUDevice) => warmBlendMaskGpu(device),
    createCpu: (): BlendMaskCpu => ({ result: null, timings: {}, frame: null }),
  };

  if (!layout.b2inst) {
    return {
      steps: [
        detector,
        {
          kind: 'kernels',
          name: 'postprocess',
          reads: detectorOutputs,
          publishes: [],
          timing: 'masks',
          encode(gpu, encoder, tensors, frame) {
            gpu.encodeDetections(encoder, buffers(tensors), frame.settings, frame.transform, frame.image);
            gpu.encodeMasks(encoder, null);
          },
          reference(cpu, tensors, frame) {
            const { frame: f, timings } = blendMaskDetectionsReference(tensors, manifest, frame.settings);
            cpu.frame = f;
            addTimings(cpu, timings);
            masksReference(cpu, null, frame);
          },
        },
      ],
      ...common,
    };
  }

  const f32 = (buffer: GPUBuffer, dims: readonly number[]): GpuTensor => ({ buffer, dims, type: 'float32' });
  const cpuTensor = (data: Float32Array, dims: readonly number[]): CpuTensor => ({ data, dims });
  const scoringHead = scoringHeadManifest(manifest);
  return {
    steps: [
      detector,
      {
        kind: 'kernels',
        name: 'detections',
        reads: detectorOutputs,
        publishes: [SCORING_FEATURES],
        timing: 'decode',
        encode(gpu, encoder, tensors, frame) {
          gpu.encodeDetections(encoder, buffers(tensors), frame.settings, frame.transform, frame.image);
          return { [SCORING_FEATURES]: f32(gpu.scoringFeatures, scoringFeatureDims(layout, blendBatch(frame.settings))) };
        },
        reference(cpu, tensors, frame) {
          const { frame: f, timings } = blendMaskDetectionsReference(tensors, manifest, frame.settings, (kept) => Math.max(1, kept));
          cpu.frame = f;
          addTimings(cpu, timings);
          return { [SCORING_FEATURES]: cpuTensor(f.scoringFeatures!, scoringFeatureDims(layout, Math.max(1, f.records.length))) };
        },
      },
      { kind: 'onnx', name: 'scoringHead', part: scoringHead, input: SCORING_FEATURES, outputs: scoringHead.outputs, timing: 'heads' },
      {
        kind: 'kernels',
        name: 'masks',
        reads: [SCORING_SCORES],
        publishes: [],
        timing: 'masks',
        encode(gpu, encoder, tensors) {
          gpu.encodeMasks(encoder, tensors[SCORING_SCORES]!.buffer);
        },
        reference(cpu, tensors, frame) {
          masksReference(cpu, tensors[SCORING_SCORES]!.data, frame);
        },
      },
    ],
    ...common,
  };
}
