/**
 * YOLO-seg post-processing on the GPU: output0 + protos (or an end-to-end export's
 * detections + protos) as GPU buffers → DetectionRecords, bit masks and the overlay
 * texture, with ONE small read-back a frame. The same API as YolactGpuPostprocessor, so
 * the pipeline (app/pipeline/runners/gpu.ts) drives either through `createGpuPostprocessor`.
 *
 *   raw head:   yoloSegDecode → classTopK (best class only) → trimTopK → greedyNms | fastNms → detectionCap
 *   end-to-end: yoloSegEndToEnd                                          ('decode', 'nms')
 *   → maskCoefficients (integer crop, logits) → maskUpsample (> 0, letterbox undone)
 *   → composeOverlay                                                     ('masks')
 *   → copy records (+ resolved timestamps) into one staging buffer → readResult()
 *
 * The CPU oracle of this chain is `postprocessYoloSegReference` (reference.ts).
 */
import type { InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import { decodeRecords, recordsBufferBytes, type InputTransform } from '../../gpu/layout';
import { createStorageBuffer, readBuffer } from '../../gpu/buffers';
import { createGpuTimer, type GpuTimer } from '../../gpu/timing';
import { bestConfBytes, boxesBytes, candidatesBytes, createYoloSegDecode, type YoloSegDecodeKernel } from '../../gpu/kernels/yoloSegDecode';
import { createYoloSegEndToEnd, type YoloSegEndToEndKernel } from '../../gpu/kernels/yoloSegEndToEnd';
import { createYoloSegTrimTopK, type YoloSegTrimTopKKernel } from '../../gpu/kernels/yoloSegTrimTopK';
import { createClassTopK, topKBytes, type ClassTopKKernel } from '../../gpu/kernels/classTopK';
import { createFastNms, keepBytes, type NmsKernel } from '../../gpu/kernels/fastNms';
import { createGreedyNms } from '../../gpu/kernels/greedyNms';
import { createDetectionCap, type DetectionCapKernel } from '../../gpu/kernels/detectionCap';
import { createMaskCoefficients, protoMasksBytes, type MaskCoefficientsKernel } from '../../gpu/kernels/maskCoefficients';
import { createMaskUpsample, maskBitsBytes, type MaskUpsampleKernel } from '../../gpu/kernels/maskUpsample';
import { createComposeOverlay, createOverlayTexture, readOverlayTexture, type ComposeOverlayKernel } from '../../gpu/kernels/composeOverlay';
import { wordsPerRowFor, type MaskAssemblySpec } from '../../reference/maskAssembly';
import { defaultClassColours, DEFAULT_OVERLAY_STYLE, hiddenClassMask, NO_HIGHLIGHT, type OverlayStyle } from '../../reference/composeOverlay';
import { recordsToDetections } from '../yolact/reference';
import type { GpuReadResult, YolactGpuOptions } from '../yolact/gpu';
import { confThresholdOf, yoloSegLayout, yoloSegOutputFloats, type YoloSegLayout } from './manifest';
import { effectiveSettings, yoloSegSpecFor } from './reference';

export type { GpuReadResult } from '../yolact/gpu';
export type YoloSegGpuOptions = YolactGpuOptions;

const STAGES = ['decode', 'nms', 'masks'] as const;

export class YoloSegGpuPostprocessor {
  readonly layout: YoloSegLayout;
  readonly overlayTexture: GPUTexture;
  readonly mask: { width: number; height: number };

  private readonly spec: MaskAssemblySpec;
  private readonly style: OverlayStyle;
  private readonly numColours: number;
  private readonly timer: GpuTimer;
  // Raw head kernels (null for end-to-end exports) or the end-to-end kernel.
  private readonly decode: YoloSegDecodeKernel | null = null;
  private readonly topK: ClassTopKKernel | null = null;
  private readonly trimTopK: YoloSegTrimTopKKernel | null = null;
  private readonly fastNms: NmsKernel | null = null;
  private readonly greedyNms: NmsKernel | null = null;
  private readonly cap: DetectionCapKernel | null = null;
  private readonly endToEnd: YoloSegEndToEndKernel | null = null;
  private readonly coefficients: MaskCoefficientsKernel;
  private readonly upsample: MaskUpsampleKernel;
  private readonly compose: ComposeOverlayKernel;

  // Raw head: boxes [N, 4], bestConf [N, C + 1], candidates; colours, hidden classes.
  private readonly boxes: GPUBuffer | null = null;
  private readonly bestConf: GPUBuffer | null = null;
  private readonly candidates: GPUBuffer | null = null;
  private readonly classColours: GPUBuffer;
  private readonly hiddenClasses: GPUBuffer;
  private readonly hiddenWords: number;
  private topKCapacity = 0;
  private topIndices: GPUBuffer | null = null;
  private topScores: GPUBuffer | null = null;
  private topCounts: GPUBuffer | null = null;
  private keep: GPUBuffer | null = null;
  private detectionCapacity = 0;
  private records: GPUBuffer | null = null;
  private protoMasks: GPUBuffer | null = null;
  private maskBits: GPUBuffer | null = null;
  private staging: GPUBuffer | null = null;

  private frame: { transform: InputTransform; image: { width: number; height: number }; capacity: number } | null = null;
  private highlight: number | null = null;
  private lastCount = 0;
  private reading = false;

  constructor(
    private readonly device: GPUDevice,
    readonly manifest: ModelManifest,
    mask: { width: number; height: number },
    options: YoloSegGpuOptions = {},
  ) {
    this.layout = yoloSegLayout(manifest);
    this.mask = { width: mask.width, height: mask.height };
    this.spec = yoloSegSpecFor(this.layout);
    this.style = { ...DEFAULT_OVERLAY_STYLE, premultiplied: true, ...options.style };
    const label = `yoloSeg.${manifest.id}`;
    const { numAnchors: n, numClasses: c } = this.layout;
    if (this.layout.head === 'raw') {
      this.decode = createYoloSegDecode(device);
      this.topK = createClassTopK(device);
      this.trimTopK = createYoloSegTrimTopK(device);
      this.fastNms = createFastNms(device);
      this.greedyNms = createGreedyNms(device);
      this.cap = createDetectionCap(device);
      this.boxes = createStorageBuffer(device, `${label}.boxes`, boxesBytes(n));
      this.bestConf = createStorageBuffer(device, `${label}.bestConf`, bestConfBytes(n, c));
      this.candidates = createStorageBuffer(device, `${label}.candidates`, candidatesBytes(n));
    } else {
      this.endToEnd = createYoloSegEndToEnd(device);
    }
    this.coefficients = createMaskCoefficients(device);
    this.upsample = createMaskUpsample(device);
    this.compose = createComposeOverlay(device);
    this.timer = createGpuTimer(device, STAGES, `${label}.timer`);
    const colours = options.classColours ?? defaultClassColours(c);
    this.numColours = colours.length;
    this.classColours = createStorageBuffer(device, `${label}.classColours`, colours.byteLength);
    device.queue.writeBuffer(this.classColours, 0, new Uint32Array(colours));
    const hiddenInit = hiddenClassMask([], c);
    this.hiddenWords = hiddenInit.length;
    this.hiddenClasses = createStorageBuffer(device, `${label}.hiddenClasses`, hiddenInit.byteLength);
    device.queue.writeBuffer(this.hiddenClasses, 0, hiddenInit);
    this.overlayTexture = createOverlayTexture(device, this.mask, `${label}.overlay`);
  }

  private label(name: string): string {
    return `yoloSeg.${this.manifest.id}.${name}`;
  }

  private ensureTopK(topK: number): void {
    if (topK <= this.topKCapacity) return;
    for (const b of [this.topIndices, this.topScores, this.topCounts, this.keep]) b?.destroy();
    const c = this.layout.numClasses;
    const sizes = topKBytes(c, topK);
    this.topIndices = createStorageBuffer(this.device, this.label('topIndices'), sizes.rows);
    this.topScores = createStorageBuffer(this.device, this.label('topScores'), sizes.rows);
    this.topCounts = createStorageBuffer(this.device, this.label('topCounts'), sizes.counts);
    this.keep = createStorageBuffer(this.device, this.label('keep'), keepBytes(c, topK));
    this.topKCapacity = topK;
  }

  private ensureDetections(maxDetections: number): void {
    if (maxDetections <= this.detectionCapacity) return;
    if (this.reading) throw new Error('YoloSegGpuPostprocessor: cannot grow buffers while a read-back is pending');
    for (const b of [this.records, this.protoMasks, this.maskBits, this.staging]) b?.destroy();
    const d = this.device;
    this.records = createStorageBuffer(d, this.label('records'), recordsBufferBytes(maxDetections));
    this.protoMasks = createStorageBuffer(d, this.label('protoMasks'), protoMasksBytes(this.spec, maxDetections));
    this.maskBits = createStorageBuffer(d, this.label('maskBits'), maskBitsBytes(this.mask, maxDetections));
    this.staging = d.createBuffer({
      label: this.label('staging'),
      size: recordsBufferBytes(maxDetections) + this.timer.bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.detectionCapacity = maxDetections;
  }

  private checkOutputs(outputs: Record<string, GPUBuffer>): Record<string, GPUBuffer> {
    for (const [name, floats] of Object.entries(yoloSegOutputFloats(this.layout))) {
      const b = outputs[name];
      if (!b) throw new Error(`YOLO-seg post-processing: no “${name}” output buffer`);
      if (b.size < floats * 4) throw new Error(`YOLO-seg output “${name}” has ${b.size} bytes; ${this.manifest.id} needs ${floats * 4}`);
    }
    return outputs;
  }

  /**
   * Encodes the whole chain for one frame (no submit). `image` is the original image size
   * (letterbox: it cannot be recovered exactly from the transform, so pass it).
   */
  encode(
    encoder: GPUCommandEncoder,
    outputs: Record<string, GPUBuffer>,
    settings: PostprocessSettings,
    transform: InputTransform,
    image: { width: number; height: number } = {
      width: Math.round((transform.inputWidth - 2 * transform.offsetX) / transform.gainX),
      height: Math.round((transform.inputHeight - 2 * transform.offsetY) / transform.gainY),
    },
  ): void {
    if (this.reading) throw new Error('YoloSegGpuPostprocessor: encode() while readResult() is pending');
    const out = this.checkOutputs(outputs);
    const { topK, scoreThreshold, maxDetections: capacity } = effectiveSettings(settings);
    this.ensureDetections(capacity);
    const records = this.records!;
    const { numAnchors, numClasses, inputWidth, inputHeight } = this.layout;
    const confThreshold = confThresholdOf(this.manifest);

    if (this.layout.head === 'raw') {
      this.ensureTopK(topK);
      this.decode!.run(
        encoder,
        { output0: out.output0!, boxes: this.boxes!, bestConf: this.bestConf!, candidates: this.candidates! },
        { numAnchors, numClasses, confThreshold, inputWidth, inputHeight },
        this.timer.passDescriptor('decode', 'yoloSeg.decode'),
      );
      this.topK!.run(
        encoder,
        { conf: this.bestConf!, candidates: this.candidates!, topIndices: this.topIndices!, topScores: this.topScores!, topCounts: this.topCounts! },
        { numPriors: numAnchors, numClasses, topK },
        this.timer.passDescriptor('nms', 'yoloSeg.classTopK'),
      );
      this.trimTopK!.run(
        encoder,
        { topScores: this.topScores!, topCounts: this.topCounts! },
        { numClasses, topK },
        this.timer.passDescriptor('nms', 'yoloSeg.trimTopK'),
      );
      const nms = settings.nmsKind === 'fast' ? this.fastNms! : this.greedyNms!;
      nms.run(
        encoder,
        { boxes: this.boxes!, topIndices: this.topIndices!, topCounts: this.topCounts!, keep: this.keep! },
        { numClasses, topK, nmsIou: settings.nmsIou },
        this.timer.passDescriptor('nms', `yoloSeg.${settings.nmsKind}Nms`),
      );
      this.cap!.run(
        encoder,
        {
          boxes: this.boxes!,
          candidates: this.candidates!,
          topIndices: this.topIndices!,
          topScores: this.topScores!,
          topCounts: this.topCounts!,
          keep: this.keep!,
          records,
        },
        { numClasses, topK, maxDetections: capacity, scoreThreshold },
        this.timer.passDescriptor('nms', 'yoloSeg.detectionCap'),
      );
    } else {
      this.endToEnd!.run(
        encoder,
        { detections: out.detections!, records },
        {
          numRows: numAnchors,
          numPrototypes: this.layout.numPrototypes,
          numClasses,
          maxDetections: capacity,
          confThreshold,
          scoreThreshold,
          inputWidth,
          inputHeight,
        },
        this.timer.passDescriptor('decode', 'yoloSeg.endToEnd'),
      );
    }
    const coefficients = this.layout.head === 'raw' ? out.output0! : out.detections!;
    this.coefficients.run(
      encoder,
      { records, coefficients, protos: out.protos!, protoMasks: this.protoMasks! },
      { spec: this.spec, maxDetections: capacity },
      this.timer.passDescriptor('masks', 'yoloSeg.maskCoefficients'),
    );
    this.upsample.run(
      encoder,
      { records, protoMasks: this.protoMasks!, maskBits: this.maskBits! },
      { spec: this.spec, transform, image, mask: this.mask, maxDetections: capacity },
      this.timer.passDescriptor('masks', 'yoloSeg.maskUpsample'),
    );
    this.frame = { transform, image: { ...image }, capacity };
    this.encodeCompose(encoder, this.timer.passDescriptor('masks', 'yoloSeg.composeOverlay'));
    const recordsBytes = recordsBufferBytes(capacity);
    encoder.copyBufferToBuffer(records, 0, this.staging!, 0, recordsBytes);
    this.timer.resolve(encoder, this.staging!, recordsBytes);
  }

  private encodeCompose(encoder: GPUCommandEncoder, pass?: GPUComputePassDescriptor): void {
    const frame = this.frame;
    if (!frame) return;
    this.compose.run(
      encoder,
      { records: this.records!, maskBits: this.maskBits!, classColours: this.classColours, hiddenClasses: this.hiddenClasses, overlay: this.overlayTexture },
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

  /** One mapAsync: the records (→ detections in image pixels) and the stage timings. */
  async readResult(): Promise<GpuReadResult> {
    const frame = this.frame;
    const staging = this.staging;
    if (!frame || !staging) throw new Error('YoloSegGpuPostprocessor: readResult() before encode()');
    const recordsBytes = recordsBufferBytes(frame.capacity);
    const bytes = recordsBytes + this.timer.bytes;
    this.reading = true;
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      const mapped = staging.getMappedRange(0, bytes);
      const { records, candidateCount } = decodeRecords(mapped.slice(0, recordsBytes));
      const stageMs = this.timer.read(mapped, recordsBytes);
      staging.unmap();
      const kept = records.slice(0, frame.capacity);
      this.lastCount = kept.length;
      const timings: Partial<StageTimings> =
        this.timer.source === 'gpu' ? { decode: stageMs.decode, nms: stageMs.nms, masks: stageMs.masks, source: 'gpu' } : {};
      return { detections: recordsToDetections(kept, frame.transform, frame.image), records: kept, candidateCount, bytesReadBack: bytes, timings };
    } finally {
      this.reading = false;
    }
  }

  private async keptCount(): Promise<number> {
    const header = new Uint32Array(await readBuffer(this.device, this.records!, 0, 16));
    return Math.min(header[0]!, this.frame!.capacity);
  }

  /** The last frame's bit masks (export / evaluation; not per frame). */
  async readMasks(): Promise<InstanceMasks> {
    const { width, height } = this.mask;
    const wordsPerRow = wordsPerRowFor(width);
    if (!this.frame || !this.records || !this.maskBits) return { width, height, wordsPerRow, bits: new Uint32Array(0) };
    const count = await this.keptCount();
    const planeBytes = height * wordsPerRow * 4;
    const bits = count === 0 ? new Uint32Array(0) : new Uint32Array(await readBuffer(this.device, this.maskBits, 0, count * planeBytes));
    return { width, height, wordsPerRow, bits };
  }

  /** The last frame's proto-space mask logits [count, P_h, P_w] f32 (tests / debugging). */
  async readProtoMasks(): Promise<Float32Array> {
    if (!this.frame || !this.records || !this.protoMasks) return new Float32Array(0);
    const count = await this.keptCount();
    const plane = this.layout.protoWidth * this.layout.protoHeight;
    return count === 0 ? new Float32Array(0) : new Float32Array(await readBuffer(this.device, this.protoMasks, 0, count * plane * 4));
  }

  /** Re-runs only composeOverlay with a new highlight / hidden classes (hover, toggles). */
  recompose(highlight: number | null, hiddenClasses: readonly number[]): void {
    this.highlight = highlight;
    this.device.queue.writeBuffer(this.hiddenClasses, 0, hiddenClassMask([...hiddenClasses], this.layout.numClasses));
    if (!this.frame) return;
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
    for (const k of [this.decode, this.topK, this.trimTopK, this.fastNms, this.greedyNms, this.cap, this.endToEnd, this.coefficients, this.upsample, this.compose, this.timer]) {
      k?.destroy();
    }
    for (const b of [this.boxes, this.bestConf, this.candidates, this.classColours, this.hiddenClasses, this.topIndices, this.topScores, this.topCounts, this.keep, this.records, this.protoMasks, this.maskBits, this.staging]) {
      b?.destroy();
    }
    this.overlayTexture.destroy();
  }
}

/** The factory the pipeline looks for (app/pipeline/runners/gpu.ts). */
export function createGpuPostprocessor(
  device: GPUDevice,
  manifest: ModelManifest,
  mask: { width: number; height: number },
  options?: YoloSegGpuOptions,
): YoloSegGpuPostprocessor {
  return new YoloSegGpuPostprocessor(device, manifest, mask, options);
}
