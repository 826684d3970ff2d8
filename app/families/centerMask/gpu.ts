/**
 * CenterMask on the GPU: `CenterMaskGpu`, the WGSL between its two ONNX parts, encoded in two
 * steps with the mask head run between them (the steps of ./program.ts, run by the one
 * runner, app/pipeline/stages/):
 *
 *   encodeDetections(detector)  fcosDecode → classTopK → fastNms | greedyNms → detectionCap   ('decode', 'nms')
 *                               → RoIAlign poolSize² on the records (Equation 2 levels)
 *                                 → maskFeatures [M, C, 14, 14]                             ('roi')
 *     … mask head: maskFeatures → maskLogits [M, K, 28, 28], maskIou [M, K] …
 *   encodeMasks(maskLogits, maskIou)  maskRescore → maskPaste (detectron2) → compose       ('masks')
 *                               → copy records (+ resolved timestamps) into ONE staging buffer
 *   readResult()                the one mapAsync of the frame
 *
 * M (the pane's maxDetections) is fixed for a frame: padded RoIs (zero rows) go through the
 * mask head and are ignored, so 'webgpu' reads nothing back before the records.
 * The records, bit masks, compose, read-back and recompose are the shared base
 * (../common/maskedDetectionGpu.ts, `spec: null`). CPU oracle: ./reference.ts.
 */
