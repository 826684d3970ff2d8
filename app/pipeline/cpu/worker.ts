/**
 * The CPU worker: everything the CPU paths compute, off the page's main thread.
 *
 * - 'wasm+gpu': the page asks for the image tensor (`preprocess`: the frame's pixels read
 *   here, then the preprocess reference) and for each ONNX part (`part`); our kernels stay
 *   on the page's GPU device.
 * - 'wasm': a pane's runner lives here (`runner`): each `frame` runs the model's program on
 *   the CPU side — pixels, preprocess, the ONNX parts on ORT's wasm EP, the references of
 *   the kernel steps (app/pipeline/stages/execute.ts `runStepsOnCpu`), the compose
 *   reference — and answers with the instances and an overlay ImageBitmap (transferred).
 *
 * Frames come once each (`frame-pixels`, a transferred bitmap) and are named by id in every
 * pane's request on them until the page drops them (`drop-frame`); their RGBA bytes are read
 * once, whatever the number of panes.
 *
 * Requests are handled one after the other (one queue): ORT's wasm EP runs one inference at
 * a time anyway, and a `close`, `dispose` or `drop-frame` never lands under a run it follows.
 */
import type { ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import { preprocessReference } from '../../reference/preprocess';
import { familyProgram } from '../../families/registry';
import { configureOrt, ort } from '../ort';
import { maskSize, type OverlayView } from '../runner';
import { runPartTimed, runStepsOnCpu, type PartRunner } from '../stages/execute';
import { asFloat32, feedTensor, inputDims, type CpuOutputs } from '../stages/onnx';
import { IMAGE, type CpuTensor, type FamilyProgram, type OnnxStep } from '../stages/program';
import { FrameTensors } from '../stages/tensors';
import { Frame } from '../frame';
import { CpuOverlay } from './cpuOverlay';
import type { FrameAnswer, PreprocessAnswer, WorkerAnswer, WorkerRequest } from './protocol';

const sessions = new Map<string, ort.InferenceSession>();

interface CpuRunner {
  manifest: ModelManifest;
  program: FamilyProgram;
  partKeys: Map<OnnxStep, string>;
  overlay: CpuOverlay;
}
const runners = new Map<number, CpuRunner>();

/** Frames the page posted once (`frame-pixels`), by id; each reads its RGBA bytes once (`Frame.pixels`). */
const frames = new Map<number, Frame>();

/** A model's session failed to open (the page shows it as a load error, not a frame error). */
class LoadError extends Error {}

function session(key: string): ort.InferenceSession {
  const s = sessions.get(key);
  if (!s) throw new Error(`no open session “${key}” in the CPU worker`);
  return s;
}

async function runPart(key: string, inputName: string, input: CpuTensor, outputs: Record<string, string>): Promise<CpuOutputs> {
  const s = session(key);
  const results = await s.run({ [inputName]: feedTensor(s, inputName, input) });
  const out: CpuOutputs = {};
  for (const [logical, name] of Object.entries(outputs)) {
    const t = results[name];
    if (!t) throw new Error(`the model returned no “${name}”`);
    out[logical] = { data: ownBuffer(asFloat32(t, name)), dims: t.dims };
  }
  return out;
}

/** An array that owns its whole, transferable buffer (a view into ORT's memory is copied). */
function ownBuffer(a: Float32Array): Float32Array {
  const whole = a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
  return whole && a.buffer instanceof ArrayBuffer ? a : a.slice();
}

function keptFrame(id: number): Frame {
  const frame = frames.get(id);
  if (!frame) throw new Error(`frame ${id} is not in the CPU worker`);
  return frame;
}

function preprocess(frame: Frame, input: ModelManifest['input']): PreprocessAnswer {
  const t0 = performance.now();
  const pre = preprocessReference(frame.pixels().data, frame.width, frame.height, input);
  return { tensor: { data: pre.tensor, dims: inputDims(input) }, transform: pre.geometry.transform, ms: performance.now() - t0 };
}

/** A 'wasm' frame: the whole program on the CPU side, then the compose reference. */
async function runFrame(r: CpuRunner, image: Frame, settings: PostprocessSettings, view: OverlayView): Promise<FrameAnswer> {
  const t0 = performance.now();
  const timings: Partial<StageTimings> = {};
  const pre = preprocess(image, r.manifest.input);
  timings.preprocess = pre.ms;
  const tensors = new FrameTensors(null, null, (_where, fn) => fn());
  tensors.putCpu(IMAGE, pre.tensor);
  const part: PartRunner = async (step, t) => {
    const outputs = await runPart(r.partKeys.get(step)!, step.part.input.name, await t.onCpu(step.input), step.outputs);
    for (const [name, tensor] of Object.entries(outputs)) t.putCpu(name, tensor);
  };
  const frame = {
    manifest: r.manifest,
    settings,
    transform: pre.transform,
    image: { width: image.width, height: image.height },
    mask: maskSize(image.width, image.height),
  };
  const steps = r.program.steps;
  const firstKernels = steps.findIndex((s) => s.kind === 'kernels');
  for (const step of steps.slice(0, firstKernels)) await runPartTimed(step as OnnxStep, tensors, part, timings);
  const cpu = r.program.createCpu();
  await runStepsOnCpu(steps.slice(firstKernels), cpu, tensors, frame, part, timings);
  if (!cpu.result) throw new Error(`${r.manifest.id}: the last step left no instances`);
  for (const [k, v] of Object.entries(cpu.timings)) if (typeof v === 'number') timings[k as 'decode'] = (timings[k as 'decode'] ?? 0) + v;
  const t3 = performance.now();
  const overlay = await r.overlay.show(cpu.result.detections, cpu.result.masks, view);
  const t4 = performance.now();
  timings.masks = (timings.masks ?? 0) + (t4 - t3);
  timings.total = t4 - t0;
  const { auxiliaryMap } = cpu.result;
  return { detections: cpu.result.detections, masks: cpu.result.masks, overlay, timings, ...(auxiliaryMap ? { auxiliaryMap } : {}) };
}

async function openRunner(runner: number, manifest: ModelManifest, partKeys: string[]): Promise<void> {
  const program = await familyProgram(manifest);
  const parts = program.steps.filter((s): s is OnnxStep => s.kind === 'onnx');
  if (parts.length !== partKeys.length) throw new Error(`${manifest.id}: ${parts.length} ONNX parts, ${partKeys.length} sessions`);
  for (const key of partKeys) session(key);
  runners.set(runner, { manifest, program, partKeys: new Map(parts.map((p, i) => [p, partKeys[i]!])), overlay: new CpuOverlay(manifest) });
}

function runnerOf(id: number): CpuRunner {
  const r = runners.get(id);
  if (!r) throw new Error(`no CPU runner ${id}`);
  return r;
}

/** Handles a request; returns its value and what to transfer with it. */
async function handle(req: WorkerRequest): Promise<{ value: unknown; transfer: Transferable[] }> {
  switch (req.kind) {
    case 'open': {
      configureOrt();
      if (!sessions.has(req.key)) {
        try {
          const s = await ort.InferenceSession.create(new Uint8Array(req.bytes), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
          sessions.set(req.key, s);
        } catch (err) {
          throw new LoadError(`${req.part.name}: ${(err as Error).message ?? String(err)}`);
        }
      }
      const s = sessions.get(req.key)!;
      return { value: { inputNames: [...s.inputNames], outputNames: [...s.outputNames] }, transfer: [] };
    }
    case 'close': {
      const s = sessions.get(req.key);
      sessions.delete(req.key);
      await s?.release();
      return { value: null, transfer: [] };
    }
    case 'frame-pixels':
      frames.set(req.frame, new Frame(req.frame, req.bitmap, req.bitmap.width, req.bitmap.height));
      return { value: null, transfer: [] };
    case 'drop-frame':
      frames.get(req.frame)?.bitmap.close();
      frames.delete(req.frame);
      return { value: null, transfer: [] };
    case 'preprocess': {
      const out = preprocess(keptFrame(req.frame), req.input);
      return { value: out, transfer: [out.tensor.data.buffer] };
    }
    case 'part': {
      const out = await runPart(req.key, req.inputName, req.input, req.outputs);
      return { value: out, transfer: Object.values(out).map((t) => t.data.buffer) };
    }
    case 'runner':
      await openRunner(req.runner, req.manifest, req.partKeys);
      return { value: null, transfer: [] };
    case 'frame': {
      const out = await runFrame(runnerOf(req.runner), keptFrame(req.frame), req.settings, req.view);
      // Everything large is transferred, so the page does not deserialise copies: the masks
      // as a copy (the runner keeps its own for recompose), the auxiliary map as it is.
      const masks = { ...out.masks, bits: out.masks.bits.slice() };
      const auxiliaryMap = out.auxiliaryMap ? { ...out.auxiliaryMap, values: ownBuffer(out.auxiliaryMap.values) } : undefined;
      const value: FrameAnswer = { ...out, masks, ...(auxiliaryMap ? { auxiliaryMap } : {}) };
      const transfer: Transferable[] = [masks.bits.buffer];
      if (out.overlay) transfer.push(out.overlay);
      if (auxiliaryMap) transfer.push(auxiliaryMap.values.buffer);
      return { value, transfer };
    }
    case 'recompose': {
      const overlay = await runnerOf(req.runner).overlay.recompose(req.view);
      return { value: overlay, transfer: overlay ? [overlay] : [] };
    }
    case 'masks': {
      // A copy: the runner keeps its masks for the next recompose.
      const masks = await runnerOf(req.runner).overlay.readMasks();
      const copy = masks ? { ...masks, bits: masks.bits.slice() } : null;
      return { value: copy, transfer: copy ? [copy.bits.buffer] : [] };
    }
    case 'dispose':
      runners.delete(req.runner);
      return { value: null, transfer: [] };
    case 'threads':
      configureOrt();
      return { value: ort.env.wasm.numThreads ?? 1, transfer: [] };
  }
}

let queue: Promise<unknown> = Promise.resolve();

self.onmessage = (event: MessageEvent<{ id: number; req: WorkerRequest }>) => {
  const { id, req } = event.data;
  const next = queue.then(async () => {
    try {
      const { value, transfer } = await handle(req);
      self.postMessage({ id, ok: true, value } satisfies WorkerAnswer, { transfer });
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      self.postMessage({ id, ok: false, error, loadError: err instanceof LoadError } satisfies WorkerAnswer);
    }
  });
  queue = next.catch(() => undefined);
};
