/**
 * The one runner: a family's program (./program.ts) on one execution path. Every family —
 * YOLACT, YOLO-seg, Mask R-CNN (exports and our two-stage parts) — is a list of steps for
 * it; adding a family adds a program and a registry line (app/families/registry.ts), never
 * a code path here.
 *
 * A frame:
 *   1. the image tensor: 'webgpu' — the frame texture (one upload a frame, shared by
 *      panes) → our preprocess kernel → the first part's input buffer; the CPU paths — the
 *      frame's pixels → the preprocess reference;
 *   2. the steps in order: ONNX parts on ORT (WebGPU EP with GPU buffers in and out, or the
 *      wasm EP with CPU tensors), kernel steps encoded and submitted (GPU paths) or their
 *      references run ('wasm'); tensors cross between CPU and GPU only where a step needs
 *      them on the other side (./tensors.ts), counted;
 *   3. the instances: the GPU side's one read-back of the records (+ timestamps), the
 *      overlay drawn into the pane's WebGPU canvas (or read back, ./overlay.ts); on 'wasm'
 *      the compose reference → ImageBitmap.
 *
 * Every GPU section runs in error scopes (app/gpu/errorScope.ts), checked before the
 * result is trusted. The ONNX parts' times are wall times up to ORT's return (on the WebGPU
 * EP: its work submitted, not finished; the GPU time it takes lands in the next wait, the
 * read-back). Sessions stay held to the end of a frame even if the runner is disposed meanwhile.
 */
