/**
 * Public Mask R-CNN exports (torchvision, ONNX zoo; exported.ts) post-processed on the GPU:
 * the graph's boxes / labels / scores / masks as GPU buffers → DetectionRecords, bit masks
 * and the overlay texture, with ONE small read-back a frame. The same API as the other
 * families' post-processors (../common/oneStage.ts `OneStageGpu`):
 *
 *   exportedRecords (threshold, label → class, rank, cap)               ('decode')
 *   → pastedMaskBits ('pasted': sample the [N,1,H,W] probabilities through the input→image
 *     transform; 'roi': paste the 28x28 grids with padding 1)          ('masks')
 *   → composeOverlay                                                     ('masks')
 *   → copy records (+ resolved timestamps) into one staging buffer → readResult()
 *
 * Everything from the records on (buffers, compose, read-back, recompose, overlay) is the
 * shared base, ../common/maskedDetectionGpu.ts (`spec: null`: this family writes the bit
 * masks itself and calls `finishFrame`).
 *
 *   createExportedGpuPostprocessor(device, manifest, mask, options) → ExportedGpuPostprocessor
 *   encode(encoder, outputs, settings, transform, image, shapes?)
 *
 * `shapes` (logical output name → { dims, type }) tells N, which varies per frame, and
 * whether labels are int64 (ORT's own buffers on the 'webgpu' path) or float32 (the
 * 'wasm+gpu' upload of the converted labels); the runner passes it.
 * Without it (a caller that does not know), N is taken from the scores buffer's size and
 * labels as float32: right only for buffers that hold exactly N rows.
 * The CPU oracle of this chain is `postprocessExportedReference` (exported.ts).
 */
import type { ModelManifest, PostprocessSettings } from '../../types';
import type { InputTransform } from '../../gpu/layout';
import { createStorageBuffer } from '../../gpu/buffers';
import { createExportedRecords, EXPORTED_RECORDS, type ExportedRecordsKernel, type LabelEncoding } from '../../gpu/kernels/exportedRecords';
import { createPastedMaskBits, PASTED_MASK_BITS, type PastedMaskBitsKernel } from '../../gpu/kernels/pastedMaskBits';
import { warmKernels, type KernelSource } from '../../gpu/kernelCache';
import { MaskedDetectionGpuPostprocessor, sharedGpuKernels, type GpuReadResult, type MaskedDetectionGpuOptions } from '../common/maskedDetectionGpu';
import { exportedLayout, ROI_MASK_SIDE, type ExportedLayout } from './exported';

import type { OutputShape } from '../common/oneStage';
export type { OutputShape };

export type ExportedGpuOptions = MaskedDetectionGpuOptions;

export type ExportedGpuReadResult = GpuReadResult;

function labelEncoding(type: string | undefined): LabelEncoding {
  if (type === 'int64') return 'i64';
  if (type === 'int32') return 'i32';
  return 'f32';
}

/** Every kernel an export's GPU side uses (and the runner's preprocess). */
export const EXPORTED_GPU_KERNELS: readonly KernelSource[] = [EXPORTED_RECORDS, PASTED_MASK_BITS, ...sharedGpuKernels(false)];

/** Compiles the exports' pipelines ahead of the first GPU side (asynchronously; app/gpu/kernelCache.ts). */
export function warmExportedGpu(device: GPUDevice): Promise<void> {
  return warmKernels(device, EXPORTED_GPU_KERNELS);
}

export class ExportedGpuPostprocessor extends MaskedDetectionGpuPostprocessor {
  readonly layout: ExportedLayout;

  private readonly recordsKernel: ExportedRecordsKernel;
  private readonly bitsKernel: PastedMaskBitsKernel;
  private readonly labelToClass: GPUBuffer;
  /** Stands in for an output with no rows (WebGPU rejects zero-sized bindings). */
  private readonly empty: GPUBuffer;

  constructor(device: GPUDevice, manifest: ModelManifest, mask: { width: number; height: number }, options: ExportedGpuOptions = {}) {
    const layout = exportedLayout(manifest);
    super(device, manifest, mask, { family: 'maskRcnnExported', className: 'ExportedGpuPostprocessor', numClasses: layout.numClasses, spec: null }, options);
    this.layout = layout;
    this.recordsKernel = createExportedRecords(device);
    this.bitsKernel = createPastedMaskBits(device);
    this.labelToClass = createStorageBuffer(device, this.label('labelToClass'), layout.labelToClass.byteLength);
    device.queue.writeBuffer(this.labelToClass, 0, new Int32Array(layout.labelToClass));
    this.empty = createStorageBuffer(device, this.label('empty'), 16);
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
    if (this.readPending) throw new Error('ExportedGpuPostprocessor: encode() while readResult() is pending');
    for (const name of ['boxes', 'labels', 'scores', this.maskName()]) {
      if (!outputs[name]) throw new Error(`exported Mask R-CNN post-processing: no “${name}” output buffer`);
    }
    const capacity = Math.max(1, Math.floor(settings.maxDetections));
    const records = this.beginFrame(capacity);
    const numRows = this.rowCount(outputs, shapes);
    const maskDims = shapes?.[this.maskName()]?.dims;
    const want = this.layout.masks === 'pasted' ? [this.layout.inputHeight, this.layout.inputWidth] : [ROI_MASK_SIDE, ROI_MASK_SIDE];
    if (numRows > 0 && maskDims && (maskDims[2] !== want[0] || maskDims[3] !== want[1])) {
      throw new Error(`exported Mask R-CNN: masks [${maskDims.join(', ')}], expected [N, 1, ${want[0]}, ${want[1]}]`);
    }
    const pick = (name: string) => (numRows === 0 ? this.empty : outputs[name]!);
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
      this.pass('decode', 'records'),
    );
    this.bitsKernel.run(
      encoder,
      { records, masks: pick(this.maskName()), maskBits: this.maskBits! },
      { mode: this.layout.masks, input: { width: inputWidth, height: inputHeight }, transform, image, mask: this.mask, maxDetections: capacity },
      this.pass('masks', 'pastedMaskBits'),
    );
    this.finishFrame(encoder, transform, image, capacity);
  }

  override destroy(): void {
    for (const k of [this.recordsKernel, this.bitsKernel]) k.destroy();
    for (const b of [this.labelToClass, this.empty]) b.destroy();
    super.destroy();
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
