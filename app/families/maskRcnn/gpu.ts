/**
 * Mask R-CNN on the GPU. Two kinds of model share the family:
 *
 * - our two-stage models (`manifest.twoStage`): `MaskRcnnTwoStageGpu`, the WGSL between the
 *   three ONNX parts, encoded in three steps with a head run between each (the runner,
 *   pipeline/runners/twoStage.ts, runs the heads):
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
 * - public single-file exports (no `twoStage`): `createGpuPostprocessor` hands them to
 *   ./exportedGpu.ts when this build has it.
 *
 * Made once per (device, model, mask size); buffers that depend on settings grow on demand.
 * The CPU oracle of the two-stage chain is `maskRcnnTwoStageReference` (reference.ts).
 */
import type { Detection, InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import { decodeRecords, recordsBufferBytes, type DecodedRecord, type InputTransform } from '../../gpu/layout';
import { createStorageBuffer, readBuffer } from '../../gpu/buffers';
import { createGpuTimer, type GpuTimer } from '../../gpu/timing';
import { createMaskRcnnBoxDecode, maskRcnnBoxDecodeBytes, type MaskRcnnBoxDecodeKernel } from '../../gpu/kernels/maskRcnnBoxDecode';
import { createFastNms, keepBytes, type NmsKernel } from '../../gpu/kernels/fastNms';
import { createGreedyNms } from '../../gpu/kernels/greedyNms';
import { createDetectionCap, type DetectionCapKernel } from '../../gpu/kernels/detectionCap';
import { createMaskPaste, type MaskPasteKernel } from '../../gpu/kernels/maskPaste';
import { maskBitsBytes } from '../../gpu/kernels/maskUpsample';
import { createRpnStage, type RpnStage } from '../../gpu/kernels/rpnStage';
import { recordsRoiSource } from '../../gpu/kernels/roiAlign';
import { createComposeOverlay, createOverlayTexture, readOverlayTexture, type ComposeOverlayKernel } from '../../gpu/kernels/composeOverlay';
import { wordsPerRowFor } from '../../reference/maskAssembly';
import { defaultClassColours, DEFAULT_OVERLAY_STYLE, hiddenClassMask, NO_HIGHLIGHT, type OverlayStyle } from '../../reference/composeOverlay';
import { recordsToDetections } from '../yolact/reference';
import { maskBatch, twoStageFloats, twoStageLayout, type TwoStageLayout } from './manifest';
import { candidateThreshold, effectiveTopK, type TwoStageHeadsCpu } from './reference';

export interface TwoStageGpuOptions {
  /** Packed class colours (`packColour`); default `defaultClassColours(numClasses)`. */
  classColours?: Uint32Array;
  /** Overlay style; default premultiplied alpha (the pane's WebGPU canvas), as the other families. */
  style?: Partial<OverlayStyle>;
}

/** Head parts that read and write GPU buffers (ORT's WebGPU EP on our device). */
export interface TwoStageHeadsGpu {
  onGpu: true;
  /** box_features [R, C, 7, 7] → { classLogits [R, K + 1], boxDeltas [R, (K + 1)·4] }. */
  boxHead(features: GPUBuffer): Promise<{ classLogits: GPUBuffer; boxDeltas: GPUBuffer }>;
  /** mask_features [M, C, 14, 14] → mask_logits [M, K + 1, 28, 28]. */
  maskHead(features: GPUBuffer, count: number): Promise<GPUBuffer>;
}

export interface TwoStageReadResult {
  detections: Detection[];
  /** The kept records as the GPU wrote them (boxes relative to the model input). */
  records: DecodedRecord[];
  /** Candidate (RoI, class) pairs above the candidate threshold this frame. */
  candidateCount: number;
  bytesReadBack: number;
  timings: Partial<StageTimings>;
}

/**
 * Timestamp spans of the two-stage chain. A span runs from its first pass's begin to its last
 * pass's end, so a stage must not straddle two submits (the head run between them would count):
 * the RoI pooling of the box head and that of the mask head are separate spans, summed into
 * StageTimings.roi.
 */
const STAGES = ['rpn', 'boxRoi', 'decode', 'nms', 'maskRoi', 'masks'] as const;

const FPN = ['p2', 'p3', 'p4', 'p5'] as const;

export class MaskRcnnTwoStageGpu {
  readonly layout: TwoStageLayout;
  readonly overlayTexture: GPUTexture;
  readonly mask: { width: number; height: number };

  private readonly style: OverlayStyle;
  private readonly numColours: number;
  private readonly timer: GpuTimer;
  private readonly rpn: RpnStage;
  private readonly boxDecode: MaskRcnnBoxDecodeKernel;
  private readonly fastNms: NmsKernel;
  private readonly greedyNms: NmsKernel;
  private readonly cap: DetectionCapKernel;
  private readonly paste: MaskPasteKernel;
  private readonly compose: ComposeOverlayKernel;

  // Fixed: decoded class-specific boxes [K, R, 4], scores [K, R], candidates, colours, hidden.
  private readonly boxes: GPUBuffer;
  private readonly scores: GPUBuffer;
  private readonly candidates: GPUBuffer;
  private readonly classColours: GPUBuffer;
  private readonly hiddenClasses: GPUBuffer;
  private readonly hiddenWords: number;
  // Grown with topK: per-class lists [K, topK] and keep flags.
  private topKCapacity = 0;
  private topIndices: GPUBuffer | null = null;
  private topScores: GPUBuffer | null = null;
  private topCounts: GPUBuffer | null = null;
  private keep: GPUBuffer | null = null;
  // Grown with M = maxDetections: records, bit masks, staging (records + timestamps).
  private detectionCapacity = 0;
  private records: GPUBuffer | null = null;
  private maskBits: GPUBuffer | null = null;
  private staging: GPUBuffer | null = null;

  /** The frame being encoded / last encoded (what the later steps and readResult refer to). */
  private frame: {
    transform: InputTransform;
    image: { width: number; height: number };
    capacity: number;
    features: GPUBuffer[] | null;
  } | null = null;
  private step: 'idle' | 'proposals' | 'detections' | 'masks' = 'idle';
  private highlight: number | null = null;
  private lastCount = 0;
  private reading = false;

  constructor(
    private readonly device: GPUDevice,
    readonly manifest: ModelManifest,
    mask: { width: number; height: number },
    options: TwoStageGpuOptions = {},
  ) {
    this.layout = twoStageLayout(manifest);
    this.mask = { width: mask.width, height: mask.height };
    this.style = { ...DEFAULT_OVERLAY_STYLE, premultiplied: true, ...options.style };
    const { numRois, numClasses } = this.layout;
    this.timer = createGpuTimer(device, STAGES, this.label('timer'));
    this.rpn = createRpnStage(
      device,
      this.layout.config,
      { width: this.layout.inputWidth, height: this.layout.inputHeight },
      this.layout.levels.map((l) => [l.height, l.width]),
    );
    this.boxDecode = createMaskRcnnBoxDecode(device);
    this.fastNms = createFastNms(device);
    this.greedyNms = createGreedyNms(device);
    this.cap = createDetectionCap(device);
    this.paste = createMaskPaste(device);
    this.compose = createComposeOverlay(device);

    const sizes = maskRcnnBoxDecodeBytes(numRois, numClasses, 1);
    this.boxes = createStorageBuffer(device, this.label('boxes'), sizes.boxes);
    this.scores = createStorageBuffer(device, this.label('scores'), sizes.scores);
    this.candidates = createStorageBuffer(device, this.label('candidates'), sizes.candidates);
    const colours = options.classColours ?? defaultClassColours(numClasses);
    this.numColours = colours.length;
    this.classColours = createStorageBuffer(device, this.label('classColours'), colours.byteLength);
    device.queue.writeBuffer(this.classColours, 0, new Uint32Array(colours));
    const hiddenInit = hiddenClassMask([], numClasses);
    this.hiddenWords = hiddenInit.length;
    this.hiddenClasses = createStorageBuffer(device, this.label('hiddenClasses'), hiddenInit.byteLength);
    device.queue.writeBuffer(this.hiddenClasses, 0, hiddenInit);
    this.overlayTexture = createOverlayTexture(device, this.mask, this.label('overlay'));
  }

  /** `maskRcnn.<model id>.<name>`: the label of every GPU object made here. */
  private label(name: string): string {
    return `maskRcnn.${this.manifest.id}.${name}`;
  }

  private pass(stage: (typeof STAGES)[number], pass: string): GPUComputePassDescriptor {
    return this.timer.passDescriptor(stage, `maskRcnn.${pass}`);
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
    if (!this.frame) throw new Error('MaskRcnnTwoStageGpu: no frame encoded');
    return this.frame.capacity;
  }

  private ensureTopK(topK: number): void {
    if (topK <= this.topKCapacity) return;
    for (const b of [this.topIndices, this.topScores, this.topCounts, this.keep]) b?.destroy();
    const k = this.layout.numClasses;
    const sizes = maskRcnnBoxDecodeBytes(this.layout.numRois, k, topK);
    this.topIndices = createStorageBuffer(this.device, this.label('topIndices'), sizes.topRows);
    this.topScores = createStorageBuffer(this.device, this.label('topScores'), sizes.topRows);
    this.topCounts = createStorageBuffer(this.device, this.label('topCounts'), sizes.topCounts);
    this.keep = createStorageBuffer(this.device, this.label('keep'), keepBytes(k, topK));
    this.topKCapacity = topK;
  }

  private ensureDetections(capacity: number): void {
    if (capacity <= this.detectionCapacity) return;
    if (this.reading) throw new Error('MaskRcnnTwoStageGpu: cannot grow buffers while a read-back is pending');
    for (const b of [this.records, this.maskBits, this.staging]) b?.destroy();
    this.records = createStorageBuffer(this.device, this.label('records'), recordsBufferBytes(capacity));
    this.maskBits = createStorageBuffer(this.device, this.label('maskBits'), maskBitsBytes(this.mask, capacity));
    this.staging = this.device.createBuffer({
      label: this.label('staging'),
      size: recordsBufferBytes(capacity) + this.timer.bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.detectionCapacity = capacity;
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
    if (this.reading) throw new Error('MaskRcnnTwoStageGpu: encode while readResult() is pending');
    const floats = twoStageFloats(this.layout, 1);
    this.checkBuffers(backbone, ['objectness', 'rpnDeltas', ...FPN], floats, 'backbone');
    const features = FPN.map((n) => backbone[n]!);
    this.rpn.encode(encoder, { objectness: backbone.objectness!, rpnDeltas: backbone.rpnDeltas!, features }, {
      decode: this.pass('rpn', 'rpnDecode'),
      topN: this.pass('rpn', 'rpnTopN'),
      nms: this.pass('rpn', 'rpnProposalNms'),
      pool: this.pass('boxRoi', 'boxRoiPool'),
    });
    this.frame = { transform: this.frame?.transform as InputTransform, image: this.frame?.image ?? { width: 0, height: 0 }, capacity: this.frame?.capacity ?? 0, features };
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
    this.frame = { transform, image: { ...image }, capacity, features };
    this.step = 'detections';
  }

  /** Step 3 (no submit): paste the predicted class's 28x28 masks, compose, stage the read-back. */
  encodeMasks(encoder: GPUCommandEncoder, maskLogits: GPUBuffer): void {
    if (this.step !== 'detections' || !this.frame) throw new Error('MaskRcnnTwoStageGpu: encodeMasks() before encodeDetections()');
    const frame = this.frame;
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
    this.encodeCompose(encoder, this.pass('masks', 'composeOverlay'));
    const recordsBytes = recordsBufferBytes(frame.capacity);
    encoder.copyBufferToBuffer(this.records!, 0, this.staging!, 0, recordsBytes);
    this.timer.resolve(encoder, this.staging!, recordsBytes);
    this.step = 'masks';
  }

  private encodeCompose(encoder: GPUCommandEncoder, pass?: GPUComputePassDescriptor): void {
    const frame = this.frame;
    if (!frame || !this.records) return;
    this.compose.run(
      encoder,
      { records: this.records, maskBits: this.maskBits!, classColours: this.classColours, hiddenClasses: this.hiddenClasses, overlay: this.overlayTexture },
      {
        mask: this.mask,
        maxDetections: frame.capacity,
        numColours: this.numColours,
        hiddenWords: this.hiddenWords,
        highlight: this.highlight ?? NO_HIGHLIGHT,
        style: this.style,
      },
      pass,
    );
  }

  /**
   * One frame after the backbone: the three encode steps, each submitted, with the heads run
   * between them, then the one read-back of the records.
   * - GPU heads ('webgpu'): they read our feature buffers and return theirs; nothing is read
   *   back before the records.
   * - CPU heads ('wasm+gpu'): the features are read back (`featureBytes`, counted by the
   *   caller in bytesReadBack), the head outputs uploaded through `heads.upload`.
   * `headsMs`: wall time of the head runs (ORT); `featureReadMs`: of the feature read-backs
   * ('wasm+gpu'), less the GPU stages they waited on when those are timestamped. `submittedAt`: when the last step was
   * submitted (the records read-back's wait starts there).
   */
  async runFrame(
    backbone: Record<string, GPUBuffer>,
    heads: TwoStageHeadsGpu | (TwoStageHeadsCpu & { upload(name: string, data: Float32Array): GPUBuffer }),
    settings: PostprocessSettings,
    transform: InputTransform,
    image: { width: number; height: number },
  ): Promise<TwoStageReadResult & { featureBytes: number; featureReadMs: number; headsMs: number; submittedAt: number }> {
    const submit = (label: string, encode: (encoder: GPUCommandEncoder) => void) => {
      const encoder = this.device.createCommandEncoder({ label: this.label(label) });
      encode(encoder);
      this.device.queue.submit([encoder.finish()]);
    };
    let headsMs = 0;
    let featureBytes = 0;
    let featureReadMs = 0;
    const timed = async <T>(fn: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      try {
        return await fn();
      } finally {
        headsMs += performance.now() - t;
      }
    };
    const m = maskBatch(settings);
    // Without timestamp queries: wall time of each step to its GPU completion (a wait, no
    // data read back). 'rpn' then includes the box RoI pooling, 'nms' the box decode and the
    // mask RoI pooling; 'roi' and 'decode' stay unknown.
    const cpuClock = this.timer.source === 'cpu';
    const cpuMs: Partial<StageTimings> = {};
    const settle = async (key: 'rpn' | 'nms', t0: number) => {
      if (!cpuClock) return;
      await this.device.queue.onSubmittedWorkDone();
      cpuMs[key] = performance.now() - t0;
    };
    let t = performance.now();
    submit('proposals', (encoder) => this.encodeProposals(encoder, backbone));
    await settle('rpn', t);
    let boxOut: Record<string, GPUBuffer>;
    if ('onGpu' in heads) {
      boxOut = await timed(() => heads.boxHead(this.boxFeatures));
    } else {
      const tr = performance.now();
      const features = await this.readBoxFeatures();
      featureReadMs += performance.now() - tr;
      featureBytes += features.byteLength;
      const out = await timed(() => heads.boxHead(features));
      boxOut = { classLogits: heads.upload('classLogits', out.classLogits), boxDeltas: heads.upload('boxDeltas', out.boxDeltas) };
    }
    t = performance.now();
    submit('detections', (encoder) => this.encodeDetections(encoder, boxOut, backbone, settings, transform, image));
    await settle('nms', t);
    let maskLogits: GPUBuffer;
    if ('onGpu' in heads) {
      maskLogits = await timed(() => heads.maskHead(this.maskFeatures, m));
    } else {
      const tr = performance.now();
      const features = await this.readMaskFeatures();
      featureReadMs += performance.now() - tr;
      featureBytes += features.byteLength;
      maskLogits = heads.upload('maskLogits', await timed(() => heads.maskHead(features, m)));
    }
    submit('masks', (encoder) => this.encodeMasks(encoder, maskLogits));
    const submittedAt = performance.now();
    const read = await this.readResult();
    const timings = cpuClock ? { ...read.timings, ...cpuMs } : read.timings;
    // The feature read-backs waited on the GPU stages before them: keep only the copy.
    if (timings.source === 'gpu') {
      featureReadMs = Math.max(0, featureReadMs - ((timings.rpn ?? 0) + (timings.roi ?? 0) + (timings.decode ?? 0) + (timings.nms ?? 0)));
    }
    return { ...read, timings, bytesReadBack: read.bytesReadBack + featureBytes, featureBytes, featureReadMs, headsMs, submittedAt };
  }

  /** 'wasm+gpu': the box features back on the CPU for the box head (R·C·7·7 f32; counted by the runner). */
  async readBoxFeatures(): Promise<Float32Array> {
    const floats = twoStageFloats(this.layout, 1).boxFeatures;
    return new Float32Array(await readBuffer(this.device, this.rpn.boxFeatures, 0, floats * 4));
  }

  /** 'wasm+gpu': the mask features back on the CPU for the mask head (M·C·14·14 f32). */
  async readMaskFeatures(): Promise<Float32Array> {
    const floats = twoStageFloats(this.layout, this.maskBatch).maskFeatures;
    return new Float32Array(await readBuffer(this.device, this.rpn.maskFeatures, 0, floats * 4));
  }

  /** One mapAsync: the records (→ detections in image pixels) and the stage timings. */
  async readResult(): Promise<TwoStageReadResult> {
    const frame = this.frame;
    const staging = this.staging;
    if (this.step !== 'masks' || !frame || !staging) throw new Error('MaskRcnnTwoStageGpu: readResult() before encodeMasks()');
    const recordsBytes = recordsBufferBytes(frame.capacity);
    const bytes = recordsBytes + this.timer.bytes;
    this.reading = true;
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      const mapped = staging.getMappedRange(0, bytes);
      const { records, candidateCount } = decodeRecords(mapped.slice(0, recordsBytes));
      const ms = this.timer.read(mapped, recordsBytes);
      staging.unmap();
      const kept = records.slice(0, frame.capacity);
      this.lastCount = kept.length;
      const timings: Partial<StageTimings> =
        this.timer.source === 'gpu'
          ? { rpn: ms.rpn, roi: (ms.boxRoi ?? 0) + (ms.maskRoi ?? 0), decode: ms.decode, nms: ms.nms, masks: ms.masks, source: 'gpu' }
          : {};
      return { detections: recordsToDetections(kept, frame.transform, frame.image), records: kept, candidateCount, bytesReadBack: bytes, timings };
    } finally {
      this.reading = false;
    }
  }

  /** The last frame's bit masks (export / evaluation; not per frame). */
  async readMasks(): Promise<InstanceMasks> {
    const { width, height } = this.mask;
    const wordsPerRow = wordsPerRowFor(width);
    if (!this.frame || !this.records || !this.maskBits || this.step !== 'masks') return { width, height, wordsPerRow, bits: new Uint32Array(0) };
    const header = new Uint32Array(await readBuffer(this.device, this.records, 0, 16));
    const count = Math.min(header[0]!, this.frame.capacity);
    const planeBytes = height * wordsPerRow * 4;
    const bits = count === 0 ? new Uint32Array(0) : new Uint32Array(await readBuffer(this.device, this.maskBits, 0, count * planeBytes));
    return { width, height, wordsPerRow, bits };
  }

  /** Intermediate tensors of the last frame (parity tests): RoIs, their count, features. */
  async readStages(): Promise<{ rois: Float32Array; roiCount: number; boxFeatures: Float32Array; maskFeatures: Float32Array }> {
    const r = this.layout.numRois;
    const rois = new Float32Array(await readBuffer(this.device, this.rpn.rois, 0, r * 16));
    const count = new Uint32Array(await readBuffer(this.device, this.rpn.roiCount, 0, 16));
    return { rois, roiCount: count[0]!, boxFeatures: await this.readBoxFeatures(), maskFeatures: await this.readMaskFeatures() };
  }

  /** Re-runs only composeOverlay with a new highlight / hidden classes (hover, toggles). */
  recompose(highlight: number | null, hiddenClasses: readonly number[]): void {
    this.highlight = highlight;
    this.device.queue.writeBuffer(this.hiddenClasses, 0, hiddenClassMask([...hiddenClasses], this.layout.numClasses));
    if (this.step !== 'masks') return;
    const encoder = this.device.createCommandEncoder({ label: this.label('recompose') });
    this.encodeCompose(encoder);
    this.device.queue.submit([encoder.finish()]);
  }

  /** The overlay as straight-alpha RGBA bytes [maskH, maskW, 4] (PNG export, Konva). */
  async readOverlay(): Promise<Uint8ClampedArray<ArrayBuffer>> {
    const rgba = await readOverlayTexture(this.device, this.overlayTexture);
    if (this.style.premultiplied) {
      for (let i = 0; i < rgba.length; i += 4) {
        const a = rgba[i + 3]!;
        if (a === 0) continue;
        rgba[i] = Math.round((rgba[i]! * 255) / a);
        rgba[i + 1] = Math.round((rgba[i + 1]! * 255) / a);
        rgba[i + 2] = Math.round((rgba[i + 2]! * 255) / a);
      }
    }
    return rgba;
  }

  get count(): number {
    return this.lastCount;
  }

  destroy(): void {
    for (const k of [this.rpn, this.boxDecode, this.fastNms, this.greedyNms, this.cap, this.paste, this.compose, this.timer]) k.destroy();
    for (const b of [this.boxes, this.scores, this.candidates, this.classColours, this.hiddenClasses, this.topIndices, this.topScores, this.topCounts, this.keep, this.records, this.maskBits, this.staging]) {
      b?.destroy();
    }
    this.overlayTexture.destroy();
  }
}

/** The two-stage chain of a manifest with `twoStage` (pipeline/runners/twoStage.ts). */
export function createTwoStageGpu(
  device: GPUDevice,
  manifest: ModelManifest,
  mask: { width: number; height: number },
  options?: TwoStageGpuOptions,
): MaskRcnnTwoStageGpu {
  return new MaskRcnnTwoStageGpu(device, manifest, mask, options);
}

/** ./exportedGpu.ts when this build has it (eager, so the factory below stays synchronous). */
const exportedGpuModules = import.meta.glob<Record<string, unknown>>('./exportedGpu.ts', { eager: true });

/**
 * The factory the one-session pipeline looks for (pipeline/runners/gpu.ts): public exports
 * only (their GPU chain lives in ./exportedGpu.ts). Two-stage models are made by
 * `createTwoStageGpu` through the two-stage runner.
 */
export function createGpuPostprocessor(
  device: GPUDevice,
  manifest: ModelManifest,
  mask: { width: number; height: number },
  options?: TwoStageGpuOptions,
): unknown {
  if (manifest.twoStage) throw new Error(`${manifest.id} is a two-stage model: it runs through the two-stage runner`);
  const mod = exportedGpuModules['./exportedGpu.ts'];
  if (!mod) throw new Error(`${manifest.id}: GPU post-processing of exported Mask R-CNN models is not supported in this build`);
  const make = mod['createExportedGpuPostprocessor'];
  if (typeof make !== 'function') throw new Error('maskRcnn/exportedGpu.ts exports no createExportedGpuPostprocessor');
  return make(device, manifest, mask, options);
}
