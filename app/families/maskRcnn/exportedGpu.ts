/**
 * Public Mask R-CNN exports (torchvision, ONNX zoo; exported.ts) post-processed on the GPU:
 * the graph's boxes / labels / scores / masks as GPU buffers → DetectionRecords, bit masks
 * and the overlay texture, with ONE small read-back a frame. The same API as the other
 * families' post-processors (pipeline/runners/gpu.ts `GpuPostprocessor`):
 *
 *   exportedRecords (threshold, label → class, rank, cap)               ('decode')
 *   → pastedMaskBits ('pasted': sample the [N,1,H,W] probabilities through the input→image
 *     transform; 'roi': paste the 28x28 grids with padding 1)          ('masks')
 *   → composeOverlay                                                     ('masks')
 *   → copy records (+ resolved timestamps) into one staging buffer → readResult()
 *
 *   createExportedGpuPostprocessor(device, manifest, mask, options) → ExportedGpuPostprocessor
 *   encode(encoder, outputs, settings, transform, image, shapes?)
 *
 * `shapes` (logical output name → { dims, type }) tells N, which varies per frame, and
 * whether labels are int64 (ORT's own buffers on the 'webgpu' path) or float32 (the
 * 'wasm+gpu' upload of runOnCpu's converted labels); pipeline/runners/gpu.ts passes it.
 * Without it (a caller that does not know), N is taken from the scores buffer's size and
 * labels as float32: right only for buffers that hold exactly N rows.
 * The CPU oracle of this chain is `postprocessExportedReference` (exported.ts).
 */
