/**
 * The FCOS box chain on the GPU, CenterMask's and BlendMask's first kernels (CPU oracle:
 * ./fcosReference.ts):
 *
 *   detector cls / box / ctr per level → fcosDecode → classTopK → fastNms | greedyNms → detectionCap   ('decode', 'nms')
 *
 * `FcosBoxChain` owns the kernels and the decode's outputs — boxes [N] vec4, conf [N, K + 1],
 * candidates [4 + N] (fixed by the layout) — and encodes into the post-processor's per-class
 * lists, keep flags and records (../common/maskedDetectionGpu.ts), with its labels and passes.
 */
import type { PostprocessSettings } from '../../types';
import { createStorageBuffer } from '../../gpu/buffers';
import { createFcosDecode, FCOS_DECODE, fcosDecodeBytes, type FcosDecodeKernel } from '../../gpu/kernels/fcosDecode';
import { CLASS_TOP_K, createClassTopK, type ClassTopKKernel } from '../../gpu/kernels/classTopK';
import { createFastNms, FAST_NMS, type NmsKernel } from '../../gpu/kernels/fastNms';
import { createGreedyNms, GREEDY_NMS } from '../../gpu/kernels/greedyNms';
import { createDetectionCap, DETECTION_CAP, type DetectionCapKernel } from '../../gpu/kernels/detectionCap';
import type { KernelSource } from '../../gpu/kernelCache';
import { candidateThresholdOf, effectiveTopK, type FcosHeadLayout } from './fcos';

/** The chain's kernels (for a family's warm list). */
export const FCOS_BOX_CHAIN_KERNELS: readonly KernelSource[] = [FCOS_DECODE, CLASS_TOP_K, FAST_NMS, GREEDY_NMS, DETECTION_CAP];

/** The post-processor's buffers the chain writes (grown first to `effectiveTopK` rows per class and `maxDetections` records). */
export interface FcosChainTargets {
  topIndices: GPUBuffer;
  topScores: GPUBuffer;
  topCounts: GPUBuffer;
  keep: GPUBuffer;
  classLists: GPUBuffer;
  records: GPUBuffer;
}

export class FcosBoxChain {
  private readonly decode: FcosDecodeKernel;
  private readonly topK: ClassTopKKernel;
  private readonly fastNms: NmsKernel;
  private readonly greedyNms: NmsKernel;
  private readonly cap: DetectionCapKernel;
  private readonly boxes: GPUBuffer;
  private readonly conf: GPUBuffer;
  private readonly candidates: GPUBuffer;

  /** `label(name)`: the post-processor's label of its buffer `name`. */
  constructor(
    device: GPUDevice,
    private readonly layout: FcosHeadLayout,
    label: (name: string) => string,
  ) {
    this.decode = createFcosDecode(device);
    this.topK = createClassTopK(device);
    this.fastNms = createFastNms(device);
    this.greedyNms = createGreedyNms(device);
    this.cap = createDetectionCap(device);
    const sizes = fcosDecodeBytes(layout.numLocations, layout.numClasses);
    this.boxes = createStorageBuffer(device, label('boxes'), sizes.boxes);
    this.conf = createStorageBuffer(device, label('conf'), sizes.conf);
    this.candidates = createStorageBuffer(device, label('candidates'), sizes.candidates);
  }

  /**
   * FCOS decode → per-class top-k → NMS → cap into `targets.records` (at most `maxDetections`),
   * no submit. `pass(stage, name)`: the post-processor's timestamped pass descriptor.
   */
  encode(
    encoder: GPUCommandEncoder,
    detector: Readonly<Record<string, GPUBuffer>>,
    settings: PostprocessSettings,
    targets: FcosChainTargets,
    maxDetections: number,
    pass: (stage: string, name: string) => GPUComputePassDescriptor,
  ): void {
    const { layout } = this;
    const topK = effectiveTopK(settings);
    const threshold = Math.max(0, settings.scoreThreshold);
    const numClasses = layout.numClasses;
    const { topIndices, topScores, topCounts, keep, classLists, records } = targets;
    const top = { topIndices, topScores, topCounts };
    this.decode.run(
      encoder,
      {
        levels: layout.levels.map((l) => ({ cls: detector[l.cls]!, box: detector[l.box]!, ctr: detector[l.ctr]! })),
        boxes: this.boxes,
        conf: this.conf,
        candidates: this.candidates,
      },
      {
        numClasses,
        levels: layout.levels,
        input: { width: layout.inputWidth, height: layout.inputHeight },
        candidateThreshold: candidateThresholdOf(layout, settings),
        topN: layout.config.preNmsTopN,
      },
      pass('decode', 'fcosDecode'),
    );
    this.topK.run(
      encoder,
      { conf: this.conf, candidates: this.candidates, ...top, classLists },
      { numPriors: layout.numLocations, numClasses, topK, minScore: threshold },
      pass('nms', 'classTopK'),
    );
    const nms = settings.nmsKind === 'greedy' ? this.greedyNms : this.fastNms;
    nms.run(
      encoder,
      { boxes: this.boxes, topIndices, topCounts, keep, classLists },
      { numClasses, topK, nmsIou: settings.nmsIou },
      pass('nms', `${settings.nmsKind}Nms`),
    );
    this.cap.run(
      encoder,
      { boxes: this.boxes, candidates: this.candidates, ...top, keep, records },
      { numClasses, topK, maxDetections, scoreThreshold: threshold },
      pass('nms', 'detectionCap'),
    );
  }

  destroy(): void {
    for (const k of [this.decode, this.topK, this.fastNms, this.greedyNms, this.cap]) k.destroy();
    for (const b of [this.boxes, this.conf, this.candidates]) b.destroy();
  }
}
