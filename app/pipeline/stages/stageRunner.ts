/**
 * The one runner: a family's program (./program.ts) on one execution path. Every family —
 * YOLACT, YOLO-seg, Mask R-CNN (exports and our two-stage parts) — is a list of steps for
 * it; adding a family adds a program and a registry line (app/families/registry.ts), never
 * a code path here.
 *
 * 'wasm' runs the program whole in the CPU worker (../cpu/workerRunner.ts). The GPU paths
 * run here, a frame at a time:
 *   1. the image tensor: 'webgpu' — the frame texture (one upload a frame, shared by
 *      panes) → our preprocess kernel → the first part's input buffer; 'wasm+gpu' — the
 *      CPU worker reads the frame's pixels and runs the preprocess reference;
 *   2. the steps in order (./execute.ts): ONNX parts on ORT's WebGPU EP (GPU buffers in and
 *      out, on our device) or on its wasm EP in the CPU worker; kernel steps encoded and
 *      submitted; tensors cross between CPU and GPU only where a step needs them on the
 *      other side (./tensors.ts), counted;
 *   3. the GPU side's one read-back of the records (+ timestamps), the overlay drawn into
 *      the pane's WebGPU canvas (or read back, ./overlay.ts).
 *
 * Frames in flight (`maxInFlight` 2): a frame runs in two turns, each in frame order — the
 * encode turn (steps 1–2 into a free slot of `GpuOverlay`: two GPU sides, each with its own
 * records, staging buffers, bit masks and overlay texture) and the read turn (step 3, under
 * `mapSerialized`, app/gpu/mapQueue.ts: one mapAsync pending in the page, which SwiftShader
 * needs). Frame n+1 is encoded while frame n waits for its read-back. The ORT WebGPU EP's
 * runs stay one at a time in the page (sessions.ts `serialized`: ORT's JSEP build runs one
 * inference at a time), but another pane's ORT run, kernels and submits go on while a pane
 * waits for its map. Each output carries `recompose` for its own slot.
 *
 * Every GPU section runs in error scopes (app/gpu/errorScope.ts), checked before the
 * result is trusted. The ONNX parts' times are wall times up to ORT's return (on the WebGPU
 * EP: its work submitted, not finished; the GPU time it takes lands in the next wait, the
 * read-back). Sessions stay held to the end of a frame even if the runner is disposed meanwhile.
 */
