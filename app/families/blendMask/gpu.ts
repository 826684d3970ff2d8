/**
 * BlendMask and B2Inst on the GPU: `BlendMaskGpu`, the WGSL after the detector part (the steps
 * of ./program.ts, run by the one runner, app/pipeline/stages/):
 *
 *   encodeDetections(detector)  fcosDecode → classTopK → fastNms | greedyNms → detectionCap   ('decode', 'nms')
 *                                 (the base's, ../common/fcosMaskedGpu.ts: the FCOS box chain)
 *                               → blender: mask logits [M, R, R]                            ('masks')
 *                               B2Inst: → RoIAlign of the bases to R×R → boundaryMap
 *                                 → scoringFeatures [M, 2 + K, R, R]                        ('roi')
 *     … B2Inst's scoring head: scoringFeatures → qualities [M, 2] (S_IoU, S_boundary) …
 *   encodeMasks(qualities | null)  B2Inst: maskRescore; maskPaste (detectron2, class-agnostic)
 *                               → compose → records (+ qualities, + the boundary basis when
 *                               the pane shows it, + timestamps) into ONE staging buffer   ('masks')
 *   readResult()                the one mapAsync of the frame
 *
 * M (the pane's maxDetections) is fixed for a frame: padded rows are zeros, go through the
 * scoring head and are ignored. The two steps' frame, the FCOS box chain, records, bit masks,
 * compose, read-back and recompose are the shared bases (../common/fcosMaskedGpu.ts,
 * ../common/maskedDetectionGpu.ts, `spec: null`). CPU oracle: ./reference.ts.
 */
import type { ModelManifest, StageTimings } from '../../types';
import { createStorageBuffer } from '../../gpu/buffers';
import { BLENDER, blenderLogitsBytes, createBlender, nchwAttention, type BlenderKernel } from '../../gpu/kernels/blender';
import { createRoiAlign, recordsRoiSource, ROI_ALIGN, roiFeaturesBytes, type RoiPoolerKernel } from '../../gpu/kernels/roiAlign';
import { BOUNDARY_MAP, boundaryMapBytes, createBoundaryMap, type BoundaryMapKernel } from '../../gpu/kernels/boundaryMap';
import { createMaskRescore, MASK_RESCORE, type MaskRescoreKernel } from '../../gpu/kernels/maskRescore';
import { createMaskPaste, MASK_PASTE, type MaskPasteKernel } from '../../gpu/kernels/maskPaste';
import { warmKernels, type KernelSource } from '../../gpu/kernelCache';
import { sigmoidF32 } from '../../reference/fcosDecode';
import { sharedGpuKernels, type ExtraReadback, type MaskedDetectionGpuOptions } from '../common/maskedDetectionGpu';
import { FCOS_BOX_CHAIN_KERNELS } from '../common/fcosBoxChain';
import { FcosMaskedGpu, type FcosEncodingFrame } from '../common/fcosMaskedGpu';
import { blendMaskFloats, blendMaskLayout, rescoreQuality, scoringChannels, type BlendMaskLayout } from './manifest';
import { boundaryAuxiliaryMap, qualitiesOf } from './reference';

/** Timestamp spans of the chain (a span must not straddle the scoring head's submit). */
const STAGES = ['decode', 'nms', 'blend', 'roi', 'rescore', 'masks'] as const;

/** Every kernel a BlendMask / B2Inst GPU side uses (and the runner's preprocess): what `warmBlendMaskGpu` compiles. */
export const BLEND_MASK_GPU_KERNELS: KernelSource[] = [
  ...FCOS_BOX_CHAIN_KERNELS,
  BLENDER,
  ROI_ALIGN,
  BOUNDARY_MAP,
  MASK_RESCORE,
  MASK_PASTE,
  ...sharedGpuKernels(false),
];

export function warmBlendMaskGpu(device: GPUDevice): Promise<void> {
  return warmKernels(device, BLEND_MASK_GPU_KERNELS);
}

interface EncodingFrame extends FcosEncodingFrame {
  /** The detector's bases buffer (the boundary basis is read from it when shown). */
  bases: GPUBuffer;
}

