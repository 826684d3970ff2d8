/**
 * YOLACT post-processing on the GPU: the five raw outputs (GPU buffers: ORT's own on the
 * 'webgpu' path, uploaded ones on 'wasm+gpu') → DetectionRecords, bit masks and the
 * overlay texture, with ONE small read-back a frame.
 *
 *   yolactDecode → classTopK → fastNms | greedyNms → detectionCap      ('decode', 'nms')
 *   → maskCoefficients → maskUpsample → composeOverlay                  ('masks')
 *   → copy records (+ resolved timestamps) into one staging buffer → readResult()
 *
 * Made once per (device, model, mask size): pipelines, uniforms and intermediate buffers
 * live here; buffers that depend on settings (topK, maxDetections) grow when needed. The
 * CPU oracle of this chain is `postprocessYolactReference` (reference.ts).
 */
import type { Detection, InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import { decodeRecords, recordsBufferBytes, type DecodedRecord, type InputTransform } from '../../gpu/layout';
import { createStorageBuffer, readBuffer } from '../../gpu/buffers';
import { createGpuTimer, type GpuTimer } from '../../gpu/timing';
import { boxesBytes, candidatesBytes, createYolactDecode, type YolactDecodeKernel } from '../../gpu/kernels/yolactDecode';
import { createClassTopK, MAX_TOP_K, topKBytes, type ClassTopKKernel } from '../../gpu/kernels/classTopK';
import { createFastNms, keepBytes, type NmsKernel } from '../../gpu/kernels/fastNms';
import { createGreedyNms } from '../../gpu/kernels/greedyNms';
import { createDetectionCap, type DetectionCapKernel } from '../../gpu/kernels/detectionCap';
import { createMaskCoefficients, protoMasksBytes, type MaskCoefficientsKernel } from '../../gpu/kernels/maskCoefficients';
import { createMaskUpsample, maskBitsBytes, type MaskUpsampleKernel } from '../../gpu/kernels/maskUpsample';
import {
  createComposeOverlay,
  createOverlayTexture,
  readOverlayTexture,
  type ComposeOverlayKernel,
} from '../../gpu/kernels/composeOverlay';
import { wordsPerRowFor, yolactMaskSpec, type MaskAssemblySpec } from '../../reference/maskAssembly';
import {
  defaultClassColours,
  DEFAULT_OVERLAY_STYLE,
  hiddenClassMask,
  NO_HIGHLIGHT,
  type OverlayStyle,
} from '../../reference/composeOverlay';
import { confThresholdOf, yolactLayout, yolactOutputFloats, YOLACT_OUTPUTS, type YolactLayout } from './manifest';
import { recordsToDetections } from './reference';

export type YolactOutputBuffers = Record<(typeof YOLACT_OUTPUTS)[number], GPUBuffer>;

export interface GpuReadResult {
  detections: Detection[];
  /** The kept records as the GPU wrote them (boxes relative to the model input). */
  records: DecodedRecord[];
  /** Priors that passed the confidence threshold this frame. */
  candidateCount: number;
  bytesReadBack: number;
  timings: Partial<StageTimings>;
}

export interface YolactGpuOptions {
  /** Packed class colours (`packColour`); default `defaultClassColours(numClasses)`. */
  classColours?: Uint32Array;
  /**
   * Overlay style. Default: premultiplied alpha, since the overlay texture is drawn through
   * a WebGPU canvas with alphaMode 'premultiplied'; `readOverlay` returns straight alpha
   * bytes either way.
   */
  style?: Partial<OverlayStyle>;
}

const STAGES = ['decode', 'nms', 'masks'] as const;

export class YolactGpuPostprocessor {
  readonly layout: YolactLayout;
  readonly overlayTexture: GPUTexture;
  readonly mask: { width: number; height: number };

  private readonly spec: MaskAssemblySpec;
  private readonly style: OverlayStyle;
  private readonly numColours: number;
  private readonly decode: YolactDecodeKernel;
  private readonly topK: ClassTopKKernel;
  private readonly fastNms: NmsKernel;
  private readonly greedyNms: NmsKernel;
  private readonly cap: DetectionCapKernel;
  private readonly coefficients: MaskCoefficientsKernel;
  private readonly upsample: MaskUpsampleKernel;
  private readonly compose: ComposeOverlayKernel;
  private readonly timer: GpuTimer;

  // Fixed-size buffers: [N, 4] boxes, candidate list, class colours, hidden classes.
  private readonly boxes: GPUBuffer;
  private readonly candidates: GPUBuffer;
  private readonly classColours: GPUBuffer;
  private readonly hiddenClasses: GPUBuffer;
  private readonly hiddenWords: number;
  // Buffers sized by settings (grown on demand).
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

  // The frame last encoded (what readResult / readMasks / recompose refer to).
  private frame: { transform: InputTransform; image: { width: number; height: number }; capacity: number } | null = null;
  private highlight: number | null = null;
  private hidden: readonly number[] = [];
  private lastCount = 0;
  private reading = false;

  constructor(
    private readonly device: GPUDevice,
    readonly manifest: ModelManifest,
    mask: { width: number; height: number },
    options: YolactGpuOptions = {},
  ) {
    this.layout = yolactLayout(manifest);
    this.mask = { width: mask.width, height: mask.height };
    this.spec = yolactMaskSpec(this.layout.protoWidth, this.layout.protoHeight, this.layout.numPrototypes);
    this.style = { ...DEFAULT_OVERLAY_STYLE, premultiplied: true, ...options.style };
    const label = `yolact.${manifest.id}`;
    this.decode = createYolactDecode(device);
    this.topK = createClassTopK(device);
    this.fastNms = createFastNms(device);
    this.greedyNms = createGreedyNms(device);
    this.cap = createDetectionCap(device);
    this.coefficients = createMaskCoefficients(device);
    this.upsample = createMaskUpsample(device);
    this.compose = createComposeOverlay(device);
    this.timer = createGpuTimer(device, STAGES, `${label}.timer`);

    const n = this.layout.numPriors;
    this.boxes = createStorageBuffer(device, `${label}.boxes`, boxesBytes(n));
    this.candidates = createStorageBuffer(device, `${label}.candidates`, candidatesBytes(n));
    const colours = options.classColours ?? defaultClassColours(this.layout.numClasses);
    this.numColours = colours.length;
    this.classColours = createStorageBuffer(device, `${label}.classColours`, colours.byteLength);
    device.queue.writeBuffer(this.classColours, 0, new Uint32Array(colours));
    const hiddenInit = hiddenClassMask([], this.layout.numClasses);
    this.hiddenWords = hiddenInit.length;
    this.hiddenClasses = createStorageBuffer(device, `${label}.hiddenClasses`, hiddenInit.byteLength);
    device.queue.writeBuffer(this.hiddenClasses, 0, hiddenInit);
    this.overlayTexture = createOverlayTexture(device, this.mask, `${label}.overlay`);
  }

  private label(name: string): string {
    return `yolact.${this.manifest.id}.${name}`;
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
    if (this.reading) throw new Error('YolactGpuPostprocessor: cannot grow buffers while a read-back is pending');
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

  /** Checks that the output buffers can hold this model's tensors. */
  private checkOutputs(outputs: Record<string, GPUBuffer>): YolactOutputBuffers {
    const floats = yolactOutputFloats(this.layout);
    for (const name of YOLACT_OUTPUTS) {
      const b = outputs[name];
      if (!b) throw new Error(`YOLACT post-processing: no “${name}” output buffer`);
      if (b.size < floats[name] * 4) {
        throw new Error(`YOLACT output “${name}” has ${b.size} bytes; ${this.manifest.id} needs ${floats[name] * 4}`);
      }
    }
    return outputs as YolactOutputBuffers;
  }

  /**
   * Encodes the whole chain for one frame into `encoder` (no submit). `image` is the
   * original image size; by default it is recovered from the transform (exact for stretch).
   */
  encode(
    encoder: GPUCommandEncoder,
    outputs: Record<string, GPUBuffer>,
    settings: PostprocessSettings,
    transform: InputTransform,
    image: { width: number; height: number } = {
      width: Math.round(transform.inputWidth / transform.gainX),
      height: Math.round(transform.inputHeight / transform.gainY),
    },
  ): void {
    if (this.reading) throw new Error('YolactGpuPostprocessor: encode() while readResult() is pending');
    const out = this.checkOutputs(outputs);
    const topK = Math.max(1, Math.min(MAX_TOP_K, Math.floor(settings.topK)));
    const capacity = Math.max(1, Math.floor(settings.maxDetections));
    this.ensureTopK(topK);
    this.ensureDetections(capacity);
    const { numPriors, numClasses } = this.layout;
    const records = this.records!;

    this.decode.run(
      encoder,
      { loc: out.loc, conf: out.conf, priors: out.priors, boxes: this.boxes, candidates: this.candidates },
      { numPriors, numClasses, confThreshold: confThresholdOf(this.manifest) },
      this.timer.passDescriptor('decode', 'yolact.decode'),
    );
    this.topK.run(
      encoder,
      { conf: out.conf, candidates: this.candidates, topIndices: this.topIndices!, topScores: this.topScores!, topCounts: this.topCounts! },
      { numPriors, numClasses, topK },
      this.timer.passDescriptor('nms', 'yolact.classTopK'),
    );
    const nms = settings.nmsKind === 'greedy' ? this.greedyNms : this.fastNms;
    nms.run(
      encoder,
      { boxes: this.boxes, topIndices: this.topIndices!, topCounts: this.topCounts!, keep: this.keep! },
      { numClasses, topK, nmsIou: settings.nmsIou },
      this.timer.passDescriptor('nms', `yolact.${settings.nmsKind}Nms`),
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
      { numClasses, topK, maxDetections: capacity, scoreThreshold: settings.scoreThreshold },
      this.timer.passDescriptor('nms', 'yolact.detectionCap'),
    );
    this.coefficients.run(
      encoder,
      { records, coefficients: out.mask, protos: out.proto, protoMasks: this.protoMasks! },
      { spec: this.spec, maxDetections: capacity },
      this.timer.passDescriptor('masks', 'yolact.maskCoefficients'),
    );
    this.upsample.run(
      encoder,
      { records, protoMasks: this.protoMasks!, maskBits: this.maskBits! },
      { spec: this.spec, transform, image, mask: this.mask, maxDetections: capacity },
      this.timer.passDescriptor('masks', 'yolact.maskUpsample'),
    );
    this.frame = { transform, image: { ...image }, capacity };
    this.encodeCompose(encoder, this.timer.passDescriptor('masks', 'yolact.composeOverlay'));

    // ONE staging buffer: records, then the resolved timestamps.
    const recordsBytes = recordsBufferBytes(capacity);
    encoder.copyBufferToBuffer(records, 0, this.staging!, 0, recordsBytes);
    this.timer.resolve(encoder, this.staging!, recordsBytes);
  }

  private encodeCompose(encoder: GPUCommandEncoder, pass?: GPUComputePassDescriptor): void {
    const frame = this.frame;
    if (!frame) return;
    this.compose.run(
      encoder,
      {
        records: this.records!,
        maskBits: this.maskBits!,
        classColours: this.classColours,
        hiddenClasses: this.hiddenClasses,
        overlay: this.overlayTexture,
      },
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
    if (!frame || !staging) throw new Error('YolactGpuPostprocessor: readResult() before encode()');
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
      return {
        detections: recordsToDetections(kept, frame.transform, frame.image),
        records: kept,
        candidateCount,
        bytesReadBack: bytes,
        timings,
      };
    } finally {
      this.reading = false;
    }
  }

  /** The last frame's masks (export / evaluation; not per frame): a read-back of count planes. */
  async readMasks(): Promise<InstanceMasks> {
    const { width, height } = this.mask;
    const wordsPerRow = wordsPerRowFor(width);
    if (!this.frame || !this.records || !this.maskBits) return { width, height, wordsPerRow, bits: new Uint32Array(0) };
    const header = new Uint32Array(await readBuffer(this.device, this.records, 0, 16));
    const count = Math.min(header[0]!, this.frame.capacity);
    const planeBytes = height * wordsPerRow * 4;
    const bits = count === 0 ? new Uint32Array(0) : new Uint32Array(await readBuffer(this.device, this.maskBits, 0, count * planeBytes));
    return { width, height, wordsPerRow, bits };
  }

  /** The last frame's proto-space masks [count, P, P] f32 (tests / debugging). */
  async readProtoMasks(): Promise<Float32Array> {
    if (!this.frame || !this.records || !this.protoMasks) return new Float32Array(0);
    const header = new Uint32Array(await readBuffer(this.device, this.records, 0, 16));
    const count = Math.min(header[0]!, this.frame.capacity);
    const plane = this.layout.protoWidth * this.layout.protoHeight;
    return count === 0 ? new Float32Array(0) : new Float32Array(await readBuffer(this.device, this.protoMasks, 0, count * plane * 4));
  }

  /** Re-runs only composeOverlay with a new highlight / hidden classes (hover, toggles). */
  recompose(highlight: number | null, hiddenClasses: readonly number[]): void {
    this.highlight = highlight;
    this.hidden = [...hiddenClasses];
    this.device.queue.writeBuffer(this.hiddenClasses, 0, hiddenClassMask(this.hidden, this.layout.numClasses));
    if (!this.frame) return;
    const encoder = this.device.createCommandEncoder({ label: this.label('recompose') });
    this.encodeCompose(encoder);
    this.device.queue.submit([encoder.finish()]);
  }

  /** The overlay texture's bytes as stored (premultiplied unless the style says otherwise). */
  readOverlayRaw(): Promise<Uint8ClampedArray<ArrayBuffer>> {
    return readOverlayTexture(this.device, this.overlayTexture);
  }

  /** The overlay as straight-alpha RGBA bytes [maskH, maskW, 4] (PNG export). */
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

  /** Instances of the last read result. */
  get count(): number {
    return this.lastCount;
  }

  destroy(): void {
    for (const k of [this.decode, this.topK, this.fastNms, this.greedyNms, this.cap, this.coefficients, this.upsample, this.compose, this.timer]) {
      k.destroy();
    }
    for (const b of [this.boxes, this.candidates, this.classColours, this.hiddenClasses, this.topIndices, this.topScores, this.topCounts, this.keep, this.records, this.protoMasks, this.maskBits, this.staging]) {
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
  options?: YolactGpuOptions,
): YolactGpuPostprocessor {
  return new YolactGpuPostprocessor(device, manifest, mask, options);
}
