/**
 * The GPU side both FCOS families (CenterMask, BlendMask / B2Inst) share: a post-processor
 * (../common/maskedDetectionGpu.ts, `spec: null`) whose frame is encoded in two steps with an
 * ONNX part between them:
 *
 *   encodeDetections(detector)  the FCOS box chain (./fcosBoxChain.ts) → records        ('decode', 'nms')
 *                               → the family's kernels on the records (`encodeOnRecords`)
 *     … the family's ONNX part …
 *   encodeMasks(…)              the family's; `maskStepFrame()` first, `finishMasks()` last
 *   readResult()                the one mapAsync of the frame
 *
 * M (the pane's maxDetections) is fixed for a frame: padded rows are zeros.
 */
import type { ModelManifest, PostprocessSettings } from '../../types';
import type { InputTransform } from '../../gpu/layout';
import {
  MaskedDetectionGpuPostprocessor,
  type ExtraReadback,
  type GpuReadResult,
  type MaskedDetectionGpuOptions,
  type MaskedDetectionSetup,
} from './maskedDetectionGpu';
import { effectiveTopK, fcosFrameRows, type FcosHeadLayout } from './fcos';
import { FcosBoxChain } from './fcosBoxChain';

/** A frame between its two steps (the mask step refers to it; the base keeps the finished one). */
export interface FcosEncodingFrame {
  transform: InputTransform;
  image: { width: number; height: number };
  /** M: the rows of the records and of the family's kernels after them. */
  capacity: number;
  settings: PostprocessSettings;
}

export abstract class FcosMaskedGpu<L extends FcosHeadLayout, F extends FcosEncodingFrame = FcosEncodingFrame> extends MaskedDetectionGpuPostprocessor {
  readonly layout: L;
  /** FCOS decode → top-k → NMS → cap, with the decode's boxes, conf and candidates. */
  private readonly fcos: FcosBoxChain;
  private readonly gpuName: string;
  /** The frame being encoded. */
  protected current: F | null = null;
  private step: 'idle' | 'detections' | 'masks' = 'idle';

  /** `family`, `className`, `stages`: the base's (MaskedDetectionSetup); no proto-space masks (`spec: null`). */
  protected constructor(
    device: GPUDevice,
    manifest: ModelManifest,
    mask: { width: number; height: number },
    options: MaskedDetectionGpuOptions,
    layout: L,
    setup: Pick<MaskedDetectionSetup, 'family' | 'className' | 'stages'>,
  ) {
    super(device, manifest, mask, { ...setup, numClasses: layout.numClasses, spec: null }, options);
    this.layout = layout;
    this.gpuName = setup.className;
    this.fcos = new FcosBoxChain(device, layout, (name) => this.label(name));
  }

  /** Refuses detector outputs that are missing or too small for a frame of `capacity` rows. */
  protected abstract checkDetector(detector: Record<string, GPUBuffer | undefined>, capacity: number): void;

  /** The family's kernels on the frame's records (no submit); returns the frame the mask step continues. */
  protected abstract encodeOnRecords(encoder: GPUCommandEncoder, detector: Record<string, GPUBuffer>, records: GPUBuffer, frame: FcosEncodingFrame): F;

  /**
   * Step 1 (no submit): FCOS decode, per-class top-k, NMS and the cap → records (M =
   * maxDetections rows), then the family's kernels on them.
   */
  encodeDetections(
    encoder: GPUCommandEncoder,
    detector: Record<string, GPUBuffer>,
    settings: PostprocessSettings,
    transform: InputTransform,
    image: { width: number; height: number },
  ): void {
    const capacity = fcosFrameRows(settings);
    this.checkDetector(detector, capacity);
    const records = this.beginFrame(capacity);
    this.clearFrame(); // no recompose of the last frame while its records are rewritten
    this.ensureTopK(effectiveTopK(settings));
    const lists = { topIndices: this.topIndices!, topScores: this.topScores!, topCounts: this.topCounts!, keep: this.keep!, classLists: this.classLists! };
    this.fcos.encode(encoder, detector, settings, { ...lists, records }, capacity, (stage, name) => this.pass(stage, name));
    this.current = this.encodeOnRecords(encoder, detector, records, { transform, image: { ...image }, capacity, settings: { ...settings } });
    this.step = 'detections';
  }

  /** Start of step 2: the frame encodeDetections left (refused before it). */
  protected maskStepFrame(): F {
    if (this.step !== 'detections' || !this.current) throw new Error(`${this.gpuName}: encodeMasks() before encodeDetections()`);
    return this.current;
  }

  /** maskPaste's params of the frame but the family's: detectron2's paste of its rows into the image's mask. */
  protected pasteOf(frame: FcosEncodingFrame) {
    return { transform: frame.transform, image: frame.image, mask: this.mask, maxDetections: frame.capacity, mode: 'detectron2' as const, classOffset: 0 };
  }

  /** End of step 2, once the bit masks hold the frame: compose and the read-back's staging (+ `extras`). */
  protected finishMasks(encoder: GPUCommandEncoder, frame: F, extras: readonly ExtraReadback[] = []): void {
    this.finishFrame(encoder, frame.transform, frame.image, frame.capacity, extras);
    this.step = 'masks';
  }

  override async readResult(): Promise<GpuReadResult> {
    if (this.step !== 'masks') throw new Error(`${this.gpuName}: readResult() before encodeMasks()`);
    return super.readResult();
  }

  override destroy(): void {
    this.fcos.destroy();
    super.destroy();
  }
}