import { gpuScoped } from '../../gpu/errorScope';
import type { InputTransform } from '../../gpu/layout';
import { createPreprocess, tensorBytes, type PreprocessKernel } from '../../gpu/kernels/preprocess';
import { preprocessReference } from '../../reference/preprocess';
import { familyProgram } from '../../families/registry';
import type { ExecutionPath, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import { Frame } from '../frame';
import { ort } from '../ort';
import { maskSize, type OverlayView, type PaneRunner, type RunnerContext, type RunOutput } from '../runner';
import { acquireSession, serialized, useAll, type SessionHandle } from '../sessions';
import { CpuOverlay, GpuOverlay, gpuSerialized, OverlayRunner, paneOutput, type PaneOverlay } from './overlay';
import { asFloat32, inputDims } from './onnx';
import { addTime, runPartTimed, runStepsOnCpu, runStepsOnGpu, type PartRunner } from './execute';
import { checkProgram, IMAGE, onnxSteps, type FamilyCpu, type FamilyGpu, type FamilyProgram, type FrameContext, type OnnxStep, type StageKey } from './program';
import { FrameTensors, UploadBuffers, type Scoped } from './tensors';

/** Creates the runner of a (path, model). */
export async function createRunner(path: ExecutionPath, manifest: ModelManifest, ctx: RunnerContext): Promise<PaneRunner> {
  if (path !== 'wasm' && !ctx.device) throw new Error(`the ${path} path needs a GPU device`);
  const program = await familyProgram(manifest);
  checkProgram(program, manifest.id);
  const device = path === 'wasm' ? null : ctx.device;
  const ep = path === 'webgpu' ? 'webgpu' : 'wasm';
  const handles: SessionHandle[] = [];
  try {
    // One after the other: the session cache creates one at a time anyway.
    for (const step of onnxSteps(program)) handles.push(await acquireSession(step.part, ep, ep === 'webgpu' ? device : null));
    return new StageRunner(path, manifest, program, handles, device, ctx);
  } catch (err) {
    // A part that fails to load gives back the parts already loaded.
    for (const h of handles) h.release();
    throw err;
  }
}

/** GPU stages that a read-back's wait includes (all but the CPU-side figures). */
const GPU_STAGES = ['rpn', 'roi', 'decode', 'nms', 'masks'] as const;

export class StageRunner extends OverlayRunner implements PaneRunner {
  protected override readonly overlay: PaneOverlay;
  private readonly cpuOverlay: CpuOverlay | null = null;
  private readonly gpuOverlay: GpuOverlay<FamilyGpu> | null = null;
  private readonly sessions = new Map<OnnxStep, ort.InferenceSession>();
  private readonly uploads: UploadBuffers | null = null;
  private preprocess: PreprocessKernel | null = null;
  private inputBuffer: GPUBuffer | null = null;
  private emptyBuffer: GPUBuffer | null = null;

  constructor(
    readonly path: ExecutionPath,
    readonly manifest: ModelManifest,
    private readonly program: FamilyProgram,
    private readonly handles: readonly SessionHandle[],
    private readonly device: GPUDevice | null,
    ctx: RunnerContext,
  ) {
    super();
    onnxSteps(program).forEach((step, i) => this.sessions.set(step, handles[i]!.session));
    if (device) {
      // Without a pane (bench), there is no canvas: the overlay is read back.
      this.gpuOverlay = new GpuOverlay(device, manifest, ctx.paneKey, ctx.paneKey < 0 ? 'readback' : ctx.overlayMode, (d, mask, options) =>
        program.createGpu(d, mask, options),
      );
      this.overlay = this.gpuOverlay;
      if (path === 'wasm+gpu') this.uploads = new UploadBuffers(device, `${manifest.id}.uploads`);
    } else {
      this.cpuOverlay = new CpuOverlay(manifest);
      this.overlay = this.cpuOverlay;
    }
  }

  run(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput> {
    return useAll(this.handles, () => this.runFrame(frame, settings, view));
  }

  private async runFrame(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput> {
    const t0 = performance.now();
    const device = this.device;
    const mask = maskSize(frame.width, frame.height);
    const checks: Promise<void>[] = [];
    const scoped = <T>(where: string, fn: () => T): T => {
      if (!device) return fn();
      const { value, checked } = gpuScoped(device, `${this.manifest.id}.${where}`, fn);
      checks.push(checked);
      return value;
    };
    const tensors = new FrameTensors(device, this.uploads, scoped);
    const timings: Partial<StageTimings> = {};
    const release: Array<() => void> = [];
    try {
      const transform = this.imageTensor(frame, tensors, timings, scoped);
      const ctx: FrameContext = { manifest: this.manifest, settings, transform, image: { width: frame.width, height: frame.height }, mask };
      const steps = this.program.steps;
      const firstKernels = steps.findIndex((s) => s.kind === 'kernels');
      const runPart = (step: OnnxStep, t: FrameTensors) => this.runOnnx(step, t, release);
      // The ONNX parts before the first kernel step run outside the GPU section (./overlay.ts gpuSerialized).
      for (const step of steps.slice(0, firstKernels)) await runPartTimed(step as OnnxStep, tensors, runPart, timings);
      const rest = steps.slice(firstKernels);
      return this.gpuOverlay
        ? await this.finishOnGpu(this.gpuOverlay, rest, tensors, ctx, timings, runPart, checks, scoped, view, frame, t0)
        : await this.finishOnCpu(this.cpuOverlay!, rest, tensors, ctx, timings, runPart, view, frame, t0);
    } finally {
      for (const r of release) r();
    }
  }

  /** Step 1: the image tensor the first ONNX part takes, and the image → input geometry. */
  private imageTensor(frame: Frame, tensors: FrameTensors, timings: Partial<StageTimings>, scoped: Scoped): InputTransform {
    const input = this.manifest.input;
    const t0 = performance.now();
    if (this.path !== 'webgpu') {
      const px = frame.pixels();
      const pre = preprocessReference(px.data, px.width, px.height, input);
      tensors.putCpu(IMAGE, { data: pre.tensor, dims: inputDims(input) });
      timings.preprocess = performance.now() - t0;
      return pre.geometry.transform;
    }
    const device = this.device!;
    const transform = scoped('preprocess', () => {
      this.preprocess ??= createPreprocess(device);
      this.inputBuffer ??= device.createBuffer({
        label: `${this.manifest.id}.input`,
        size: tensorBytes(input),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      const texture = frame.texture(device);
      const encoder = device.createCommandEncoder({ label: `${this.manifest.id}.preprocess` });
      const t = this.preprocess.run(encoder, { source: texture, tensor: this.inputBuffer }, input);
      device.queue.submit([encoder.finish()]);
      return t;
    });
    tensors.putGpu(IMAGE, { buffer: this.inputBuffer!, dims: inputDims(input), type: 'float32' });
    Object.assign(timings, { upload: Frame.lastUploadMs(), preprocess: performance.now() - t0 });
    return transform;
  }

  /** An ONNX part: its input where its EP wants it, its outputs published by logical name. */
  private async runOnnx(step: OnnxStep, tensors: FrameTensors, release: Array<() => void>): Promise<void> {
    const session = this.sessions.get(step)!;
    const inputName = step.part.input.name;
    if (this.path === 'webgpu') {
      const input = tensors.onGpu(step.input);
      const feed = ort.Tensor.fromGpuBuffer(input.buffer, { dataType: 'float32', dims: input.dims });
      const results = await serialized(() => session.run({ [inputName]: feed }));
      release.push(() => Object.values(results).forEach((r) => r.dispose()));
      for (const [logical, name] of Object.entries(step.outputs)) {
        const r = results[name];
        if (!r) throw new Error(`${step.name}: the model returned no “${name}”`);
        if (r.size === 0) {
          // No rows this frame (an export with NMS in the graph): nothing to bind; the GPU
          // side reads the dims and binds this placeholder.
          tensors.putGpu(logical, { buffer: this.placeholder(), dims: r.dims, type: r.type });
          continue;
        }
        if (r.location !== 'gpu-buffer') throw new Error(`${step.name} output “${name}” is not on the GPU`);
        tensors.putGpu(logical, { buffer: r.gpuBuffer as GPUBuffer, dims: r.dims, type: r.type });
      }
      return;
    }
    const input = await tensors.onCpu(step.input);
    const feed = new ort.Tensor('float32', input.data, input.dims);
    const results = await serialized(() => session.run({ [inputName]: feed }));
    for (const [logical, name] of Object.entries(step.outputs)) {
      const r = results[name];
      if (!r) throw new Error(`${step.name}: the model returned no “${name}”`);
      tensors.putCpu(logical, { data: asFloat32(r, name), dims: r.dims });
    }
  }

  /** A 16-byte placeholder bound for an output with no elements (zero-sized bindings are invalid). */
  private placeholder(): GPUBuffer {
    this.emptyBuffer ??= this.device!.createBuffer({ label: `${this.manifest.id}.outputs.empty`, size: 16, usage: GPUBufferUsage.STORAGE });
    return this.emptyBuffer;
  }

  /**
   * The GPU paths from the first kernel step on: each kernel step encoded and submitted, the
   * ONNX parts between them, the one read-back of the records, the overlay shown. One such
   * section in flight at a time across panes (`gpuSerialized`).
   */
  private async finishOnGpu(
    overlay: GpuOverlay<FamilyGpu>,
    steps: FamilyProgram['steps'],
    tensors: FrameTensors,
    ctx: FrameContext,
    timings: Partial<StageTimings>,
    runPart: PartRunner,
    checks: Promise<void>[],
    scoped: Scoped,
    view: OverlayView,
    frame: Frame,
    t0: number,
  ): Promise<RunOutput> {
    const gpu = overlay.postprocessorFor(ctx.mask.width, ctx.mask.height);
    const read = await gpuSerialized(async () => {
      overlay.beginFrame(gpu, view);
      await runStepsOnGpu(steps, gpu, this.device!, tensors, ctx, runPart, timings, scoped);
      const submittedAt = performance.now();
      const result = await gpu.readResult();
      // Records read back from a chain that failed on the GPU are zeros, not "no instances".
      await Promise.all(checks);
      return { ...result, submittedAt, readAt: performance.now() };
    });
    const shown = await gpuSerialized(() => overlay.show(gpu, read.detections.length > 0));
    const t4 = performance.now();
    if (this.path === 'wasm+gpu') timings.upload = (timings.upload ?? 0) + tensors.uploadMs;
    // The read-backs waited on the GPU stages before them: keep only the waiting past those.
    const gpuMs = read.timings.source === 'gpu' ? GPU_STAGES.reduce((s, k) => s + (read.timings[k] ?? 0), 0) : 0;
    const waited = read.readAt - read.submittedAt + tensors.readBackMs;
    return paneOutput(frame, ctx.mask, this.path, read.detections, read.bytesReadBack + tensors.bytesReadBack + shown.bytes, {
      ...timings,
      ...read.timings,
      readback: read.timings.readback ?? Math.max(0, waited - gpuMs),
      total: t4 - t0,
      source: read.timings.source ?? 'cpu',
    }, shown);
  }

  /** 'wasm': the references of each kernel step, the ONNX parts between them, the compose reference. */
  private async finishOnCpu(
    overlay: CpuOverlay,
    steps: FamilyProgram['steps'],
    tensors: FrameTensors,
    ctx: FrameContext,
    timings: Partial<StageTimings>,
    runPart: PartRunner,
    view: OverlayView,
    frame: Frame,
    t0: number,
  ): Promise<RunOutput> {
    const cpu: FamilyCpu = this.program.createCpu();
    await runStepsOnCpu(steps, cpu, tensors, ctx, runPart, timings);
    const result = cpu.result;
    if (!result) throw new Error(`${this.manifest.id}: the last step left no instances`);
    const t3 = performance.now();
    const bitmap = await overlay.show(result.detections, result.masks, view);
    const t4 = performance.now();
    for (const [k, v] of Object.entries(cpu.timings)) if (typeof v === 'number') addTime(timings, k as StageKey, v);
    addTime(timings, 'masks', t4 - t3);
    return paneOutput(frame, result.masks, 'wasm', result.detections, 0, { ...timings, total: t4 - t0, source: 'cpu' }, { overlay: bitmap, onCanvas: false });
  }

  dispose(): void {
    this.gpuOverlay?.dispose();
    this.cpuOverlay?.clear();
    this.uploads?.destroy();
    this.inputBuffer?.destroy();
    this.inputBuffer = null;
    this.emptyBuffer?.destroy();
    this.emptyBuffer = null;
    this.preprocess?.destroy();
    this.preprocess = null;
    for (const h of this.handles) h.release();
  }
}
