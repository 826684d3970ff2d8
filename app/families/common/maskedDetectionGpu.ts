/**
 * The part of a single-stage family's GPU post-processor that does not depend on the
 * family's head: everything from the kept DetectionRecords on, and the buffers around it.
 *
 *   (family: decode → top-k → NMS → cap, writing `records`)
 *   → maskCoefficients → maskUpsample → composeOverlay                   ('masks')
 *   → copy records (+ resolved timestamps) into one staging buffer → readResult()
 *
 * A family subclasses `MaskedDetectionGpuPostprocessor`, builds its own decode / NMS
 * kernels and buffers, and in `encode` calls `beginFrame` (checks, grows buffers), encodes
 * its box chain into `this.records`, then `encodeMasksAndReadback` with its coefficient and
 * prototype buffers. A family whose masks are not coefficients · prototypes (pasted
 * per-box masks) passes `spec: null`, writes `this.maskBits` itself and calls
 * `finishFrame` (Mask R-CNN: the public exports' pasted masks, and the two-stage chain,
 * which also names its own timestamp `stages` and maps them in `stageTimings`). Read-back
 * (one mapAsync), the masks for export, recompose on hover or class toggles, and the
 * overlay read-back live here once.
 *
 * Buffers (labelled `<family>.<model id>.<name>`):
 *   classColours [C] u32, hiddenClasses [ceil(C/32)] u32           fixed
 *   topIndices / topScores [C, topK], topCounts [C], keep [C, topK]  grown with topK
 *   classLists [4 + 2C] u32 (classes with entries: classTopK → NMS)  fixed
 *   records [16 + 32·D] bytes, protoMasks [D, P_h, P_w] f32,
 *   maskBits [D, H, ceil(W/32)] u32, staging (records + timestamps)  grown with D = maxDetections
 */
import type { AuxiliaryMap, Detection, InstanceMasks, ModelManifest, StageTimings } from '../../types';
import { decodeRecords, recordsBufferBytes, type DecodedRecord, type InputTransform } from '../../gpu/layout';
import { createStorageBuffer, readBuffer } from '../../gpu/buffers';
import { createGpuTimer, type GpuTimer } from '../../gpu/timing';
import { createClassListsBuffer, topKBytes } from '../../gpu/kernels/classTopK';
import { keepBytes } from '../../gpu/kernels/fastNms';
import { createMaskCoefficients, MASK_COEFFICIENTS, protoMasksBytes, type MaskCoefficientsKernel } from '../../gpu/kernels/maskCoefficients';
import { createMaskUpsample, MASK_UPSAMPLE, maskBitsBytes, type MaskUpsampleKernel } from '../../gpu/kernels/maskUpsample';
import {
  COMPOSE_OVERLAY,
  createComposeOverlay,
  createOverlayTexture,
  overlayStagingBytes,
  readOverlayTexture,
  type ComposeOverlayKernel,
} from '../../gpu/kernels/composeOverlay';
import { PREPROCESS } from '../../gpu/kernels/preprocess';
import type { KernelSource } from '../../gpu/kernelCache';
import { wordsPerRowFor, type MaskAssemblySpec } from '../../reference/maskAssembly';
import { defaultClassColours, DEFAULT_OVERLAY_STYLE, hiddenClassMask, NO_HIGHLIGHT, type OverlayStyle } from '../../reference/composeOverlay';
import { recordsToDetections } from '../yolact/reference';

export interface GpuReadResult {
  detections: Detection[];
  /** The kept records as the GPU wrote them (boxes relative to the model input). */
  records: DecodedRecord[];
  /** Priors / anchors that passed the confidence threshold this frame. */
  candidateCount: number;
  bytesReadBack: number;
  timings: Partial<StageTimings>;
  /** A map shown on request (B2Inst's boundary basis), read back with the records. */
  auxiliaryMap?: AuxiliaryMap;
}

/**
 * A family's own bytes read back with the records, in the same staging buffer and mapAsync
 * (B2Inst: its scoring head's (S_IoU, S_boundary) per row, and its boundary basis when the
 * pane shows it): `bytes` from `buffer` at `offset`, handed to `read` with the frame's result.
 */
export interface ExtraReadback {
  buffer: GPUBuffer;
  offset: number;
  bytes: number;
  /** Adds what the bytes say to the result (called once the frame is mapped; `bytes` is a copy). */
  read(bytes: ArrayBuffer, result: GpuReadResult): void;
}

