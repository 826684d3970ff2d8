/**
 * Mask R-CNN on the GPU. Two kinds of model share the family:
 *
 * - our two-stage models (`manifest.twoStage`): `MaskRcnnTwoStageGpu`, the WGSL between the
 *   three ONNX parts, encoded in three steps with a head run between each (the steps of
 *   ./program.ts, run by the one runner, app/pipeline/stages/):
 *
 *     encodeProposals(backbone)   rpnDecode → rpnTopN → rpnProposalNms → R RoIs       ('rpn')
 *                                 → RoIAlign / RoIPool 7x7 → boxFeatures [R, C, 7, 7]  ('roi')
 *       … box head: boxFeatures → classLogits [R, K + 1], boxDeltas [R, (K + 1)·4] …
 *     encodeDetections(heads)     maskRcnnBoxDecode (+ per-class select) → NMS → cap   ('decode', 'nms')
 *                                 → RoIAlign / RoIPool 14x14 on the records
 *                                   → maskFeatures [M, C, 14, 14]                     ('roi')
 *       … mask head: maskFeatures → maskLogits [M, K + 1, 28, 28] …
 *     encodeMasks(maskLogits)     maskPaste → bit masks + areas → composeOverlay       ('masks')
 *                                 → copy records (+ resolved timestamps) into ONE staging buffer
 *     readResult()                the one mapAsync of the frame
 *
 *   R (rpnPostNmsTopN) and M (the pane's maxDetections) are fixed for a frame: padded RoIs
 *   (zero rows) go through the heads and are ignored, so 'webgpu' needs no read-back before
 *   the records. `readBoxFeatures` / `readMaskFeatures` are for 'wasm+gpu' (CPU heads).
 *
 * - public single-file exports (no `twoStage`): ./exportedGpu.ts.
 *
 * Made once per (device, model, mask size); buffers that depend on settings grow on demand.
 * The records, bit masks, compose, read-back and recompose are the shared base,
 * ../common/maskedDetectionGpu.ts (`spec: null`; encodeMasks ends in `finishFrame`).
 * The CPU oracle of the two-stage chain is `maskRcnnTwoStageReference` (reference.ts).
 */
