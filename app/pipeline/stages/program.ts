/**
 * A family's pipeline as data. A family (app/families/<family>/program.ts) declares its
 * frame as a short list of steps — an ONNX part, then our kernels, then maybe another ONNX
 * part, then kernels — each naming the tensors it reads and the tensors it publishes. One
 * runner (./stageRunner.ts) executes such a list on every path:
 *
 *   step        'webgpu'                      'wasm+gpu'                      'wasm'
 *   onnx        ORT WebGPU EP, GPU in/out     ORT wasm EP, CPU in/out         ORT wasm EP
 *   kernels     `encode` (WGSL, no submit)    `encode` on uploaded outputs    `reference` (TypeScript)
 *
 * Tensors move between the CPU and the GPU only where a step needs them on the other side
 * (./tensors.ts): 'wasm+gpu' uploads what ORT wrote on the CPU, and reads back what a
 * kernel step published for an ONNX part on the CPU (Mask R-CNN's RoI features), each
 * counted in the frame's figures. Nothing else about a family is known to the runner.
 *
 *   image ─► [onnx 'model'] ─► loc, conf, mask, proto … ─► [kernels 'postprocess'] ─► records
 *   image ─► [onnx 'backbone'] ─► [kernels 'proposals'] ─► boxFeatures ─► [onnx 'boxHead'] ─►
 *        classLogits, boxDeltas ─► [kernels 'detections'] ─► maskFeatures ─► [onnx 'maskHead']
 *        ─► maskLogits ─► [kernels 'masks'] ─► records
 *
 * The last step leaves the instances in the GPU side (`FamilyGpu.readResult`, the frame's one
 * read-back) or in the CPU side (`FamilyCpu.result`).
 */