export interface MaskedDetectionGpuOptions {
  /** Packed class colours (`packColour`); default `defaultClassColours(numClasses)`. */
  classColours?: Uint32Array;
  /**
   * Overlay style. Default: premultiplied alpha, since the overlay texture is drawn through
   * a WebGPU canvas with alphaMode 'premultiplied'; `readOverlay` returns straight alpha
   * bytes either way.
   */
  style?: Partial<OverlayStyle>;
}

/**
 * The kernels this base makes (app/gpu/kernelCache.ts): compose always, the prototype-mask
 * kernels when the family has a mask spec; and the runner's preprocess on 'webgpu'. A
 * family's warm-up list is these plus its own box chain's.
 */
export function sharedGpuKernels(prototypeMasks: boolean): KernelSource[] {
  return [PREPROCESS, COMPOSE_OVERLAY, ...(prototypeMasks ? [MASK_COEFFICIENTS, MASK_UPSAMPLE] : [])];
}

/** Timestamp spans of every family's chain. */
export const POSTPROCESS_STAGES = ['decode', 'nms', 'masks'] as const;

/** What the subclass tells the base about its model. */
export interface MaskedDetectionSetup {
  /** Label and error prefix of the family: 'yolact', 'yoloSeg'. */
  family: string;
  /** Class name in error messages: 'YolactGpuPostprocessor'. */
  className: string;
  numClasses: number;
  /**
   * Proto-space mask geometry and where the coefficients sit; null for a family that
   * writes the bit masks itself (no proto-space masks, no maskCoefficients / maskUpsample).
   */
  spec: MaskAssemblySpec | null;
  /** Timestamp spans of the family's chain; default POSTPROCESS_STAGES (see `stageTimings`). */
  stages?: readonly string[];
}

/** The frame last encoded (what readResult / readMasks / recompose refer to). */
interface EncodedFrame {
  transform: InputTransform;
  image: { width: number; height: number };
  capacity: number;
  /** The family's extras copied after the records, in order, each at an 8-aligned offset. */
  extras: readonly ExtraReadback[];
  /** Their bytes, padding included. */
  extraBytes: number;
}

/** Offsets into the staging buffer are kept 8-aligned (the timer's resolve copy needs it). */
function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

export abstract class MaskedDetectionGpuPostprocessor {
  /** The composed overlay `[maskH, maskW]` rgba8unorm (remade by `resizeMask`). */
  get overlayTexture(): GPUTexture {
    return this.overlay;
  }
  /** The mask resolution (changed by `resizeMask`). */
  get mask(): { readonly width: number; readonly height: number } {
    return this.maskSize;
  }
  private overlay: GPUTexture;
  private maskSize: { width: number; height: number };

  protected readonly spec: MaskAssemblySpec | null;
  protected readonly timer: GpuTimer;
  private readonly family: string;
  private readonly className: string;
  private readonly numClasses: number;
  private readonly style: OverlayStyle;
  private readonly numColours: number;
  private readonly coefficients: MaskCoefficientsKernel | null;
  private readonly upsample: MaskUpsampleKernel | null;
  private readonly compose: ComposeOverlayKernel;
  private readonly classColours: GPUBuffer;
  private readonly hiddenClasses: GPUBuffer;
  private readonly hiddenWords: number;

  // Per-class top-k lists and NMS keep flags [C, topK] (grown with topK).
  private topKCapacity = 0;
  protected topIndices: GPUBuffer | null = null;
  protected topScores: GPUBuffer | null = null;
  protected topCounts: GPUBuffer | null = null;
  protected keep: GPUBuffer | null = null;
  /** classTopK's list of the classes with entries, which NMS launches workgroups for. */
  protected classLists: GPUBuffer | null = null;
  // Kept instances (grown with maxDetections).
  private detectionCapacity = 0;
  protected records: GPUBuffer | null = null;
  private protoMasks: GPUBuffer | null = null;
  /** [D, H, ceil(W/32)] u32: what composeOverlay reads and readMasks returns. */
  protected maskBits: GPUBuffer | null = null;
  private staging: GPUBuffer | null = null;

  private frame: EncodedFrame | null = null;
  private highlight: number | null = null;
  private lastCount = 0;
  private reading = false;