import type { ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import type { InputTransform } from '../../gpu/layout';
import { createStorageBuffer, readBuffer } from '../../gpu/buffers';
import { createFcosDecode, FCOS_DECODE, fcosDecodeBytes, type FcosDecodeKernel } from '../../gpu/kernels/fcosDecode';
import { CLASS_TOP_K, createClassTopK, type ClassTopKKernel } from '../../gpu/kernels/classTopK';
import { createFastNms, FAST_NMS, type NmsKernel } from '../../gpu/kernels/fastNms';
import { createGreedyNms, GREEDY_NMS } from '../../gpu/kernels/greedyNms';
import { createDetectionCap, DETECTION_CAP, type DetectionCapKernel } from '../../gpu/kernels/detectionCap';
import { createRoiAlign, recordsRoiSource, ROI_ALIGN, roiFeaturesBytes, type RoiPoolerKernel } from '../../gpu/kernels/roiAlign';
import { createMaskRescore, MASK_RESCORE, type MaskRescoreKernel } from '../../gpu/kernels/maskRescore';
import { createMaskPaste, MASK_PASTE, type MaskPasteKernel } from '../../gpu/kernels/maskPaste';
import { warmKernels, type KernelSource } from '../../gpu/kernelCache';
import { MaskedDetectionGpuPostprocessor, sharedGpuKernels, type GpuReadResult, type MaskedDetectionGpuOptions } from '../common/maskedDetectionGpu';
import {
  candidateThresholdOf,
  centerMaskFloats,
  centerMaskLayout,
  CENTER_MASK_FPN,
  effectiveTopK,
  maskBatch,
  ranksByMaskIou,
  type CenterMaskLayout,
} from './manifest';

/** Timestamp spans of the chain (a span must not straddle the mask head's submit). */
const STAGES = ['decode', 'nms', 'roi', 'masks'] as const;

/** Every kernel a CenterMask GPU side uses (and the runner's preprocess): what `warmCenterMaskGpu` compiles. */
export const CENTER_MASK_GPU_KERNELS: KernelSource[] = [
  FCOS_DECODE,
  CLASS_TOP_K,
  FAST_NMS,
  GREEDY_NMS,
  DETECTION_CAP,
  ROI_ALIGN,
  MASK_RESCORE,
  MASK_PASTE,
  ...sharedGpuKernels(false),
];

export function warmCenterMaskGpu(device: GPUDevice): Promise<void> {
  return warmKernels(device, CENTER_MASK_GPU_KERNELS);
}

export class CenterMaskGpu extends MaskedDetectionGpuPostprocessor {
  readonly layout: CenterMaskLayout;

  private readonly decode: FcosDecodeKernel;
  private readonly topK: ClassTopKKernel;
  private readonly fastNms: NmsKernel;
  private readonly greedyNms: NmsKernel;
  private readonly cap: DetectionCapKernel;
  private readonly roiAlign: RoiPoolerKernel;
  private readonly rescore: MaskRescoreKernel;
  private readonly paste: MaskPasteKernel;

  // Fixed: the decode's boxes [N] vec4, conf [N, K + 1], candidates [4 + N]. Grown with M: the
  // mask head's input. The per-class lists, keep flags, records and bit masks are the base's.
  private readonly boxes: GPUBuffer;
  private readonly conf: GPUBuffer;
  private readonly candidates: GPUBuffer;
  private maskFeatureBuffer: GPUBuffer | null = null;

  /** The frame being encoded (the mask step refers to it; the base keeps the finished one). */
  private current: { transform: InputTransform; image: { width: number; height: number }; capacity: number; settings: PostprocessSettings } | null = null;
  private step: 'idle' | 'detections' | 'masks' = 'idle';

  constructor(device: GPUDevice, manifest: ModelManifest, mask: { width: number; height: number }, options: MaskedDetectionGpuOptions = {}) {
    const layout = centerMaskLayout(manifest);
    super(device, manifest, mask, { family: 'centerMask', className: 'CenterMaskGpu', numClasses: layout.numClasses, spec: null, stages: STAGES }, options);
    this.layout = layout;
    this.decode = createFcosDecode(device);
    this.topK = createClassTopK(device);
    this.fastNms = createFastNms(device);
    this.greedyNms = createGreedyNms(device);
    this.cap = createDetectionCap(device);
    this.roiAlign = createRoiAlign(device);
    this.rescore = createMaskRescore(device);
    this.paste = createMaskPaste(device);
    const sizes = fcosDecodeBytes(layout.numLocations, layout.numClasses);
    this.boxes = createStorageBuffer(device, this.label('boxes'), sizes.boxes);
    this.conf = createStorageBuffer(device, this.label('conf'), sizes.conf);
    this.candidates = createStorageBuffer(device, this.label('candidates'), sizes.candidates);
  }

  /** The mask head's input [M, C, pool, pool] (valid after encodeDetections). */
  get maskFeatures(): GPUBuffer {
    if (!this.maskFeatureBuffer) throw new Error('CenterMaskGpu: no frame encoded');
    return this.maskFeatureBuffer;
  }

  private checkBuffers(buffers: Record<string, GPUBuffer | undefined>, names: readonly string[], rows: number, part: string): void {
    const floats = centerMaskFloats(this.layout, rows);
    for (const name of names) {
      const b = buffers[name];
      if (!b) throw new Error(`CenterMask ${part}: no “${name}” buffer`);
      if (b.size < floats[name]! * 4) throw new Error(`CenterMask ${part} “${name}” has ${b.size} bytes; ${this.manifest.id} needs ${floats[name]! * 4}`);
    }
  }

  /**
   * Step 1 (no submit): FCOS decode, per-class top-k, NMS and the cap → records; then the
   * mask head's RoI features of the records (M = maxDetections rows, zeros past the count).
   */
  encodeDetections(
    encoder: GPUCommandEncoder,
    detector: Record<string, GPUBuffer>,
    settings: PostprocessSettings,
    transform: InputTransform,
    image: { width: number; height: number },
  ): void {
    const { layout } = this;
    const capacity = maskBatch(settings);
    this.checkBuffers(detector, [...CENTER_MASK_FPN, ...layout.levels.flatMap((l) => [l.cls, l.box, l.ctr])], capacity, 'detector');
    const records = this.beginFrame(capacity);
    this.clearFrame(); // no recompose of the last frame while its records are rewritten
    const topK = effectiveTopK(settings);
    this.ensureTopK(topK);
    const threshold = Math.max(0, settings.scoreThreshold);
    const numClasses = layout.numClasses;
    const top = { topIndices: this.topIndices!, topScores: this.topScores!, topCounts: this.topCounts! };
    const classLists = this.classLists!;
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
      this.pass('decode', 'fcosDecode'),
    );
    this.topK.run(
      encoder,
      { conf: this.conf, candidates: this.candidates, ...top, classLists },
      { numPriors: layout.numLocations, numClasses, topK, minScore: threshold },
      this.pass('nms', 'classTopK'),
    );
    const nms = settings.nmsKind === 'greedy' ? this.greedyNms : this.fastNms;
    nms.run(
      encoder,
      { boxes: this.boxes, topIndices: top.topIndices, topCounts: top.topCounts, keep: this.keep!, classLists },
      { numClasses, topK, nmsIou: settings.nmsIou },
      this.pass('nms', `${settings.nmsKind}Nms`),
    );
    this.cap.run(
      encoder,
      { boxes: this.boxes, candidates: this.candidates, ...top, keep: this.keep!, records },
      { numClasses, topK, maxDetections: capacity, scoreThreshold: threshold },
      this.pass('nms', 'detectionCap'),
    );
    const bytes = roiFeaturesBytes(capacity, layout.channels, layout.config.poolSize);
    if (!this.maskFeatureBuffer || this.maskFeatureBuffer.size < bytes) {
      this.maskFeatureBuffer?.destroy();
      this.maskFeatureBuffer = createStorageBuffer(this.device, this.label('maskFeatures'), bytes);
    }
    this.roiAlign.run(
      encoder,
      {
        rois: recordsRoiSource(records, { width: layout.inputWidth, height: layout.inputHeight }),
        features: layout.pooledLevels.map((l) => detector[`p${l.level}`]!),
        output: this.maskFeatureBuffer,
      },
      {
        ...layout.mapping,
        numRois: capacity,
        channels: layout.channels,
        outSize: layout.config.poolSize,
        levelSizes: layout.pooledLevels.map((l) => [l.height, l.width] as const),
        spatialScales: layout.pooledLevels.map((l) => 1 / l.stride),
        samplingRatio: layout.samplingRatio,
        aligned: layout.aligned,
      },
      this.pass('roi', 'roiAlign'),
    );
    this.current = { transform, image: { ...image }, capacity, settings: { ...settings } };
    this.step = 'detections';
  }

  /** Step 2 (no submit): rescoring by the predicted mask IoU, the detectron2 paste, compose, the read-back's staging. */
  encodeMasks(encoder: GPUCommandEncoder, maskLogits: GPUBuffer, maskIou: GPUBuffer): void {
    if (this.step !== 'detections' || !this.current) throw new Error('CenterMaskGpu: encodeMasks() before encodeDetections()');
    const frame = this.current;
    this.checkBuffers({ maskLogits, maskIou }, ['maskLogits', 'maskIou'], frame.capacity, 'mask head');
    const { numClasses, config } = this.layout;
    this.rescore.run(
      encoder,
      { records: this.records!, maskIou },
      {
        numClasses,
        maxDetections: frame.capacity,
        quality: ranksByMaskIou(this.layout, frame.settings) ? 'perClass' : 'none',
        scoreThreshold: Math.max(0, frame.settings.scoreThreshold),
      },
      this.pass('masks', 'maskRescore'),
    );
    this.paste.run(
      encoder,
      { records: this.records!, maskLogits, maskBits: this.maskBits! },
      {
        numClasses,
        maskSize: config.maskSize,
        transform: frame.transform,
        image: frame.image,
        mask: this.mask,
        maxDetections: frame.capacity,
        mode: 'detectron2',
        classOffset: 0,
        rowFromSource: true,
      },
      this.pass('masks', 'maskPaste'),
    );
    this.finishFrame(encoder, frame.transform, frame.image, frame.capacity);
    this.step = 'masks';
  }

  /** The mask head's input read back (parity tests: M·C·pool² f32). */
  async readMaskFeatures(): Promise<Float32Array> {
    if (!this.current) throw new Error('CenterMaskGpu: no frame encoded');
    const floats = centerMaskFloats(this.layout, this.current.capacity).maskFeatures!;
    return new Float32Array(await readBuffer(this.device, this.maskFeatures, 0, floats * 4));
  }

  override async readResult(): Promise<GpuReadResult> {
    if (this.step !== 'masks') throw new Error('CenterMaskGpu: readResult() before encodeMasks()');
    return super.readResult();
  }

  protected override stageTimings(ms: Record<string, number>): Partial<StageTimings> {
    return { decode: ms.decode, nms: ms.nms, roi: ms.roi, masks: ms.masks };
  }

  override destroy(): void {
    for (const k of [this.decode, this.topK, this.fastNms, this.greedyNms, this.cap, this.roiAlign, this.rescore, this.paste]) k.destroy();
    for (const b of [this.boxes, this.conf, this.candidates, this.maskFeatureBuffer]) b?.destroy();
    super.destroy();
  }
}