import type { ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import type { InputTransform } from '../../gpu/layout';
import { createStorageBuffer, readBuffer } from '../../gpu/buffers';
import { createMaskRcnnBoxDecode, MASK_RCNN_BOX_DECODE, maskRcnnBoxDecodeBytes, type MaskRcnnBoxDecodeKernel } from '../../gpu/kernels/maskRcnnBoxDecode';
import { createFastNms, FAST_NMS, type NmsKernel } from '../../gpu/kernels/fastNms';
import { createGreedyNms, GREEDY_NMS } from '../../gpu/kernels/greedyNms';
import { createDetectionCap, DETECTION_CAP, type DetectionCapKernel } from '../../gpu/kernels/detectionCap';
import { createMaskPaste, MASK_PASTE, type MaskPasteKernel } from '../../gpu/kernels/maskPaste';
import { createRpnStage, rpnStageKernels, type RpnStage } from '../../gpu/kernels/rpnStage';
import { warmKernels, type KernelSource } from '../../gpu/kernelCache';
import { recordsRoiSource } from '../../gpu/kernels/roiAlign';
import { MaskedDetectionGpuPostprocessor, sharedGpuKernels, type GpuReadResult, type MaskedDetectionGpuOptions } from '../common/maskedDetectionGpu';
import { maskBatch, twoStageFloats, twoStageLayout, type TwoStageLayout } from './manifest';
import { candidateThreshold, effectiveTopK } from './reference';

export type TwoStageGpuOptions = MaskedDetectionGpuOptions;

/** As the other families' (candidateCount: (RoI, class) pairs above the candidate threshold). */
export type TwoStageReadResult = GpuReadResult;

/**
 * Timestamp spans of the two-stage chain. A span runs from its first pass's begin to its last
 * pass's end, so a stage must not straddle two submits (the head run between them would count):
 * the RoI pooling of the box head and that of the mask head are separate spans, summed into
 * StageTimings.roi.
 */
const STAGES = ['rpn', 'boxRoi', 'decode', 'nms', 'maskRoi', 'masks'] as const;

const FPN = ['p2', 'p3', 'p4', 'p5'] as const;

/** Every kernel a two-stage GPU side of this model uses (its pooler; and the runner's preprocess). */
export function twoStageGpuKernels(manifest: ModelManifest): KernelSource[] {
  const { config } = twoStageLayout(manifest);
  return [...rpnStageKernels(config), MASK_RCNN_BOX_DECODE, FAST_NMS, GREEDY_NMS, DETECTION_CAP, MASK_PASTE, ...sharedGpuKernels(false)];
}

/** Compiles this model's pipelines ahead of its first GPU side (asynchronously; app/gpu/kernelCache.ts). */
export function warmTwoStageGpu(device: GPUDevice, manifest: ModelManifest): Promise<void> {
  return warmKernels(device, twoStageGpuKernels(manifest));
}

export class MaskRcnnTwoStageGpu extends MaskedDetectionGpuPostprocessor {
  readonly layout: TwoStageLayout;

  private readonly rpn: RpnStage;
  private readonly boxDecode: MaskRcnnBoxDecodeKernel;
  private readonly fastNms: NmsKernel;
  private readonly greedyNms: NmsKernel;
  private readonly cap: DetectionCapKernel;
  private readonly paste: MaskPasteKernel;

  // Fixed: decoded class-specific boxes [K, R, 4], scores [K, R], candidates. The per-class
  // lists [K, topK], keep flags, records, bit masks and staging are the base's.
  private readonly boxes: GPUBuffer;
  private readonly scores: GPUBuffer;
  private readonly candidates: GPUBuffer;

  /** The frame being encoded (what the later steps refer to; the base keeps the finished one). */
  private current: {
    transform: InputTransform;
    image: { width: number; height: number };
    capacity: number;
    features: GPUBuffer[] | null;
  } | null = null;
  private step: 'idle' | 'proposals' | 'detections' | 'masks' = 'idle';

  constructor(device: GPUDevice, manifest: ModelManifest, mask: { width: number; height: number }, options: TwoStageGpuOptions = {}) {
    const layout = twoStageLayout(manifest);
    super(device, manifest, mask, { family: 'maskRcnn', className: 'MaskRcnnTwoStageGpu', numClasses: layout.numClasses, spec: null, stages: STAGES }, options);
    this.layout = layout;
    const { numRois, numClasses } = layout;
    this.rpn = createRpnStage(
      device,
      layout.config,
      { width: layout.inputWidth, height: layout.inputHeight },
      layout.levels.map((l) => [l.height, l.width]),
    );
    this.boxDecode = createMaskRcnnBoxDecode(device);
    this.fastNms = createFastNms(device);
    this.greedyNms = createGreedyNms(device);
    this.cap = createDetectionCap(device);
    this.paste = createMaskPaste(device);

    const sizes = maskRcnnBoxDecodeBytes(numRois, numClasses, 1);
    this.boxes = createStorageBuffer(device, this.label('boxes'), sizes.boxes);
    this.scores = createStorageBuffer(device, this.label('scores'), sizes.scores);
    this.candidates = createStorageBuffer(device, this.label('candidates'), sizes.candidates);
  }

  /** The box head's input [R, C, boxPool, boxPool] (valid after encodeProposals). */
  get boxFeatures(): GPUBuffer {
    return this.rpn.boxFeatures;
  }

  /** The mask head's input [M, C, maskPool, maskPool] (valid after encodeDetections). */
  get maskFeatures(): GPUBuffer {
    return this.rpn.maskFeatures;
  }

  /** M of the frame being encoded: the mask head's batch. */
  get maskBatch(): number {
    if (!this.current) throw new Error('MaskRcnnTwoStageGpu: no frame encoded');
    return this.current.capacity;
  }

  private checkBuffers(buffers: Record<string, GPUBuffer>, names: readonly string[], floats: Record<string, number>, part: string): void {
    for (const name of names) {
      const b = buffers[name];
      if (!b) throw new Error(`Mask R-CNN ${part}: no “${name}” buffer`);
      if (b.size < floats[name]! * 4) throw new Error(`Mask R-CNN ${part} “${name}” has ${b.size} bytes; ${this.manifest.id} needs ${floats[name]! * 4}`);
    }
  }

  /** Step 1 (no submit): the RPN proposals and the box head's RoI features. */
  encodeProposals(encoder: GPUCommandEncoder, backbone: Record<string, GPUBuffer>): void {
    if (this.readPending) throw new Error('MaskRcnnTwoStageGpu: encode while readResult() is pending');
    const floats = twoStageFloats(this.layout, 1);
    this.checkBuffers(backbone, ['objectness', 'rpnDeltas', ...FPN], floats, 'backbone');
    const features = FPN.map((n) => backbone[n]!);
    this.rpn.encode(
      encoder,
      { objectness: backbone.objectness!, rpnDeltas: backbone.rpnDeltas!, features },
      {
        decode: this.pass('rpn', 'rpnDecode'),
        topN: this.pass('rpn', 'rpnTopN'),
        nms: this.pass('rpn', 'rpnProposalNms'),
        pool: this.pass('boxRoi', 'boxRoiPool'),
      },
    );
    this.current = {
      transform: this.current?.transform as InputTransform,
      image: this.current?.image ?? { width: 0, height: 0 },
      capacity: this.current?.capacity ?? 0,
      features,
    };
    this.clearFrame();
    this.step = 'proposals';
  }

  /**
   * Step 2 (no submit): box decode per class, per-class NMS, the cap → records; then the
   * mask head's RoI features of the records. `backbone` is the same as step 1's (its FPN maps).
   */
  encodeDetections(
    encoder: GPUCommandEncoder,
    heads: Record<string, GPUBuffer>,
    backbone: Record<string, GPUBuffer>,
    settings: PostprocessSettings,
    transform: InputTransform,
    image: { width: number; height: number },
  ): void {
    if (this.step !== 'proposals') throw new Error('MaskRcnnTwoStageGpu: encodeDetections() before encodeProposals()');
    const { numRois, numClasses, config } = this.layout;
    const capacity = maskBatch(settings);
    const floats = twoStageFloats(this.layout, capacity);
    this.checkBuffers(heads, ['classLogits', 'boxDeltas'], floats, 'box head');
    const topK = effectiveTopK(settings, this.layout);
    this.ensureTopK(topK);
    this.ensureDetections(capacity);
    const records = this.records!;
    this.boxDecode.run(
      encoder,
      {
        classLogits: heads.classLogits!,
        boxDeltas: heads.boxDeltas!,
        proposals: this.rpn.rois,
        proposalCount: this.rpn.roiCount,
        boxes: this.boxes,
        scores: this.scores,
        candidates: this.candidates,
        topIndices: this.topIndices!,
        topScores: this.topScores!,
        topCounts: this.topCounts!,
      },
      {
        numRois,
        numClasses,
        inputWidth: this.layout.inputWidth,
        inputHeight: this.layout.inputHeight,
        boxWeights: config.boxWeights,
        scoreThreshold: candidateThreshold(this.manifest, settings),
        topK,
      },
      this.pass('decode', 'boxDecode'),
    );
    const nms = settings.nmsKind === 'greedy' ? this.greedyNms : this.fastNms;
    nms.run(
      encoder,
      { boxes: this.boxes, topIndices: this.topIndices!, topCounts: this.topCounts!, keep: this.keep! },
      { numClasses, topK, nmsIou: settings.nmsIou, boxClassStride: numRois },
      this.pass('nms', `${settings.nmsKind}Nms`),
    );
    this.cap.run(
      encoder,
      {
        boxes: this.boxes,
        candidates: this.candidates,
        topIndices: this.topIndices!,
        topScores: this.topScores!,
        topCounts: this.topCounts!,
        keep: this.keep!,
        records,
      },
      { numClasses, topK, maxDetections: capacity, scoreThreshold: Math.max(0, settings.scoreThreshold), boxClassStride: numRois },
      this.pass('nms', 'detectionCap'),
    );
    const features = FPN.map((n) => backbone[n]!);
    this.rpn.encodeMaskFeatures(
      encoder,
      features,
      recordsRoiSource(records, { width: this.layout.inputWidth, height: this.layout.inputHeight }),
      capacity,
      this.pass('maskRoi', 'maskRoiPool'),
    );
    this.current = { transform, image: { ...image }, capacity, features };
    this.step = 'detections';
  }

  /** Step 3 (no submit): paste the predicted class's 28x28 masks, compose, stage the read-back. */
  encodeMasks(encoder: GPUCommandEncoder, maskLogits: GPUBuffer): void {
    if (this.step !== 'detections' || !this.current) throw new Error('MaskRcnnTwoStageGpu: encodeMasks() before encodeDetections()');
    const frame = this.current;
    const floats = twoStageFloats(this.layout, frame.capacity);
    this.checkBuffers({ maskLogits }, ['maskLogits'], floats, 'mask head');
    this.paste.run(
      encoder,
      { records: this.records!, maskLogits, maskBits: this.maskBits! },
      {
        numClasses: this.layout.numClasses,
        maskSize: this.layout.config.maskSize,
        transform: frame.transform,
        image: frame.image,
        mask: this.mask,
        maxDetections: frame.capacity,
      },
      this.pass('masks', 'maskPaste'),
    );
    this.finishFrame(encoder, frame.transform, frame.image, frame.capacity);
    this.step = 'masks';
  }

  /** The box head's input read back (parity tests: R·C·7·7 f32). */
  async readBoxFeatures(): Promise<Float32Array> {
    const floats = twoStageFloats(this.layout, 1).boxFeatures;
    return new Float32Array(await readBuffer(this.device, this.rpn.boxFeatures, 0, floats * 4));
  }

  /** The mask head's input read back (parity tests: M·C·14·14 f32). */
  async readMaskFeatures(): Promise<Float32Array> {
    const floats = twoStageFloats(this.layout, this.maskBatch).maskFeatures;
    return new Float32Array(await readBuffer(this.device, this.rpn.maskFeatures, 0, floats * 4));
  }

  /** One mapAsync: the records (→ detections in image pixels) and the stage timings. */
  override async readResult(): Promise<TwoStageReadResult> {
    if (this.step !== 'masks') throw new Error('MaskRcnnTwoStageGpu: readResult() before encodeMasks()');
    return super.readResult();
  }

  /** The RoI pooling of the box head and that of the mask head are summed into `roi`. */
  protected override stageTimings(ms: Record<string, number>): Partial<StageTimings> {
    return { rpn: ms.rpn, roi: (ms.boxRoi ?? 0) + (ms.maskRoi ?? 0), decode: ms.decode, nms: ms.nms, masks: ms.masks };
  }

  /** Intermediate tensors of the last frame (parity tests): RoIs, their count, features. */
  async readStages(): Promise<{ rois: Float32Array; roiCount: number; boxFeatures: Float32Array; maskFeatures: Float32Array }> {
    const r = this.layout.numRois;
    const rois = new Float32Array(await readBuffer(this.device, this.rpn.rois, 0, r * 16));
    const count = new Uint32Array(await readBuffer(this.device, this.rpn.roiCount, 0, 16));
    return { rois, roiCount: count[0]!, boxFeatures: await this.readBoxFeatures(), maskFeatures: await this.readMaskFeatures() };
  }

  override destroy(): void {
    for (const k of [this.rpn, this.boxDecode, this.fastNms, this.greedyNms, this.cap, this.paste]) k.destroy();
    for (const b of [this.boxes, this.scores, this.candidates]) b.destroy();
    super.destroy();
  }
}

/** The two-stage chain of a manifest with `twoStage` (./program.ts). */
export function createTwoStageGpu(
  device: GPUDevice,
  manifest: ModelManifest,
  mask: { width: number; height: number },
  options?: TwoStageGpuOptions,
): MaskRcnnTwoStageGpu {
  return new MaskRcnnTwoStageGpu(device, manifest, mask, options);
}