export class BlendMaskGpu extends FcosMaskedGpu<BlendMaskLayout, EncodingFrame> {
  private readonly blender: BlenderKernel;
  private readonly paste: MaskPasteKernel;
  // B2Inst only.
  private readonly roiAlign: RoiPoolerKernel | null;
  private readonly boundary: BoundaryMapKernel | null;
  private readonly rescore: MaskRescoreKernel | null;

  // Grown with M: the blender's logits, B2Inst's RoI'd bases and scoring features.
  private rows = 0;
  private logits: GPUBuffer | null = null;
  private roiBases: GPUBuffer | null = null;
  private scoring: GPUBuffer | null = null;

  constructor(device: GPUDevice, manifest: ModelManifest, mask: { width: number; height: number }, options: MaskedDetectionGpuOptions = {}) {
    const layout = blendMaskLayout(manifest);
    super(device, manifest, mask, options, layout, { family: 'blendMask', className: 'BlendMaskGpu', stages: STAGES });
    this.blender = createBlender(device);
    this.paste = createMaskPaste(device);
    this.roiAlign = layout.b2inst ? createRoiAlign(device) : null;
    this.boundary = layout.b2inst ? createBoundaryMap(device) : null;
    this.rescore = layout.b2inst ? createMaskRescore(device) : null;
  }

  /** The scoring head's input [M, 2 + K, R, R] (B2Inst, valid after encodeDetections). */
  get scoringFeatures(): GPUBuffer {
    if (!this.scoring) throw new Error('BlendMaskGpu: no scoring features (not a B2Inst, or no frame encoded)');
    return this.scoring;
  }

  /** Bytes of the boundary basis plane (f32 [Hb, Wb]). */
  private get basisPlaneBytes(): number {
    return 4 * this.layout.basisWidth * this.layout.basisHeight;
  }

  protected override extraReadbackCapacity(maxDetections: number): number {
    if (!this.layout.b2inst) return 0;
    return 8 * maxDetections + (this.layout.config.boundaryBasisIndex !== null ? this.basisPlaneBytes : 0);
  }

  private ensureRows(rows: number): void {
    if (rows <= this.rows && this.logits) return;
    for (const b of [this.logits, this.roiBases, this.scoring]) b?.destroy();
    const { config, numBases } = this.layout;
    const r = config.blendSize;
    this.logits = createStorageBuffer(this.device, this.label('maskLogits'), blenderLogitsBytes(rows, r));
    if (this.layout.b2inst) {
      this.roiBases = createStorageBuffer(this.device, this.label('roiBases'), roiFeaturesBytes(rows, numBases, r));
      this.scoring = createStorageBuffer(this.device, this.label('scoringFeatures'), boundaryMapBytes(rows, scoringChannels(this.layout), r));
    }
    this.rows = rows;
  }

  protected checkDetector(buffers: Record<string, GPUBuffer | undefined>): void {
    const floats = blendMaskFloats(this.layout);
    for (const [name, n] of Object.entries(floats)) {
      const b = buffers[name];
      if (!b) throw new Error(`BlendMask detector: no “${name}” buffer`);
      if (b.size < n * 4) throw new Error(`BlendMask detector “${name}” has ${b.size} bytes; ${this.manifest.id} needs ${n * 4}`);
    }
  }