import type { AuxiliaryMap, Detection, InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import type { InputTransform } from '../../gpu/layout';
import type { GpuReadResult } from '../../families/common/maskedDetectionGpu';

/** The name of the preprocessed image tensor, the first ONNX part's input. */
export const IMAGE = 'image';

/** A tensor on the CPU: f32 values (integer outputs converted exactly) and dims. */
export interface CpuTensor {
  data: Float32Array;
  dims: readonly number[];
}

/** A tensor on the GPU: a buffer (maybe larger than the dims say), its dims and element type. */
export interface GpuTensor {
  buffer: GPUBuffer;
  dims: readonly number[];
  /** ORT's element type ('float32', 'int64' …); 'float32' for our own buffers. */
  type: string;
}

/** What every step of a frame may read about it. */
export interface FrameContext {
  manifest: ModelManifest;
  settings: PostprocessSettings;
  /** Image → model input geometry of this frame (letterbox / stretch). */
  transform: InputTransform;
  /** The frame's size in pixels. */
  image: { width: number; height: number };
  /** The masks' resolution (the frame, capped: runner.ts `maskSize`). */
  mask: { width: number; height: number };
}

/** StageTimings fields a step's time may be added to. */
export type StageKey = keyof Omit<StageTimings, 'source' | 'total'>;

/** An ONNX part: one ORT session, one input. */
export interface OnnxStep {
  kind: 'onnx';
  /** Step name: 'model', 'backbone', 'boxHead', 'maskHead'. */
  name: string;
  /** The part as a manifest of its own (url, integrity, input name): what the session cache opens. */
  part: ModelManifest;
  /** The tensor it takes: IMAGE, or one an earlier step published. */
  input: string;
  /** Its outputs, published under their logical names: logical → ONNX output name. */
  outputs: Readonly<Record<string, string>>;
  /** The StageTimings field its wall time is added to ('inference', 'heads'). */
  timing: StageKey;
}

/**
 * Our kernels between ONNX parts. `encode` and `reference` are the same maths (the kernels
 * and their TypeScript references); each returns the tensors it publishes, if any.
 */
export interface KernelStep<G extends FamilyGpu = FamilyGpu, C extends FamilyCpu = FamilyCpu> {
  kind: 'kernels';
  /** Step name: 'postprocess', 'proposals', 'detections', 'masks'; the label of its submit. */
  name: string;
  /** The tensors it reads (published by earlier steps). */
  reads: readonly string[];
  /** The tensors it publishes (what `encode` and `reference` return), for the steps after it. */
  publishes: readonly string[];
  /** The StageTimings field a CPU run's wall time goes to when the reference does not time its stages. */
  timing: StageKey;
  /** GPU: encodes the kernels into `encoder` (the runner submits). */
  encode(gpu: G, encoder: GPUCommandEncoder, tensors: Readonly<Record<string, GpuTensor>>, frame: FrameContext): Record<string, GpuTensor> | void;
  /** CPU: the references of the same kernels. */
  reference(cpu: C, tensors: Readonly<Record<string, CpuTensor>>, frame: FrameContext): Record<string, CpuTensor> | void;
}

export type Step<G extends FamilyGpu = FamilyGpu, C extends FamilyCpu = FamilyCpu> = OnnxStep | KernelStep<G, C>;

/**
 * The GPU side of a model: its kernels and buffers, made once per (device, mask size) and
 * kept across frames; the kept instances' records, bit masks and overlay texture.
 */
export interface FamilyGpu {
  readonly overlayTexture: GPUTexture;
  /** The frame's one read-back: records (→ detections), candidate count, GPU stage timings. */
  readResult(): Promise<GpuReadResult>;
  /** The overlay as straight-alpha RGBA bytes `[maskH, maskW, 4]` (one read-back, PNG export). */
  readOverlay(): Promise<Uint8ClampedArray<ArrayBuffer>>;
  /** Redraws the overlay of the last frame (hover, hidden classes). */
  recompose(highlight: number | null, hiddenClasses: readonly number[]): void;
  readMasks(): Promise<InstanceMasks>;
  /** A new mask resolution, remaking only what depends on it; absent: a new GPU side is made. */
  resizeMask?(mask: { width: number; height: number }): void;
  destroy(): void;
}

/** The CPU side of one frame: what the references keep between steps, and the frame's instances. */
export interface FamilyCpu {
  /** Set by the last kernel step (with the model's auxiliary map when the pane asks for it). */
  result: { detections: Detection[]; masks: InstanceMasks; auxiliaryMap?: AuxiliaryMap } | null;
  /** Stage times the references measured themselves (added to the frame's timings). */
  timings: Partial<StageTimings>;
}

/** The overlay texture must hold premultiplied alpha: it is shown through a canvas with alphaMode 'premultiplied'. */
export interface FamilyGpuOptions {
  classColours: Uint32Array;
  style: { premultiplied: true };
}

/** A model's pipeline: its steps and how to make its GPU side and a frame's CPU side. */
export interface FamilyProgram<G extends FamilyGpu = FamilyGpu, C extends FamilyCpu = FamilyCpu> {
  steps: readonly Step<G, C>[];
  createGpu(device: GPUDevice, mask: { width: number; height: number }, options: FamilyGpuOptions): G;
  /**
   * Compiles, asynchronously, every pipeline `createGpu` (and the runner's preprocess) will
   * use, into the device's kernel cache (app/gpu/kernelCache.ts): the runner awaits it before
   * its first GPU side, so a model switch does not block the page and `createGpu` finds
   * its pipelines compiled.
   */
  warmGpu?(device: GPUDevice): Promise<void>;
  createCpu(): C;
}

/** The ONNX parts of a program, in order. */
export function onnxSteps(program: FamilyProgram): OnnxStep[] {
  return program.steps.filter((s): s is OnnxStep => s.kind === 'onnx');
}

/**
 * Checks that every step reads only tensors published before it (IMAGE first): a family's
 * list is refused at load, with the step and tensor named, rather than failing mid-frame.
 */
export function checkProgram(program: FamilyProgram, modelId: string): void {
  const { steps } = program;
  if (steps.length === 0 || steps[0]!.kind !== 'onnx') throw new Error(`${modelId}: a program starts with an ONNX part`);
  if (steps[steps.length - 1]!.kind !== 'kernels') throw new Error(`${modelId}: a program ends with kernels (the instances)`);
  const known = new Set<string>([IMAGE]);
  steps.forEach((step, i) => {
    const reads = step.kind === 'onnx' ? [step.input] : step.reads;
    for (const name of reads) {
      if (!known.has(name)) throw new Error(`${modelId}: step ${i + 1} (“${step.name}”) reads “${name}”, which no earlier step publishes`);
    }
    for (const name of step.kind === 'onnx' ? Object.keys(step.outputs) : step.publishes) known.add(name);
  });
}
