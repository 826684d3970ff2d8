/**
 * YOLO-seg post-processing on the GPU: output0 + protos (or an end-to-end export's
 * detections + protos) as GPU buffers → DetectionRecords, bit masks and the overlay
 * texture, with ONE small read-back a frame. The same API as YolactGpuPostprocessor, so
 * the family's program (./program.ts) drives either through `createGpuPostprocessor`.
 *
 *   (an fp16 export's outputs, a transposed output0: yoloSegLayout into f32 channel-major first)
 *   raw head:   yoloSegDecode → classTopK (best class only) → trimTopK → greedyNms | fastNms → detectionCap
 *   end-to-end: yoloSegEndToEnd                                          ('decode', 'nms')
 *   → maskCoefficients (integer crop, logits) → maskUpsample (> 0, letterbox undone)
 *   → composeOverlay                                                     ('masks')
 *   → copy records (+ resolved timestamps) into one staging buffer → readResult()
 *
 * The box chain is YOLO-seg's own; masks, read-back and recompose are shared with YOLACT
 * (../common/maskedDetectionGpu.ts). The CPU oracle of this chain is
 * `postprocessYoloSegReference` (reference.ts).
 */
import type { ModelManifest, PostprocessSettings } from '../../types';
import type { InputTransform } from '../../gpu/layout';
import { createStorageBuffer } from '../../gpu/buffers';
import { bestConfBytes, boxesBytes, candidatesBytes, createYoloSegDecode, YOLO_SEG_DECODE, type YoloSegDecodeKernel } from '../../gpu/kernels/yoloSegDecode';
import { createYoloSegEndToEnd, YOLO_SEG_END_TO_END, type YoloSegEndToEndKernel } from '../../gpu/kernels/yoloSegEndToEnd';
import { createYoloSegTrimTopK, YOLO_SEG_TRIM_TOP_K, type YoloSegTrimTopKKernel } from '../../gpu/kernels/yoloSegTrimTopK';
import { CLASS_TOP_K, createClassTopK, type ClassTopKKernel } from '../../gpu/kernels/classTopK';
import { createFastNms, FAST_NMS, type NmsKernel } from '../../gpu/kernels/fastNms';
import { createGreedyNms, GREEDY_NMS } from '../../gpu/kernels/greedyNms';
import { createDetectionCap, DETECTION_CAP, type DetectionCapKernel } from '../../gpu/kernels/detectionCap';
import { warmKernels, type KernelSource } from '../../gpu/kernelCache';
import { MaskedDetectionGpuPostprocessor, sharedGpuKernels, type MaskedDetectionGpuOptions } from '../common/maskedDetectionGpu';
import { confThresholdOf, yoloSegLayout, yoloSegOutputFloats, type YoloSegLayout } from './manifest';
import { effectiveSettings, yoloSegSpecFor } from './reference';
import { isTransposedHead } from './layout';
import { createYoloSegLayout, YOLO_SEG_LAYOUT, type YoloSegLayoutKernel, type YoloSegLayoutParams } from './layoutKernel';
import type { OutputShape } from '../common/oneStage';

export type { GpuReadResult } from '../common/maskedDetectionGpu';
export type YoloSegGpuOptions = MaskedDetectionGpuOptions;

/** Every kernel a YOLO-seg GPU side of this head uses (and the runner's preprocess). */
export function yoloSegGpuKernels(manifest: ModelManifest): KernelSource[] {
  const head =
    yoloSegLayout(manifest).head === 'raw' ? [YOLO_SEG_DECODE, CLASS_TOP_K, YOLO_SEG_TRIM_TOP_K, FAST_NMS, GREEDY_NMS, DETECTION_CAP] : [YOLO_SEG_END_TO_END];
  return [YOLO_SEG_LAYOUT, ...head, ...sharedGpuKernels(true)];
}

