/**
 * YOLACT post-processing on the GPU: the five raw outputs (GPU buffers: ORT's own on the
 * 'webgpu' path, uploaded ones on 'wasm+gpu') → DetectionRecords, bit masks and the
 * overlay texture, with ONE small read-back a frame.
 *
 *   yolactDecode → classTopK → fastNms | greedyNms → detectionCap      ('decode', 'nms')
 *   (classTopK ranks only scores ≥ the display threshold; NMS runs for the classes that
 *   have any, from classTopK's classLists)
 *   → maskCoefficients → maskUpsample → composeOverlay                  ('masks')
 *   → copy records (+ resolved timestamps) into one staging buffer → readResult()
 *
 * Made once per (device, model, mask size): pipelines, uniforms and intermediate buffers
 * live here; buffers that depend on settings (topK, maxDetections) grow when needed. The
 * box chain is YOLACT's own; masks, read-back and recompose are shared with YOLO-seg
 * (../common/maskedDetectionGpu.ts). The CPU oracle of this chain is
 * `postprocessYolactReference` (reference.ts).
 */
import type { ModelManifest, PostprocessSettings } from '../../types';
import type { InputTransform } from '../../gpu/layout';
import { createStorageBuffer } from '../../gpu/buffers';
import { boxesBytes, candidatesBytes, createYolactDecode, YOLACT_DECODE, type YolactDecodeKernel } from '../../gpu/kernels/yolactDecode';
import { CLASS_TOP_K, createClassTopK, MAX_TOP_K, type ClassTopKKernel } from '../../gpu/kernels/classTopK';
import { createFastNms, FAST_NMS, type NmsKernel } from '../../gpu/kernels/fastNms';
import { createGreedyNms, GREEDY_NMS } from '../../gpu/kernels/greedyNms';
import { createDetectionCap, DETECTION_CAP, type DetectionCapKernel } from '../../gpu/kernels/detectionCap';
import { warmKernels, type KernelSource } from '../../gpu/kernelCache';
import { yolactMaskSpec } from '../../reference/maskAssembly';
import { MaskedDetectionGpuPostprocessor, sharedGpuKernels, type MaskedDetectionGpuOptions } from '../common/maskedDetectionGpu';
import { confThresholdOf, yolactLayout, yolactOutputFloats, YOLACT_OUTPUTS, type YolactLayout } from './manifest';

export type { GpuReadResult } from '../common/maskedDetectionGpu';
export type YolactOutputBuffers = Record<(typeof YOLACT_OUTPUTS)[number], GPUBuffer>;
export type YolactGpuOptions = MaskedDetectionGpuOptions;

/** Every kernel a YOLACT GPU side (and the runner's preprocess) uses: what `warmYolactGpu` compiles. */
export const YOLACT_GPU_KERNELS: readonly KernelSource[] = [YOLACT_DECODE, CLASS_TOP_K, FAST_NMS, GREEDY_NMS, DETECTION_CAP, ...sharedGpuKernels(true)];

/** Compiles YOLACT's pipelines ahead of its first GPU side (asynchronously; app/gpu/kernelCache.ts). */
export function warmYolactGpu(device: GPUDevice): Promise<void> {
  return warmKernels(device, YOLACT_GPU_KERNELS);
}

export class YolactGpuPostprocessor extends MaskedDetectionGpuPostprocessor {
  readonly layout: YolactLayout;

  private readonly decode: YolactDecodeKernel;
  private readonly topK: ClassTopKKernel;
  private readonly fastNms: NmsKernel;
  private readonly greedyNms: NmsKernel;
  private readonly cap: DetectionCapKernel;
  // [N, 4] decoded boxes and the candidate list (priors above the confidence threshold).
  private readonly boxes: GPUBuffer;
  private readonly candidates: GPUBuffer;

  constructor(device: GPUDevice, manifest: ModelManifest, mask: { width: number; height: number }, options: YolactGpuOptions = {}) {
    const layout = yolactLayout(manifest);
    super(
      device,
      manifest,
      mask,
      {
        family: 'yolact',
        className: 'YolactGpuPostprocessor',
        numClasses: layout.numClasses,
        spec: yolactMaskSpec(layout.protoWidth, layout.protoHeight, layout.numPrototypes),
      },
      options,
    );
    this.layout = layout;
    this.decode = createYolactDecode(device);
    this.topK = createClassTopK(device);
    this.fastNms = createFastNms(device);
    this.greedyNms = createGreedyNms(device);
    this.cap = createDetectionCap(device);
    const n = layout.numPriors;
    this.boxes = createStorageBuffer(device, this.label('boxes'), boxesBytes(n));
    this.candidates = createStorageBuffer(device, this.label('candidates'), candidatesBytes(n));
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
    const capacity = Math.max(1, Math.floor(settings.maxDetections));
    const records = this.beginFrame(capacity);
    const out = this.checkOutputs(outputs);
    const topK = Math.max(1, Math.min(MAX_TOP_K, Math.floor(settings.topK)));
    this.ensureTopK(topK);
    const { numPriors, numClasses } = this.layout;
    const top = { topIndices: this.topIndices!, topScores: this.topScores!, topCounts: this.topCounts! };
    const classLists = this.classLists!;

    this.decode.run(
      encoder,
      { loc: out.loc, conf: out.conf, priors: out.priors, boxes: this.boxes, candidates: this.candidates },
      { numPriors, numClasses, confThreshold: confThresholdOf(this.manifest) },
      this.pass('decode', 'decode'),
    );
    // Only entries at or above the display threshold are ranked (the cap drops the others).
    this.topK.run(
      encoder,
      { conf: out.conf, candidates: this.candidates, ...top, classLists },
      { numPriors, numClasses, topK, minScore: settings.scoreThreshold },
      this.pass('nms', 'classTopK'),
    );
    const nms = settings.nmsKind === 'greedy' ? this.greedyNms : this.fastNms;
    nms.run(
      encoder,
      { boxes: this.boxes, topIndices: top.topIndices, topCounts: top.topCounts, keep: this.keep!, classLists },
      { numClasses, topK, nmsIou: settings.nmsIou },
      this.pass('nms', `${settings.nmsKind}Nms`),
    );
    this.cap.run(
      encoder,
      { boxes: this.boxes, candidates: this.candidates, ...top, keep: this.keep!, records },
      { numClasses, topK, maxDetections: capacity, scoreThreshold: settings.scoreThreshold },
      this.pass('nms', 'detectionCap'),
    );
    this.encodeMasksAndReadback(encoder, { coefficients: out.mask, protos: out.proto }, transform, image, capacity);
  }

  override destroy(): void {
    for (const k of [this.decode, this.topK, this.fastNms, this.greedyNms, this.cap]) k.destroy();
    for (const b of [this.boxes, this.candidates]) b.destroy();
    super.destroy();
  }
}

/** The GPU side of the family's program (./program.ts, ../common/oneStage.ts). */
export function createGpuPostprocessor(
  device: GPUDevice,
  manifest: ModelManifest,
  mask: { width: number; height: number },
  options?: YolactGpuOptions,
): YolactGpuPostprocessor {
  return new YolactGpuPostprocessor(device, manifest, mask, options);
}