import { gpuScoped } from '../../gpu/errorScope';
import type { InputTransform } from '../../gpu/layout';
import { createPreprocess, tensorBytes, type PreprocessKernel } from '../../gpu/kernels/preprocess';
import { familyProgram } from '../../families/registry';
import type { ExecutionPath, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import { Frame } from '../frame';
import { ort } from '../ort';
import { maskSize, type OverlayView, type PaneRunner, type RunnerContext, type RunOutput } from '../runner';
import { acquireSession, serialized, withAllInUse, type SessionHandle } from '../sessions';
import { acquireWorkerSession, cpuWorker, type WorkerSessionHandle } from '../cpu/client';
import type { PreprocessAnswer } from '../cpu/protocol';
import { WorkerRunner } from '../cpu/workerRunner';
import { mapSerialized } from '../../gpu/mapQueue';
import { GpuOverlay, OverlayRunner, paneOutput, type OverlaySlot } from './overlay';
import { inputDims, type CpuOutputs } from './onnx';
import { runPartTimed, runStepsOnGpu } from './execute';
import { checkProgram, IMAGE, onnxSteps, type FamilyGpu, type FamilyProgram, type FrameContext, type OnnxStep } from './program';
import { FrameTensors, UploadBuffers, type Scoped } from './tensors';

/** Creates the runner of a (path, model). */
export async function createRunner(path: ExecutionPath, manifest: ModelManifest, ctx: RunnerContext): Promise<PaneRunner> {
  if (path === 'wasm') return WorkerRunner.create(manifest);
  const device = ctx.device;
  if (!device) throw new Error(`the ${path} path needs a GPU device`);
  const program = await familyProgram(manifest);
  checkProgram(program, manifest.id);
  const parts: PartSession[] = [];
  try {
    // One after the other: the session caches create one at a time anyway.
    for (const step of onnxSteps(program)) parts.push(path === 'webgpu' ? await gpuPart(step, device) : await workerPart(step));
    // The family's pipelines, compiled asynchronously before its GPU side is made (app/gpu/kernelCache.ts).
    await program.warmGpu?.(device);
    return new StageRunner(path, manifest, program, parts, device, ctx);
  } catch (err) {
    // A part that fails to load gives back the parts already loaded.
    for (const p of parts) p.release();
    throw err;
  }
}

/** An ONNX part's session as the runner uses it. */
interface PartSession {
  /** Runs the part: its input from `tensors` where its EP wants it, its outputs put there. */
  run(step: OnnxStep, tensors: FrameTensors, release: Array<() => void>, placeholder: () => GPUBuffer): Promise<void>;
  /** Marks the session in use while `fn` runs (never released under a frame). */
  use<T>(fn: () => Promise<T>): Promise<T>;
  release(): void;
}

/** 'webgpu': ORT's WebGPU EP on our device, GPU buffers in and out. */
async function gpuPart(step: OnnxStep, device: GPUDevice): Promise<PartSession> {
  const handle: SessionHandle = await acquireSession(step.part, 'webgpu', device);
  return {
    async run(step, tensors, release, placeholder) {
      const input = tensors.onGpu(step.input);
      const feed = ort.Tensor.fromGpuBuffer(input.buffer, { dataType: 'float32', dims: input.dims });
      const results = await serialized(() => handle.session.run({ [step.part.input.name]: feed }));
      release.push(() => Object.values(results).forEach((r) => r.dispose()));
      for (const [logical, name] of Object.entries(step.outputs)) {
        const r = results[name];
        if (!r) throw new Error(`${step.name}: the model returned no “${name}”`);
        if (r.size === 0) {
          // No rows this frame (an export with NMS in the graph): nothing to bind; the GPU
          // side reads the dims and binds this placeholder.
          tensors.putGpu(logical, { buffer: placeholder(), dims: r.dims, type: r.type });
          continue;
        }
        if (r.location !== 'gpu-buffer') throw new Error(`${step.name} output “${name}” is not on the GPU`);
        tensors.putGpu(logical, { buffer: r.gpuBuffer as GPUBuffer, dims: r.dims, type: r.type });
      }
    },
    use: (fn) => handle.use(fn),
    release: () => handle.release(),
  };
}

/** 'wasm+gpu': ORT's wasm EP in the CPU worker, CPU tensors in and out. */
async function workerPart(step: OnnxStep): Promise<PartSession> {
  const handle: WorkerSessionHandle = await acquireWorkerSession(step.part);
  return {
    async run(step, tensors) {
      // Handed to the worker (transferred, not copied): an ONNX part's input has no other reader.
      const input = await tensors.takeCpu(step.input);
      const outputs = await cpuWorker().request<CpuOutputs>(
        { kind: 'part', key: handle.key, inputName: step.part.input.name, input, outputs: { ...step.outputs } },
        [input.data.buffer],
      );
      for (const [name, t] of Object.entries(outputs)) tensors.putCpu(name, t);
    },
    // The worker runs its requests in order: a close never lands under a run.
    use: (fn) => fn(),
    release: () => handle.release(),
  };
}

/** Runs `fn` once `after` settled (fulfilled or not). */
function turn<T>(after: Promise<unknown>, fn: () => Promise<T>): Promise<T> {
  return after.then(fn, fn);
}

/** GPU stages that a read-back's wait includes (all but the CPU-side figures). */
const GPU_STAGES = ['rpn', 'roi', 'decode', 'nms', 'masks'] as const;

export class StageRunner extends OverlayRunner implements PaneRunner {
  protected override readonly overlay: GpuOverlay<FamilyGpu>;
  private readonly parts = new Map<OnnxStep, PartSession>();
  private readonly uploads: UploadBuffers | null = null;
  private preprocess: PreprocessKernel | null = null;
  private inputBuffer: GPUBuffer | null = null;
  private emptyBuffer: GPUBuffer | null = null;

  constructor(
    readonly path: Exclude<ExecutionPath, 'wasm'>,
    readonly manifest: ModelManifest,
    private readonly program: FamilyProgram,
    private readonly sessions: readonly PartSession[],
    private readonly device: GPUDevice,
    ctx: RunnerContext,
  ) {
    super();
    onnxSteps(program).forEach((step, i) => this.parts.set(step, sessions[i]!));
    // Without a pane (bench), there is no canvas: the overlay is read back.
    const mode = ctx.paneKey < 0 ? 'readback' : ctx.overlayMode;
    this.overlay = new GpuOverlay(device, manifest, ctx.paneKey, mode, (d, mask, options) => program.createGpu(d, mask, options));
    if (path === 'wasm+gpu') this.uploads = new UploadBuffers(device, `${manifest.id}.uploads`);
  }

  /** Frame n is read back while frame n+1 is encoded (two GPU sides, `GpuOverlay` slots). */
  readonly maxInFlight = 2;
  /** One frame encodes at a time (its image tensor, ORT parts, kernels): frames in order. */
  private encoding: Promise<unknown> = Promise.resolve();
  /** One frame reads back at a time, in the order they were encoded. */
  private reading: Promise<unknown> = Promise.resolve();

  run(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput> {
    // Every part's session marked in use for the whole frame.
    return withAllInUse(this.sessions, () => this.runFrame(frame, settings, view));
  }

  /**
   * A frame in two turns. Encode (after the previous frame's encode): a free slot, the image
   * tensor, the ONNX parts and kernel steps encoded and submitted — while the previous frame
   * may still be reading back. Read (after the previous frame's read): the records' one
   * mapAsync and the overlay shown, under `mapSerialized` (one map pending in the page).
   */
  private async runFrame(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput> {
    const t0 = performance.now();
    const mask = maskSize(frame.width, frame.height);
    const checks: Promise<void>[] = [];
    const tensors = new FrameTensors(this.device, this.uploads, this.scopedInto(checks));
    const timings: Partial<StageTimings> = {};
    const release: Array<() => void> = [];
    let slot: OverlaySlot<FamilyGpu> | null = null;
    let completed = false;
    try {
      const encoded = turn(this.encoding, async () => {
        slot = await this.overlay.acquire(mask.width, mask.height);
        await this.encodeFrame(slot, frame, settings, view, mask, tensors, timings, release, checks);
      });
      this.encoding = encoded.catch(() => undefined);
      const read = turn(this.reading, async () => {
        await encoded;
        const s = slot!;
        return mapSerialized(async () => {
          const submittedAt = performance.now();
          const result = await s.post!.readResult();
          // Records read back from a chain that failed on the GPU are zeros, not "no instances".
          await Promise.all(checks);
          const readAt = performance.now();
          const shown = await this.overlay.show(s, result.detections.length > 0);
          return { ...result, submittedAt, readAt, shown };
        });
      });
      this.reading = read.catch(() => undefined);
      const done = await read;
      completed = true;
      const t4 = performance.now();
      if (this.path === 'wasm+gpu') timings.upload = (timings.upload ?? 0) + tensors.uploadMs;
      // The read-backs waited on the GPU stages before them: keep only the waiting past those.
      const gpuMs = done.timings.source === 'gpu' ? GPU_STAGES.reduce((s, k) => s + (done.timings[k] ?? 0), 0) : 0;
      const waited = done.readAt - done.submittedAt + tensors.readBackMs;
      const out = paneOutput(
        frame,
        mask,
        this.path,
        done.detections,
        done.bytesReadBack + tensors.bytesReadBack + done.shown.bytes,
        {
          ...timings,
          ...done.timings,
          readback: done.timings.readback ?? Math.max(0, waited - gpuMs),
          total: t4 - t0,
          source: done.timings.source ?? 'cpu',
        },
        done.shown,
        done.auxiliaryMap,
      );
      const mine = slot as OverlaySlot<FamilyGpu> | null;
      return { ...out, recompose: (v: OverlayView) => this.overlay.recomposeSlot(mine, v) };
    } finally {
      if (slot) this.overlay.release(slot, completed);
      for (const r of release) r();
    }
  }

  /** Errors of GPU sections recorded into `checks` (awaited before the frame's result is trusted). */
  private scopedInto(checks: Promise<void>[]): Scoped {
    return (where, fn) => {
      const { value, checked } = gpuScoped(this.device, `${this.manifest.id}.${where}`, fn);
      checks.push(checked);
      return value;
    };
  }

  /** The encode turn: image tensor, every step encoded and submitted into `slot`'s GPU side. */
  private async encodeFrame(
    slot: OverlaySlot<FamilyGpu>,
    frame: Frame,
    settings: PostprocessSettings,
    view: OverlayView,
    mask: { width: number; height: number },
    tensors: FrameTensors,
    timings: Partial<StageTimings>,
    release: Array<() => void>,
    checks: Promise<void>[],
  ): Promise<void> {
    const scoped = this.scopedInto(checks);
    const transform = await this.imageTensor(frame, tensors, timings, scoped);
    const ctx: FrameContext = { manifest: this.manifest, settings, transform, image: { width: frame.width, height: frame.height }, mask };
    const runPart = (step: OnnxStep, t: FrameTensors) => this.parts.get(step)!.run(step, t, release, () => this.placeholder());
    const steps = this.program.steps;
    const firstKernels = steps.findIndex((s) => s.kind === 'kernels');
    for (const step of steps.slice(0, firstKernels)) await runPartTimed(step as OnnxStep, tensors, runPart, timings);
    this.overlay.beginFrame(slot, view);
    await runStepsOnGpu(steps.slice(firstKernels), slot.post!, this.device, tensors, ctx, runPart, timings, scoped);
  }

  /** Step 1: the image tensor the first ONNX part takes, and the image → input geometry. */
  private async imageTensor(frame: Frame, tensors: FrameTensors, timings: Partial<StageTimings>, scoped: Scoped): Promise<InputTransform> {
    const input = this.manifest.input;
    const t0 = performance.now();
    if (this.path === 'wasm+gpu') {
      const pre = await cpuWorker().withFrame<PreprocessAnswer>(frame, (id) => ({ kind: 'preprocess', frame: id, input }));
      tensors.putCpu(IMAGE, pre.tensor);
      timings.preprocess = pre.ms;
      return pre.transform;
    }
    const device = this.device;
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

  /** A 16-byte placeholder bound for an output with no elements (zero-sized bindings are invalid). */
  private placeholder(): GPUBuffer {
    this.emptyBuffer ??= this.device.createBuffer({ label: `${this.manifest.id}.outputs.empty`, size: 16, usage: GPUBufferUsage.STORAGE });
    return this.emptyBuffer;
  }

  dispose(): void {
    this.overlay.dispose();
    this.uploads?.destroy();
    this.inputBuffer?.destroy();
    this.inputBuffer = null;
    this.emptyBuffer?.destroy();
    this.emptyBuffer = null;
    this.preprocess?.destroy();
    this.preprocess = null;
    for (const s of this.sessions) s.release();
  }
}