  protected constructor(
    protected readonly device: GPUDevice,
    readonly manifest: ModelManifest,
    mask: { width: number; height: number },
    setup: MaskedDetectionSetup,
    options: MaskedDetectionGpuOptions = {},
  ) {
    this.family = setup.family;
    this.className = setup.className;
    this.numClasses = setup.numClasses;
    this.spec = setup.spec;
    this.maskSize = { width: mask.width, height: mask.height };
    this.style = { ...DEFAULT_OVERLAY_STYLE, premultiplied: true, ...options.style };
    this.coefficients = setup.spec ? createMaskCoefficients(device) : null;
    this.upsample = setup.spec ? createMaskUpsample(device) : null;
    this.compose = createComposeOverlay(device);
    this.timer = createGpuTimer(device, setup.stages ?? POSTPROCESS_STAGES, this.label('timer'));
    const colours = options.classColours ?? defaultClassColours(setup.numClasses);
    this.numColours = colours.length;
    this.classColours = createStorageBuffer(device, this.label('classColours'), colours.byteLength);
    device.queue.writeBuffer(this.classColours, 0, new Uint32Array(colours));
    const hiddenInit = hiddenClassMask([], setup.numClasses);
    this.hiddenWords = hiddenInit.length;
    this.hiddenClasses = createStorageBuffer(device, this.label('hiddenClasses'), hiddenInit.byteLength);
    device.queue.writeBuffer(this.hiddenClasses, 0, hiddenInit);
    this.overlay = createOverlayTexture(device, this.mask, this.label('overlay'));
  }

  /**
   * A new mask resolution (a frame of another size): only what depends on it is made again —
   * the overlay texture and the bit masks; kernels, pipelines and every other buffer stay.
   * The last frame's masks are gone with it.
   */
  resizeMask(mask: { width: number; height: number }): void {
    if (mask.width === this.maskSize.width && mask.height === this.maskSize.height) return;
    if (this.reading) throw new Error(`${this.className}: cannot resize while a read-back is pending`);
    this.maskSize = { width: mask.width, height: mask.height };
    this.overlay.destroy();
    this.overlay = createOverlayTexture(this.device, this.mask, this.label('overlay'));
    if (this.maskBits) {
      this.maskBits.destroy();
      this.maskBits = createStorageBuffer(this.device, this.label('maskBits'), maskBitsBytes(this.mask, this.detectionCapacity));
    }
    this.frame = null;
    this.lastCount = 0;
  }

  /** `<family>.<model id>.<name>`: the label of every GPU object of this post-processor. */
  protected label(name: string): string {
    return `${this.family}.${this.manifest.id}.${name}`;
  }

  /** Timestamp span `stage` of a compute pass labelled `<family>.<pass>`. */
  protected pass(stage: string, pass: string): GPUComputePassDescriptor {
    return this.timer.passDescriptor(stage, `${this.family}.${pass}`);
  }

  /** Grows the top-k lists and keep flags to hold `topK` rows per class. */
  protected ensureTopK(topK: number): void {
    if (topK <= this.topKCapacity) return;
    for (const b of [this.topIndices, this.topScores, this.topCounts, this.keep]) b?.destroy();
    const c = this.numClasses;
    const sizes = topKBytes(c, topK);
    this.topIndices = createStorageBuffer(this.device, this.label('topIndices'), sizes.rows);
    this.topScores = createStorageBuffer(this.device, this.label('topScores'), sizes.rows);
    this.topCounts = createStorageBuffer(this.device, this.label('topCounts'), sizes.counts);
    this.keep = createStorageBuffer(this.device, this.label('keep'), keepBytes(c, topK));
    this.classLists ??= createClassListsBuffer(this.device, this.label('classLists'), c);
    this.topKCapacity = topK;
  }

