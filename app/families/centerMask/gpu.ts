/**
 * CenterMask on the GPU: `CenterMaskGpu`, the WGSL between its two ONNX parts, encoded in two
 * steps with the mask head run between them (the steps of ./program.ts, run by the one
 * runner, app/pipeline/stages/):
 *
 *   encodeDetections(detector)  fcosDecode → classTopK → fastNms | greedyNms → detectionCap   ('decode', 'nms')
 *                                 (the base's, ../common/fcosMaskedGpu.ts: the FCOS box chain)
 *                               → RoIAlign poolSize² on the records (Equation 2 levels)
 *                                 → maskFeatures [M, C, 14, 14]                             ('roi')
 *     … mask head: maskFeatures → maskLogits [M, K, 28, 28], maskIou [M, K] …
 *   encodeMasks(maskLogits, maskIou)  maskRescore → maskPaste (detectron2) → compose       ('masks')
 *                               → copy records (+ resolved timestamps) into ONE staging buffer
 *   readResult()                the one mapAsync of the frame
 *
 * M (the pane's maxDetections) is fixed for a frame: padded RoIs (zero rows) go through the
 * mask head and are ignored, so 'webgpu' reads nothing back before the records.
 * The two steps' frame, the FCOS box chain, records, bit masks, compose, read-back and
 * recompose are the shared bases (../common/fcosMaskedGpu.ts, ../common/maskedDetectionGpu.ts,
 * `spec: null`). CPU oracle: ./reference.ts.
 */
import type { ModelManifest, StageTimings } from '../../types';
import { createStorageBuffer, readBuffer } from '../../gpu/buffers';
import { createRoiAlign, recordsRoiSource, ROI_ALIGN, roiFeaturesBytes, type RoiPoolerKernel } from '../../gpu/kernels/roiAlign';
import { createMaskRescore, MASK_RESCORE, type MaskRescoreKernel } from '../../gpu/kernels/maskRescore';
import { createMaskPaste, MASK_PASTE, type MaskPasteKernel } from '../../gpu/kernels/maskPaste';
import { warmKernels, type KernelSource } from '../../gpu/kernelCache';
import { sharedGpuKernels, type MaskedDetectionGpuOptions } from '../common/maskedDetectionGpu';
import { FCOS_BOX_CHAIN_KERNELS } from '../common/fcosBoxChain';
import { FcosMaskedGpu, type FcosEncodingFrame } from '../common/fcosMaskedGpu';
import { centerMaskFloats, centerMaskLayout, CENTER_MASK_FPN, ranksByMaskIou, type CenterMaskLayout } from './manifest';

/** Timestamp spans of the chain (a span must not straddle the mask head's submit). */
const STAGES = ['decode', 'nms', 'roi', 'masks'] as const;

/** Every kernel a CenterMask GPU side uses (and the runner's preprocess): what `warmCenterMaskGpu` compiles. */
export const CENTER_MASK_GPU_KERNELS: KernelSource[] = [...FCOS_BOX_CHAIN_KERNELS, ROI_ALIGN, MASK_RESCORE, MASK_PASTE, ...sharedGpuKernels(false)];

export function warmCenterMaskGpu(device: GPUDevice): Promise<void> {
  return warmKernels(device, CENTER_MASK_GPU_KERNELS);
}

export class CenterMaskGpu extends FcosMaskedGpu<CenterMaskLayout> {
  private readonly roiAlign: RoiPoolerKernel;
  private readonly rescore: MaskRescoreKernel;
  private readonly paste: MaskPasteKernel;

  // Grown with M: the mask head's input. The per-class lists, keep flags, records and bit
  // masks are the base's.
  private maskFeatureBuffer: GPUBuffer | null = null;

  constructor(device: GPUDevice, manifest: ModelManifest, mask: { width: number; height: number }, options: MaskedDetectionGpuOptions = {}) {
    const layout = centerMaskLayout(manifest);
    super(device, manifest, mask, options, layout, { family: 'centerMask', className: 'CenterMaskGpu', stages: STAGES });
    this.roiAlign = createRoiAlign(device);
    this.rescore = createMaskRescore(device);
    this.paste = createMaskPaste(device);
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

  protected checkDetector(detector: Record<string, GPUBuffer | undefined>, capacity: number): void {
    this.checkBuffers(detector, [...CENTER_MASK_FPN, ...this.layout.levels.flatMap((l) => [l.cls, l.box, l.ctr])], capacity, 'detector');
  }

  /** Step 1 after the records (encodeDetections, the base's): the mask head's RoI features of the records (M rows, zeros past the count). */
  protected encodeOnRecords(encoder: GPUCommandEncoder, detector: Record<string, GPUBuffer>, records: GPUBuffer, frame: FcosEncodingFrame): FcosEncodingFrame {
    const { layout } = this;
    const { capacity } = frame;
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
    return frame;
  }

  /** Step 2 (no submit): rescoring by the predicted mask IoU, the detectron2 paste, compose, the read-back's staging. */
  encodeMasks(encoder: GPUCommandEncoder, maskLogits: GPUBuffer, maskIou: GPUBuffer): void {
    const frame = this.maskStepFrame();
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
        ...this.pasteOf(frame),
        numClasses,
        maskSize: config.maskSize,
        rowFromSource: true,
      },
      this.pass('masks', 'maskPaste'),
    );
    this.finishMasks(encoder, frame);
  }

  /** The mask head's input read back (parity tests: M·C·pool² f32). */
  async readMaskFeatures(): Promise<Float32Array> {
    if (!this.current) throw new Error('CenterMaskGpu: no frame encoded');
    const floats = centerMaskFloats(this.layout, this.current.capacity).maskFeatures!;
    return new Float32Array(await readBuffer(this.device, this.maskFeatures, 0, floats * 4));
  }

  protected override stageTimings(ms: Record<string, number>): Partial<StageTimings> {
    return { decode: ms.decode, nms: ms.nms, roi: ms.roi, masks: ms.masks };
  }

  override destroy(): void {
    for (const k of [this.roiAlign, this.rescore, this.paste]) k.destroy();
    this.maskFeatureBuffer?.destroy();
    super.destroy();
  }
}
