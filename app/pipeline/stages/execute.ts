/**
 * A program's steps executed on one side, without the DOM, ORT or a pane: what the runner
 * (./stageRunner.ts) does between the image tensor and the instances, and what a test in
 * Node drives with its own ONNX sessions.
 *
 * - `runStepsOnGpu`: each kernel step's inputs made GPU tensors (uploaded where they are
 *   on the CPU), its kernels encoded into one command encoder and submitted in error
 *   scopes; the ONNX parts in between run through `runPart`.
 * - `runStepsOnCpu`: each kernel step's references on CPU tensors.
 * Each ONNX part's wall time goes to its `timing` field; a reference that does not time
 * its own stages has its wall time put in its step's field.
 */
import type { StageTimings } from '../../types';
import type { CpuTensor, FamilyCpu, FamilyGpu, FrameContext, GpuTensor, KernelStep, OnnxStep, StageKey, Step } from './program';
import type { FrameTensors, Scoped } from './tensors';

/** Runs one ONNX part: takes its input from `tensors` where its EP wants it and puts its outputs there. */
export type PartRunner = (step: OnnxStep, tensors: FrameTensors) => Promise<void>;

export function addTime(timings: Partial<StageTimings>, key: StageKey, ms: number): void {
  timings[key] = (timings[key] ?? 0) + ms;
}

function sumTimes(t: Partial<StageTimings>): number {
  let s = 0;
  for (const [k, v] of Object.entries(t)) if (k !== 'source' && typeof v === 'number') s += v;
  return s;
}

export async function runPartTimed(step: OnnxStep, tensors: FrameTensors, runPart: PartRunner, timings: Partial<StageTimings>): Promise<void> {
  const t = performance.now();
  await runPart(step, tensors);
  addTime(timings, step.timing, performance.now() - t);
}

/** What a kernel step returned, checked against what it declares it publishes. */
function checkPublished<T>(step: KernelStep, published: Record<string, T> | void): Record<string, T> {
  const out = published ?? {};
  const names = Object.keys(out).sort();
  const declared = [...step.publishes].sort();
  if (names.join() !== declared.join()) {
    throw new Error(`step “${step.name}” published [${names.join(', ')}], but declares [${declared.join(', ')}]`);
  }
  return out;
}

export async function runStepsOnGpu<G extends FamilyGpu>(
  steps: readonly Step<G>[],
  gpu: G,
  device: GPUDevice,
  tensors: FrameTensors,
  frame: FrameContext,
  runPart: PartRunner,
  timings: Partial<StageTimings>,
  scoped: Scoped,
): Promise<void> {
  for (const step of steps) {
    if (step.kind === 'onnx') {
      await runPartTimed(step, tensors, runPart, timings);
      continue;
    }
    const inputs: Record<string, GpuTensor> = {};
    for (const name of step.reads) inputs[name] = tensors.onGpu(name);
    const published = scoped(step.name, () => {
      const encoder = device.createCommandEncoder({ label: `${frame.manifest.id}.${step.name}` });
      const out = step.encode(gpu, encoder, inputs, frame);
      device.queue.submit([encoder.finish()]);
      return out;
    });
    for (const [name, t] of Object.entries(checkPublished(step, published))) tensors.putGpu(name, t);
  }
}

export async function runStepsOnCpu<C extends FamilyCpu>(
  steps: readonly Step<FamilyGpu, C>[],
  cpu: C,
  tensors: FrameTensors,
  frame: FrameContext,
  runPart: PartRunner,
  timings: Partial<StageTimings>,
): Promise<void> {
  for (const step of steps) {
    if (step.kind === 'onnx') {
      await runPartTimed(step, tensors, runPart, timings);
      continue;
    }
    const inputs: Record<string, CpuTensor> = {};
    for (const name of step.reads) inputs[name] = await tensors.onCpu(name);
    const before = sumTimes(cpu.timings);
    const t = performance.now();
    const published = step.reference(cpu, inputs, frame);
    // A reference that timed its own stages is trusted; otherwise the step's time goes to its field.
    if (sumTimes(cpu.timings) === before) addTime(cpu.timings, step.timing, performance.now() - t);
    for (const [name, tensor] of Object.entries(checkPublished(step, published))) tensors.putCpu(name, tensor);
  }
}