import type { InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import { decodeRecords, recordsBufferBytes, type DecodedRecord, type InputTransform } from '../../gpu/layout';
import { createStorageBuffer, readBuffer } from '../../gpu/buffers';
import { createGpuTimer, type GpuTimer } from '../../gpu/timing';
import { createExportedRecords, type ExportedRecordsKernel, type LabelEncoding } from '../../gpu/kernels/exportedRecords';
import { createPastedMaskBits, maskBitsBytes, type PastedMaskBitsKernel } from '../../gpu/kernels/pastedMaskBits';
import { createComposeOverlay, createOverlayTexture, readOverlayTexture, type ComposeOverlayKernel } from '../../gpu/kernels/composeOverlay';
import { wordsPerRowFor } from '../../reference/maskAssembly';
import { defaultClassColours, DEFAULT_OVERLAY_STYLE, hiddenClassMask, NO_HIGHLIGHT, type OverlayStyle } from '../../reference/composeOverlay';
import { recordsToDetections } from '../yolact/reference';
import { exportedLayout, ROI_MASK_SIDE, type ExportedLayout } from './exported';

/** What ORT said about an output this frame. */
export interface OutputShape {
  dims: readonly number[];
  /** ORT's tensor type ('float32', 'int64', 'int32'). */
  type?: string;
}

export interface ExportedGpuOptions {
  classColours?: Uint32Array;
  style?: Partial<OverlayStyle>;
}

export interface ExportedGpuReadResult {
  detections: ReturnType<typeof recordsToDetections>;
  records: DecodedRecord[];
  candidateCount: number;
  bytesReadBack: number;
  timings: Partial<StageTimings>;
}

const STAGES = ['decode', 'nms', 'masks'] as const;

function labelEncoding(type: string | undefined): LabelEncoding {
  if (type === 'int64') return 'i64';
  if (type === 'int32') return 'i32';
  return 'f32';
}

export class ExportedGpuPostprocessor {
  readonly layout: ExportedLayout;
  readonly overlayTexture: GPUTexture;
  readonly mask: { width: number; height: number };

  private readonly style: OverlayStyle;
  private readonly numColours: number;
  private readonly timer: GpuTimer;
  private readonly recordsKernel: ExportedRecordsKernel;
  private readonly bitsKernel: PastedMaskBitsKernel;
  private readonly compose: ComposeOverlayKernel;
  private readonly labelToClass: GPUBuffer;
  private readonly classColours: GPUBuffer;
  private readonly hiddenClasses: GPUBuffer;
  private readonly hiddenWords: number;
  /** Stands in for an output with no rows (WebGPU rejects zero-sized bindings). */
  private readonly empty: GPUBuffer;

  private capacity = 0;
  private records: GPUBuffer | null = null;
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
    options: ExportedGpuOptions = {},
  ) {
    this.layout = exportedLayout(manifest);
    this.mask = { width: mask.width, height: mask.height };
    this.style = { ...DEFAULT_OVERLAY_STYLE, premultiplied: true, ...options.style };
    this.recordsKernel = createExportedRecords(device);
    this.bitsKernel = createPastedMaskBits(device);
    this.compose = createComposeOverlay(device);
    this.timer = createGpuTimer(device, STAGES, this.label('timer'));
    this.labelToClass = createStorageBuffer(device, this.label('labelToClass'), this.layout.labelToClass.byteLength);
    device.queue.writeBuffer(this.labelToClass, 0, new Int32Array(this.layout.labelToClass));
    const c = this.layout.numClasses;
    const colours = options.classColours ?? defaultClassColours(c);
    this.numColours = colours.length;
    this.classColours = createStorageBuffer(device, this.label('classColours'), colours.byteLength);
    device.queue.writeBuffer(this.classColours, 0, new Uint32Array(colours));
    const hiddenInit = hiddenClassMask([], c);
    this.hiddenWords = hiddenInit.length;
    this.hiddenClasses = createStorageBuffer(device, this.label('hiddenClasses'), hiddenInit.byteLength);
    device.queue.writeBuffer(this.hiddenClasses, 0, hiddenInit);
    this.empty = createStorageBuffer(device, this.label('empty'), 16);
    this.overlayTexture = createOverlayTexture(device, this.mask, this.label('overlay'));
  }

  private label(name: string): string {
    return `maskRcnnExported.${this.manifest.id}.${name}`;
  }

  private ensureCapacity(maxDetections: number): void {
    if (maxDetections <= this.capacity) return;
    if (this.reading) throw new Error('ExportedGpuPostprocessor: cannot grow buffers while a read-back is pending');
    for (const b of [this.records, this.maskBits, this.staging]) b?.destroy();
    const d = this.device;
    this.records = createStorageBuffer(d, this.label('records'), recordsBufferBytes(maxDetections));
    this.maskBits = createStorageBuffer(d, this.label('maskBits'), maskBitsBytes(this.mask, maxDetections));
    this.staging = d.createBuffer({
      label: this.label('staging'),
      size: recordsBufferBytes(maxDetections) + this.timer.bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.capacity = maxDetections;
  }

  private maskName(): string {
    return this.layout.masks === 'pasted' ? 'pastedMasks' : 'roiMasks';
  }

  /** N of this frame: from ORT's dims when given, else from the scores buffer (see the file comment). */
  private rowCount(outputs: Record<string, GPUBuffer>, shapes?: Record<string, OutputShape>): number {
    const dims = shapes?.boxes?.dims ?? shapes?.scores?.dims;
    if (dims) return dims[0] ?? 0;
    return Math.floor(outputs.scores!.size / 4);
  }

  /** Encodes the whole chain for one frame (no submit). */
  encode(
    encoder: GPUCommandEncoder,
    outputs: Record<string, GPUBuffer>,
    settings: PostprocessSettings,
    transform: InputTransform,
    image: { width: number; height: number },
    shapes?: Record<string, OutputShape>,
  ): void {
    if (this.reading) throw new Error('ExportedGpuPostprocessor: encode() while readResult() is pending');
    for (const name of ['boxes', 'labels', 'scores', this.maskName()]) {
      if (!outputs[name]) throw new Error(`exported Mask R-CNN post-processing: no “${name}” output buffer`);
    }
    const capacity = Math.max(1, Math.floor(settings.maxDetections));
    this.ensureCapacity(capacity);
    const numRows = this.rowCount(outputs, shapes);
    const maskDims = shapes?.[this.maskName()]?.dims;
    const want = this.layout.masks === 'pasted' ? [this.layout.inputHeight, this.layout.inputWidth] : [ROI_MASK_SIDE, ROI_MASK_SIDE];
    if (numRows > 0 && maskDims && (maskDims[2] !== want[0] || maskDims[3] !== want[1])) {
      throw new Error(`exported Mask R-CNN: masks [${maskDims.join(', ')}], expected [N, 1, ${want[0]}, ${want[1]}]`);
    }
    const pick = (name: string) => (numRows === 0 ? this.empty : outputs[name]!);
    const records = this.records!;
    const { inputWidth, inputHeight } = this.layout;
    this.recordsKernel.run(
      encoder,
      { boxes: pick('boxes'), labels: pick('labels'), scores: pick('scores'), labelToClass: this.labelToClass, records },
      {
        numRows,
        maxDetections: capacity,
        labels: labelEncoding(shapes?.labels?.type),
        numLabels: this.layout.labelToClass.length,
        confThreshold: this.manifest.defaults.confThreshold,
        scoreThreshold: settings.scoreThreshold,
        inputWidth,
        inputHeight,
      },
      this.timer.passDescriptor('decode', 'maskRcnnExported.records'),
    );
    this.bitsKernel.run(
      encoder,
      { records, masks: pick(this.maskName()), maskBits: this.maskBits! },
      { mode: this.layout.masks, input: { width: inputWidth, height: inputHeight }, transform, image, mask: this.mask, maxDetections: capacity },
      this.timer.passDescriptor('masks', 'maskRcnnExported.pastedMaskBits'),
    );
    this.frame = { transform, image: { ...image }, capacity };
    this.encodeCompose(encoder, this.timer.passDescriptor('masks', 'maskRcnnExported.composeOverlay'));
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
  async readResult(): Promise<ExportedGpuReadResult> {
    const frame = this.frame;
    const staging = this.staging;
    if (!frame || !staging) throw new Error('ExportedGpuPostprocessor: readResult() before encode()');
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

  /** The last frame's bit masks (export / evaluation; not per frame). */
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
    for (const k of [this.recordsKernel, this.bitsKernel, this.compose, this.timer]) k.destroy();
    for (const b of [this.labelToClass, this.classColours, this.hiddenClasses, this.empty, this.records, this.maskBits, this.staging]) b?.destroy();
    this.overlayTexture.destroy();
  }
}

/** The factory (the family's gpu.ts dispatches here when `manifest.twoStage` is absent). */
export function createExportedGpuPostprocessor(
  device: GPUDevice,
  manifest: ModelManifest,
  mask: { width: number; height: number },
  options?: ExportedGpuOptions,
): ExportedGpuPostprocessor {
  return new ExportedGpuPostprocessor(device, manifest, mask, options);
}