  /**
   * Step 1 after the records (encodeDetections, the base's): the blender's logits of the
   * records (M = maxDetections rows); B2Inst: the scoring head's input.
   */
  protected encodeOnRecords(encoder: GPUCommandEncoder, detector: Record<string, GPUBuffer>, records: GPUBuffer, frame: FcosEncodingFrame): EncodingFrame {
    const { layout } = this;
    const { config } = layout;
    const { capacity } = frame;
    this.ensureRows(capacity);
    const input = { width: layout.inputWidth, height: layout.inputHeight };
    const bases = detector.bases!;
    this.blender.run(
      encoder,
      {
        records,
        bases,
        attention: layout.levels.map((l) => nchwAttention(detector[l.attention]!, l.first, l.height, l.width)),
        logits: this.logits!,
      },
      {
        maxDetections: capacity,
        numBases: layout.numBases,
        basisHeight: layout.basisHeight,
        basisWidth: layout.basisWidth,
        outSize: config.blendSize,
        attnSize: config.attnSize,
        input,
        spatialScale: config.spatialScale,
      },
      this.pass('blend', 'blender'),
    );
    if (this.roiAlign && this.boundary) {
      const r = config.blendSize;
      this.roiAlign.run(
        encoder,
        { rois: recordsRoiSource(records, input), features: [bases], output: this.roiBases! },
        {
          numRois: capacity,
          channels: layout.numBases,
          outSize: r,
          levelSizes: [[layout.basisHeight, layout.basisWidth]],
          spatialScales: [config.spatialScale],
          samplingRatio: config.samplingRatio,
          aligned: config.aligned,
          canonicalScale: 224,
          canonicalLevel: 4,
          minLevel: 3,
          maxLevel: 3,
        },
        this.pass('roi', 'roiAlign'),
      );
      this.boundary.run(
        encoder,
        { records, maskLogits: this.logits!, roiFeatures: this.roiBases!, output: this.scoring! },
        { maxDetections: capacity, maskSize: r, outSize: r, channels: layout.numBases, source: 'probability', binarise: false },
        this.pass('roi', 'boundaryMap'),
      );
    }
    return { ...frame, bases };
  }

  /**
   * Step 2 (no submit): B2Inst's rescoring by (S_IoU, S_boundary), the class-agnostic
   * detectron2 paste of the blended masks, compose, and the read-back's staging.
   */
  encodeMasks(encoder: GPUCommandEncoder, qualities: GPUBuffer | null): void {
    const frame = this.maskStepFrame();
    const { layout } = this;
    if (layout.b2inst !== (qualities !== null))
      throw new Error(`BlendMaskGpu: ${layout.b2inst ? 'B2Inst needs its scoring head’s scores' : 'BlendMask has no scoring head'}`);
    if (qualities && qualities.size < 8 * frame.capacity)
      throw new Error(`BlendMask scoring head: “scores” has ${qualities.size} bytes; ${8 * frame.capacity} needed`);
    const records = this.records!;
    if (qualities && this.rescore) {
      this.rescore.run(
        encoder,
        { records, maskIou: qualities },
        {
          numClasses: layout.numClasses,
          maxDetections: frame.capacity,
          quality: rescoreQuality(layout, frame.settings),
          scoreThreshold: Math.max(0, frame.settings.scoreThreshold),
        },
        this.pass('rescore', 'maskRescore'),
      );
    }
    this.paste.run(
      encoder,
      { records, maskLogits: this.logits!, maskBits: this.maskBits! },
      {
        ...this.pasteOf(frame),
        numClasses: layout.numClasses,
        maskSize: layout.config.blendSize,
        rowFromSource: qualities !== null,
        classAgnostic: true,
      },
      this.pass('masks', 'maskPaste'),
    );
    const extras: ExtraReadback[] = [];
    if (qualities) {
      extras.push({
        buffer: qualities,
        offset: 0,
        bytes: 8 * frame.capacity,
        read: (bytes, result) => {
          const q = new Float32Array(bytes);
          result.detections.forEach((d, i) => (d.qualities = qualitiesOf(q, result.records[i]!.sourceIndex)));
        },
      });
    }
    const index = layout.config.boundaryBasisIndex;
    if (frame.settings.showAuxiliaryMap === true && index !== null && layout.b2inst) {
      extras.push({
        buffer: frame.bases,
        offset: index * this.basisPlaneBytes,
        bytes: this.basisPlaneBytes,
        read: (bytes, result) => {
          result.auxiliaryMap = boundaryAuxiliaryMap(
            Float32Array.from(new Float32Array(bytes), (v) => sigmoidF32(v)),
            layout,
            frame.transform,
          );
        },
      });
    }
    this.finishMasks(encoder, frame, extras);
  }

  protected override stageTimings(ms: Record<string, number>): Partial<StageTimings> {
    return { decode: ms.decode, nms: ms.nms, roi: ms.roi, masks: (ms.blend ?? 0) + (ms.rescore ?? 0) + (ms.masks ?? 0) };
  }

  override destroy(): void {
    for (const k of [this.blender, this.paste, this.roiAlign, this.boundary, this.rescore]) k?.destroy();
    for (const b of [this.logits, this.roiBases, this.scoring]) b?.destroy();
    super.destroy();
  }
}