/** Compiles the pipelines of this model's head ahead of its first GPU side (asynchronously; app/gpu/kernelCache.ts). */
export function warmYoloSegGpu(device: GPUDevice, manifest: ModelManifest): Promise<void> {
  return warmKernels(device, yoloSegGpuKernels(manifest));
}

export class YoloSegGpuPostprocessor extends MaskedDetectionGpuPostprocessor {
  readonly layout: YoloSegLayout;

  // Raw head kernels (null for end-to-end exports) or the end-to-end kernel.
  private readonly decode: YoloSegDecodeKernel | null = null;
  private readonly topK: ClassTopKKernel | null = null;
  private readonly trimTopK: YoloSegTrimTopKKernel | null = null;
  private readonly fastNms: NmsKernel | null = null;
  private readonly greedyNms: NmsKernel | null = null;
  private readonly cap: DetectionCapKernel | null = null;
  private readonly endToEnd: YoloSegEndToEndKernel | null = null;
  // Raw head: boxes [N, 4], bestConf [N, C + 1], candidates.
  private readonly boxes: GPUBuffer | null = null;
  private readonly bestConf: GPUBuffer | null = null;
  private readonly candidates: GPUBuffer | null = null;
  // Outputs converted by yoloSegLayout (fp16 exports, a transposed output0), by logical name: made on first use.
  private readonly converted = new Map<string, { kernel: YoloSegLayoutKernel; buffer: GPUBuffer }>();

  constructor(device: GPUDevice, manifest: ModelManifest, mask: { width: number; height: number }, options: YoloSegGpuOptions = {}) {
    const layout = yoloSegLayout(manifest);
    super(
      device,
      manifest,
      mask,
      { family: 'yoloSeg', className: 'YoloSegGpuPostprocessor', numClasses: layout.numClasses, spec: yoloSegSpecFor(layout) },
      options,
    );
    this.layout = layout;
    const { numAnchors: n, numClasses: c } = layout;
    if (layout.head === 'raw') {
      this.decode = createYoloSegDecode(device);
      this.topK = createClassTopK(device);
      this.trimTopK = createYoloSegTrimTopK(device);
      this.fastNms = createFastNms(device);
      this.greedyNms = createGreedyNms(device);
      this.cap = createDetectionCap(device);
      this.boxes = createStorageBuffer(device, this.label('boxes'), boxesBytes(n));
      this.bestConf = createStorageBuffer(device, this.label('bestConf'), bestConfBytes(n, c));
      this.candidates = createStorageBuffer(device, this.label('candidates'), candidatesBytes(n));
    } else {
      this.endToEnd = createYoloSegEndToEnd(device);
    }
  }