  /** Grows records, proto-space masks, bit masks and staging to hold `maxDetections`. */
  protected ensureDetections(maxDetections: number): void {
    if (maxDetections <= this.detectionCapacity) return;
    if (this.reading) throw new Error(`${this.className}: cannot grow buffers while a read-back is pending`);
    for (const b of [this.records, this.protoMasks, this.maskBits, this.staging]) b?.destroy();
    const d = this.device;
    this.records = createStorageBuffer(d, this.label('records'), recordsBufferBytes(maxDetections));
    this.protoMasks = this.spec ? createStorageBuffer(d, this.label('protoMasks'), protoMasksBytes(this.spec, maxDetections)) : null;
    this.maskBits = createStorageBuffer(d, this.label('maskBits'), maskBitsBytes(this.mask, maxDetections));
    this.staging = d.createBuffer({
      label: this.label('staging'),
      size: recordsBufferBytes(maxDetections) + align8(this.extraReadbackCapacity(maxDetections)) + this.timer.bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.detectionCapacity = maxDetections;
  }

  /**
   * The most bytes of extras (`finishFrame`'s `extras`) a frame of `maxDetections` copies
   * after the records; 0 unless the family reads back something of its own.
   */
  protected extraReadbackCapacity(_maxDetections: number): number {
    return 0;
  }

  /** True while `readResult` waits on its mapAsync (encoding then is refused). */
  protected get readPending(): boolean {
    return this.reading;
  }

  /** Forgets the last frame (a family that starts a new one in several steps). */
  protected clearFrame(): void {
    this.frame = null;
  }

  /**
   * Start of a frame's `encode`: refuses while a read-back is pending and makes room for
   * `capacity` kept instances. Returns the records buffer the family's chain writes.
   */
  protected beginFrame(capacity: number): GPUBuffer {
    if (this.reading) throw new Error(`${this.className}: encode() while readResult() is pending`);
    this.ensureDetections(capacity);
    return this.records!;
  }

  /**
   * End of a frame's `encode` for prototype-mask families: masks of the kept records
   * (coefficients · prototypes, crop, upsample to the mask size undoing `transform`), then
   * `finishFrame`.
   */
  protected encodeMasksAndReadback(
    encoder: GPUCommandEncoder,
    buffers: { coefficients: GPUBuffer; protos: GPUBuffer },
    transform: InputTransform,
    image: { width: number; height: number },
    capacity: number,
  ): void {
    if (!this.spec || !this.coefficients || !this.upsample) throw new Error(`${this.className}: no mask spec, so no prototype masks`);
    const records = this.records!;
    this.coefficients.run(
      encoder,
      { records, coefficients: buffers.coefficients, protos: buffers.protos, protoMasks: this.protoMasks! },
      { spec: this.spec, maxDetections: capacity },
      this.pass('masks', 'maskCoefficients'),
    );
    this.upsample.run(
      encoder,
      { records, protoMasks: this.protoMasks!, maskBits: this.maskBits! },
      { spec: this.spec, transform, image, mask: this.mask, maxDetections: capacity },
      this.pass('masks', 'maskUpsample'),
    );
    this.finishFrame(encoder, transform, image, capacity);
  }

  /**
   * Last step of every frame's `encode`, once `records` and `maskBits` hold the frame: the
   * overlay, and the copy of records + timestamps into the one staging buffer
   * `readResult` maps.
   */
  protected finishFrame(
    encoder: GPUCommandEncoder,
    transform: InputTransform,
    image: { width: number; height: number },
    capacity: number,
    extras: readonly ExtraReadback[] = [],
  ): void {
    const extraBytes = extras.reduce((n, e) => n + align8(e.bytes), 0);
    const room = align8(this.extraReadbackCapacity(capacity));
    if (extraBytes > room) throw new Error(`${this.className}: ${extraBytes} bytes of extras, the staging holds ${room}`);
    this.frame = { transform, image: { ...image }, capacity, extras: [...extras], extraBytes };
    this.encodeCompose(encoder, this.pass('masks', 'composeOverlay'));
    // ONE staging buffer: records, the family's extras, then the resolved timestamps.
    const recordsBytes = recordsBufferBytes(capacity);
    encoder.copyBufferToBuffer(this.records!, 0, this.staging!, 0, recordsBytes);
    let at = recordsBytes;
    for (const e of extras) {
      if (e.bytes > 0) encoder.copyBufferToBuffer(e.buffer, e.offset, this.staging!, at, e.bytes);
      at += align8(e.bytes);
    }
    this.timer.resolve(encoder, this.staging!, recordsBytes + room);
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
    if (!frame || !staging) throw new Error(`${this.className}: readResult() before encode()`);
    const recordsBytes = recordsBufferBytes(frame.capacity);
    const room = align8(this.extraReadbackCapacity(frame.capacity));
    const timerAt = recordsBytes + room;
    const bytes = timerAt + this.timer.bytes;
    this.reading = true;
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      const mapped = staging.getMappedRange(0, bytes);
      const { records, candidateCount } = decodeRecords(mapped.slice(0, recordsBytes));
      // Each extra after the records, at 8-aligned offsets (as `finishFrame` copied them).
      let at = recordsBytes;
      const extras = frame.extras.map((e) => {
        const bytes = mapped.slice(at, at + e.bytes);
        at += align8(e.bytes);
        return bytes;
      });
      const stageMs = this.timer.read(mapped, timerAt);
      staging.unmap();
      const kept = records.slice(0, frame.capacity);
      this.lastCount = kept.length;
      const timings: Partial<StageTimings> = this.timer.source === 'gpu' ? { ...this.stageTimings(stageMs), source: 'gpu' } : {};
      // Counted: what was copied (records, the frame's extras, the timestamps), not the staging's spare room.
      const result: GpuReadResult = {
        detections: recordsToDetections(kept, frame.transform, frame.image),
        records: kept,
        candidateCount,
        bytesReadBack: recordsBytes + frame.extraBytes + this.timer.bytes,
        timings,
      };
      frame.extras.forEach((e, i) => e.read(extras[i]!, result));
      return result;
    } finally {
      this.reading = false;
    }
  }

  /** StageTimings from the timestamp spans (milliseconds per stage; GPU timestamps only). */
  protected stageTimings(ms: Record<string, number>): Partial<StageTimings> {
    return { decode: ms.decode, nms: ms.nms, masks: ms.masks };
  }

  /** Kept instances of the last frame, from the records header (a 16-byte read-back). */
  private async keptCount(): Promise<number> {
    const header = new Uint32Array(await readBuffer(this.device, this.records!, 0, 16));
    return Math.min(header[0]!, this.frame!.capacity);
  }

  /** The last frame's bit masks (export / evaluation; not per frame): a read-back of count planes. */
  async readMasks(): Promise<InstanceMasks> {
    const { width, height } = this.mask;
    const wordsPerRow = wordsPerRowFor(width);
    if (!this.frame || !this.records || !this.maskBits) return { width, height, wordsPerRow, bits: new Uint32Array(0) };
    const count = await this.keptCount();
    const planeBytes = height * wordsPerRow * 4;
    const bits = count === 0 ? new Uint32Array(0) : new Uint32Array(await readBuffer(this.device, this.maskBits, 0, count * planeBytes));
    return { width, height, wordsPerRow, bits };
  }

  /** The last frame's proto-space masks [count, P_h, P_w] f32 (tests / debugging). */
  async readProtoMasks(): Promise<Float32Array> {
    if (!this.frame || !this.records || !this.protoMasks || !this.spec) return new Float32Array(0);
    const count = await this.keptCount();
    const plane = this.spec.protoWidth * this.spec.protoHeight;
    return count === 0 ? new Float32Array(0) : new Float32Array(await readBuffer(this.device, this.protoMasks, 0, count * plane * 4));
  }

  /** Re-runs only composeOverlay with a new highlight / hidden classes (hover, toggles). */
  recompose(highlight: number | null, hiddenClasses: readonly number[]): void {
    this.highlight = highlight;
    this.device.queue.writeBuffer(this.hiddenClasses, 0, hiddenClassMask([...hiddenClasses], this.numClasses));
    if (!this.frame) return;
    const encoder = this.device.createCommandEncoder({ label: this.label('recompose') });
    this.encodeCompose(encoder);
    this.device.queue.submit([encoder.finish()]);
  }

  /** The overlay texture's bytes as stored (premultiplied unless the style says otherwise). */
  readOverlayRaw(): Promise<Uint8ClampedArray<ArrayBuffer>> {
    return readOverlayTexture(this.device, this.overlayTexture, this.overlayReadback());
  }

  /** The overlay's staging buffer, kept (the 'readback' overlay mode reads it every frame); remade with the size. */
  private overlayReadback(): GPUBuffer {
    const bytes = overlayStagingBytes(this.overlay);
    if (!this.overlayStaging || this.overlayStaging.size < bytes) {
      this.overlayStaging?.destroy();
      this.overlayStaging = this.device.createBuffer({
        label: this.label('overlayStaging'),
        size: bytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    }
    return this.overlayStaging;
  }
  private overlayStaging: GPUBuffer | null = null;

  /** The overlay as straight-alpha RGBA bytes [maskH, maskW, 4] (PNG export, Konva). */
  async readOverlay(): Promise<Uint8ClampedArray<ArrayBuffer>> {
    const rgba = await readOverlayTexture(this.device, this.overlayTexture, this.overlayReadback());
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

  /** Destroys the shared kernels, buffers and the overlay texture; subclasses destroy theirs first. */
  destroy(): void {
    for (const k of [this.coefficients, this.upsample, this.compose, this.timer]) k?.destroy();
    for (const b of [
      this.classColours,
      this.hiddenClasses,
      this.topIndices,
      this.topScores,
      this.topCounts,
      this.keep,
      this.classLists,
      this.records,
      this.protoMasks,
      this.maskBits,
      this.staging,
    ]) {
      b?.destroy();
    }
    this.overlay.destroy();
    this.overlayStaging?.destroy();
  }
}