  /**
   * The outputs in the layout the decoders read: each float16 output (an fp16 export) and a
   * transposed output0 ([1, N, 4+nc+32]) goes through yoloSegLayout into an f32 channel-major
   * buffer of this GPU side; the others are bound as they are. `shapes`: this frame's dims and
   * ORT types (absent: f32 in the manifest's layout).
   */
  private inDecoderLayout(
    encoder: GPUCommandEncoder,
    outputs: Record<string, GPUBuffer>,
    shapes: Record<string, OutputShape> | undefined,
  ): Record<string, GPUBuffer> {
    if (!shapes) return outputs;
    const floats = yoloSegOutputFloats(this.layout);
    const out = { ...outputs };
    for (const [name, count] of Object.entries(floats)) {
      const shape = shapes[name];
      const buffer = outputs[name];
      if (!shape || !buffer) continue;
      if (shape.type !== undefined && shape.type !== 'float32' && shape.type !== 'float16') {
        throw new Error(`YOLO-seg output “${name}” is ${shape.type}; float32 or float16 is read`);
      }
      const half = shape.type === 'float16';
      const transposed = name === 'output0' && isTransposedHead(shape.dims, this.layout.numClasses);
      if (!half && !transposed) continue;
      const rows =
        name === 'output0' ? 4 + this.layout.numClasses + this.layout.numPrototypes : name === 'protos' ? this.layout.numPrototypes : this.layout.numAnchors;
      const params: YoloSegLayoutParams = { rows, cols: count / rows, transposed, half };
      let slot = this.converted.get(name);
      if (!slot) {
        slot = {
          kernel: createYoloSegLayout(this.device, this.label(`layout.${name}`)),
          buffer: createStorageBuffer(this.device, this.label(`f32.${name}`), count * 4),
        };
        this.converted.set(name, slot);
      }
      slot.kernel.run(encoder, { src: buffer, dst: slot.buffer }, params, this.pass('decode', `layout.${name}`));
      out[name] = slot.buffer;
    }
    return out;
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
    shapes?: Record<string, OutputShape>,
  ): void {
    const { topK, scoreThreshold, maxDetections: capacity } = effectiveSettings(settings);
    const records = this.beginFrame(capacity);
    const out = this.checkOutputs(this.inDecoderLayout(encoder, outputs, shapes));
    const { numAnchors, numClasses, inputWidth, inputHeight } = this.layout;
    const confThreshold = confThresholdOf(this.manifest);

    if (this.layout.head === 'raw') {
      this.ensureTopK(topK);
      const top = { topIndices: this.topIndices!, topScores: this.topScores!, topCounts: this.topCounts! };
      this.decode!.run(
        encoder,
        { output0: out.output0!, boxes: this.boxes!, bestConf: this.bestConf!, candidates: this.candidates! },
        { numAnchors, numClasses, confThreshold, inputWidth, inputHeight },
        this.pass('decode', 'decode'),
      );
      const classLists = this.classLists!;
      // Only entries at or above the display threshold are ranked (the cap drops the others).
      this.topK!.run(
        encoder,
        { conf: this.bestConf!, candidates: this.candidates!, ...top, classLists },
        { numPriors: numAnchors, numClasses, topK, minScore: scoreThreshold },
        this.pass('nms', 'classTopK'),
      );
      this.trimTopK!.run(encoder, { topScores: top.topScores, topCounts: top.topCounts }, { numClasses, topK }, this.pass('nms', 'trimTopK'));
      const nms = settings.nmsKind === 'fast' ? this.fastNms! : this.greedyNms!;
      nms.run(
        encoder,
        { boxes: this.boxes!, topIndices: top.topIndices, topCounts: top.topCounts, keep: this.keep!, classLists },
        { numClasses, topK, nmsIou: settings.nmsIou },
        this.pass('nms', `${settings.nmsKind}Nms`),
      );
      this.cap!.run(
        encoder,
        { boxes: this.boxes!, candidates: this.candidates!, ...top, keep: this.keep!, records },
        { numClasses, topK, maxDetections: capacity, scoreThreshold },
        this.pass('nms', 'detectionCap'),
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
        this.pass('decode', 'endToEnd'),
      );
    }
    const coefficients = this.layout.head === 'raw' ? out.output0! : out.detections!;
    this.encodeMasksAndReadback(encoder, { coefficients, protos: out.protos! }, transform, image, capacity);
  }

  override destroy(): void {
    for (const k of [this.decode, this.topK, this.trimTopK, this.fastNms, this.greedyNms, this.cap, this.endToEnd]) k?.destroy();
    for (const b of [this.boxes, this.bestConf, this.candidates]) b?.destroy();
    for (const { kernel, buffer } of this.converted.values()) {
      kernel.destroy();
      buffer.destroy();
    }
    this.converted.clear();
    super.destroy();
  }
}

/** The GPU side of the family's program (./program.ts, ../common/oneStage.ts). */
export function createGpuPostprocessor(
  device: GPUDevice,
  manifest: ModelManifest,
  mask: { width: number; height: number },
  options?: YoloSegGpuOptions,
): YoloSegGpuPostprocessor {
  return new YoloSegGpuPostprocessor(device, manifest, mask, options);
}
