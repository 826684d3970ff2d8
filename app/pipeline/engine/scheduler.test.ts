/**
 * The pane scheduler without a DOM: the app's store, a fake catalogue, fake runners whose
 * runs the test finishes by hand, a frame feed the test moves on.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ExecutionPath, ModelManifest } from '../../types';
import type { Frame } from '../frame';
import type { RunnerContext } from '../runner';
import { catalog, FakeRunner, frame, manifest, resetStore, settle } from '../../../test/engine/fakes';
import { appStore } from './ports';
import { PaneScheduler, type GpuAccess } from './scheduler';

interface Rig {
  scheduler: PaneScheduler;
  runners: FakeRunner[];
  created: Array<{ path: ExecutionPath; ctx: RunnerContext }>;
  /** A new current frame; with `seq`, the frame's index in a stream (the webcam's). */
  show(id: number, seq?: number): Frame;
  /** The first pane's key. */
  key: number;
  /** createRunner throws this once, when set. */
  failNextLoad: Error | null;
}

interface RigOptions {
  /** The fake runners' maxInFlight. */
  inFlight?: number;
  /** The feed says more frames are coming (the webcam). */
  streaming?: boolean;
}

function rig(gpu: GpuAccess = { device: null, lost: false }, options: RigOptions = {}): Rig {
  let current: Frame | null = null;
  let currentSeq: number | undefined;
  const r: Rig = {
    runners: [],
    created: [],
    failNextLoad: null,
    show: (id, seq) => {
      currentSeq = seq;
      return (current = frame(id));
    },
    key: 0,
    scheduler: null!,
  };
  r.scheduler = new PaneScheduler({
    store: appStore,
    models: catalog(manifest('m1'), manifest('m2')),
    gpu,
    frames: {
      current: () =>
        current
          ? {
              frame: current,
              source: { kind: options.streaming ? 'webcam' : 'image', name: 'x.png', original: null },
              ...(currentSeq !== undefined ? { seq: { stream: 1, index: currentSeq } } : {}),
            }
          : null,
      streaming: () => options.streaming === true,
    },
    preferredModel: { get: () => null },
    createRunner: (path: ExecutionPath, m: ModelManifest, ctx: RunnerContext) => {
      r.created.push({ path, ctx });
      if (r.failNextLoad) {
        const err = r.failNextLoad;
        r.failNextLoad = null;
        return Promise.reject(err);
      }
      const runner = new FakeRunner(path, m, ctx.device);
      if (options.inFlight) runner.maxInFlight = options.inFlight;
      r.runners.push(runner);
      return Promise.resolve(runner);
    },
  });
  r.scheduler.addPane();
  r.key = appStore.getState().panes[0]!.key;
  return r;
}

const pane = (key: number) => appStore.getPane(key)!;

beforeEach(() => {
  resetStore();
  vi.spyOn(console, 'error').mockImplementation(() => {});
});

describe('PaneScheduler', () => {
  it('adds a pane with the default model and its default settings', () => {
    const { key } = rig();
    expect(pane(key).modelId).toBe('m1');
    expect(pane(key).settings).toEqual({ scoreThreshold: 0.3, topK: 100, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 50 });
    expect(pane(key).status).toBe('idle');
  });

  it('coalesces requests while a pane is busy and runs once more, on the latest frame', async () => {
    const r = rig();
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    const runner = r.runners[0]!;
    expect(runner.runs.map((run) => run.frame.id)).toEqual([1]);
    // Two frames come while frame 1 runs: neither starts a run now.
    r.show(2);
    r.scheduler.pumpAll();
    r.show(3);
    r.scheduler.pumpAll();
    await settle();
    expect(runner.runs).toHaveLength(1);
    expect(pane(r.key).status).toBe('running');
    runner.last.finish();
    await settle();
    // Once more, on the latest frame only (frame 2 is dropped, never queued).
    expect(runner.runs.map((run) => run.frame.id)).toEqual([1, 3]);
    runner.last.finish();
    await settle();
    expect(runner.runs).toHaveLength(2);
    expect(pane(r.key)).toMatchObject({ status: 'done', resultFrameId: 3, frames: 2 });
    expect(r.created).toHaveLength(1); // one runner for the model × path
  });

  it('retires a runner replaced mid-run: its run ends on it, its result is dropped, it is disposed afterwards', async () => {
    const r = rig();
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    const old = r.runners[0]!;
    // The model is deleted (or the device lost) while frame 1 runs.
    r.scheduler.dropRunner(r.key);
    expect(old.disposed).toBe(false); // never disposed under its run
    old.last.finish();
    await settle();
    // Its result is stale: not stored; the pane runs again on a new runner.
    expect(pane(r.key).result).toBeNull();
    expect(r.runners).toHaveLength(2);
    const fresh = r.runners[1]!;
    expect(fresh.runs.map((run) => run.frame.id)).toEqual([1]);
    fresh.last.finish();
    await settle();
    expect(old.disposed).toBe(true);
    expect(fresh.disposed).toBe(false);
    expect(pane(r.key).result).toBe(fresh.runs[0]!.out.result);
    expect(pane(r.key).status).toBe('done');
  });

  it('a retired runner whose run fails is no failure of the pane', async () => {
    const r = rig();
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    const old = r.runners[0]!;
    r.scheduler.removePane(r.key);
    old.last.fail(new Error('device gone'));
    await settle();
    expect(old.disposed).toBe(true);
    expect(appStore.getState().notices).toEqual([]);
  });

  it('a failed run halts the pane until the user changes something', async () => {
    const r = rig();
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    r.runners[0]!.last.fail(new Error('boom'));
    await settle();
    expect(pane(r.key)).toMatchObject({ status: 'error', message: 'Pane 1 failed: boom' });
    expect(appStore.getState().notices.map((n) => n.text)).toEqual(['Pane 1 failed: boom']);
    expect(r.runners[0]!.disposed).toBe(true); // a failed runner is not used again
    // New webcam frames do not run it again (no error every frame).
    r.show(2);
    r.scheduler.pumpAll();
    r.show(3);
    r.scheduler.pumpAll();
    await settle();
    expect(r.created).toHaveLength(1);
    // A setting changed: it runs again, on a fresh runner, on the latest frame.
    r.scheduler.setSettings(r.key, { scoreThreshold: 0.5 });
    await settle();
    expect(r.created).toHaveLength(2);
    r.runners[1]!.last.finish();
    await settle();
    expect(pane(r.key)).toMatchObject({ status: 'done', resultFrameId: 3 });
  });

  it('a model that fails to load halts the pane with the load error', async () => {
    const r = rig();
    r.failNextLoad = new Error('no such file');
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    expect(pane(r.key)).toMatchObject({ status: 'error', message: 'Model failed to load: no such file' });
    r.show(2);
    r.scheduler.pumpAll();
    await settle();
    expect(r.created).toHaveLength(1);
    r.scheduler.setModel(r.key, 'm2');
    await settle();
    expect(r.created).toHaveLength(2);
    expect(r.runners[0]!.manifest.id).toBe('m2');
  });

  it('resolves the path: no device → wasm, said in the pane; a device → the asked path on it', async () => {
    const noGpu = rig();
    appStore.updatePane(noGpu.key, { path: 'webgpu' });
    noGpu.show(1);
    noGpu.scheduler.pumpAll();
    await settle();
    expect(noGpu.created.map((c) => c.path)).toEqual(['wasm']);
    expect(pane(noGpu.key)).toMatchObject({ activePath: 'wasm', pathNote: 'no WebGPU: CPU fallback' });

    resetStore();
    const device = {} as GPUDevice;
    const withGpu = rig({ device, lost: false });
    appStore.updatePane(withGpu.key, { path: 'webgpu' });
    withGpu.show(1);
    withGpu.scheduler.pumpAll();
    await settle();
    expect(withGpu.created.map((c) => [c.path, c.ctx.device])).toEqual([['webgpu', device]]);
  });

  it('an export holds the runner: the next run starts only after it', async () => {
    const r = rig();
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    const runner = r.runners[0]!;
    runner.last.finish();
    await settle();
    let release!: () => void;
    const held = r.scheduler.hold(r.key, () => new Promise<void>((res) => (release = res)));
    await settle();
    r.show(2);
    r.scheduler.pumpAll();
    await settle();
    expect(runner.runs).toHaveLength(1); // waits for the export
    release();
    await held;
    await settle();
    expect(runner.runs).toHaveLength(2);
  });
});

describe('PaneScheduler: frames in flight', () => {
  /** Frame ids of a runner's runs, in the order they were asked for. */
  const ran = (runner: FakeRunner) => runner.runs.map((run) => run.frame.id);

  /** The frame ids a pane's stored results had, in the order they were stored. */
  function storedResults(key: number): number[] {
    const seen: number[] = [];
    let last = pane(key).resultFrameId;
    appStore.subscribe((s) => {
      const id = s.panes.find((p) => p.key === key)?.resultFrameId ?? 0;
      if (id !== last) seen.push(id);
      last = id;
    });
    return seen;
  }

  it('a runner with two slots runs frame n+1 while frame n is in flight; a third frame waits for a slot and is the latest', async () => {
    const r = rig(undefined, { inFlight: 2, streaming: true });
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    const runner = r.runners[0]!;
    r.show(2);
    r.scheduler.pumpAll();
    await settle();
    expect(ran(runner)).toEqual([1, 2]); // two in flight
    r.show(3);
    r.scheduler.pumpAll();
    r.show(4);
    r.scheduler.pumpAll();
    await settle();
    expect(ran(runner)).toEqual([1, 2]); // never three
    expect(r.scheduler.canTakeFrame()).toBe(false);
    runner.runs[0]!.finish();
    await settle();
    expect(ran(runner)).toEqual([1, 2, 4]); // the slot freed takes the latest frame
    expect(r.scheduler.framesInFlight()).toEqual(new Set([runner.runs[1]!.frame.bitmap, runner.runs[2]!.frame.bitmap]));
  });

  it('a runner with one slot is never asked for a second run', async () => {
    const r = rig(undefined, { streaming: true });
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    r.show(2);
    r.scheduler.pumpAll();
    await settle();
    expect(ran(r.runners[0]!)).toEqual([1]);
    expect(r.scheduler.canTakeFrame()).toBe(false);
  });

  it('results are stored in the order their runs started, also when the later run ends first', async () => {
    const r = rig(undefined, { inFlight: 2, streaming: true });
    const stored = storedResults(r.key);
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    r.show(2);
    r.scheduler.pumpAll();
    await settle();
    const runner = r.runners[0]!;
    runner.runs[1]!.finish(); // frame 2 is done first
    await settle();
    expect(stored).toEqual([]); // held until frame 1 is stored
    runner.runs[0]!.finish();
    await settle();
    expect(stored).toEqual([1, 2]);
    expect(pane(r.key)).toMatchObject({ resultFrameId: 2, frames: 2, status: 'running' });
  });

  it('counts the stream frames a pane never ran as its drops, in the same store write as its result', async () => {
    const r = rig(undefined, { inFlight: 2, streaming: true });
    r.show(1, 1);
    r.scheduler.pumpAll();
    await settle();
    r.show(2, 2);
    r.scheduler.pumpAll();
    await settle();
    const runner = r.runners[0]!;
    // Stream frames 3, 4 and 5 come while both slots are taken; 3 and 4 are never run.
    for (const i of [3, 4, 5]) {
      r.show(i, i);
      r.scheduler.pumpAll();
    }
    await settle();
    runner.runs[0]!.finish();
    await settle();
    expect(ran(runner)).toEqual([1, 2, 5]);
    runner.runs[1]!.finish();
    runner.runs[2]!.finish();
    await settle();
    expect(pane(r.key)).toMatchObject({ resultFrameId: 5, frames: 3, dropped: 2 });
    // Frames the source itself skipped (7 never captured) count too.
    r.show(6, 8);
    r.scheduler.pumpAll();
    await settle();
    runner.last.finish();
    await settle();
    expect(pane(r.key).dropped).toBe(4);
  });

  it('a pane busy with its own frames does not keep another pane from taking a frame', async () => {
    const r = rig(undefined, { streaming: true });
    r.scheduler.addPane();
    const second = appStore.getState().panes[1]!.key;
    r.show(1, 1);
    r.scheduler.pumpAll();
    await settle();
    const [a, b] = r.runners;
    a!.last.finish(); // pane 1 is free again, pane 2 still busy
    await settle();
    expect(r.scheduler.isBusy(second)).toBe(true);
    expect(r.scheduler.canTakeFrame()).toBe(true);
    r.show(2, 2);
    r.scheduler.pumpAll();
    await settle();
    expect(ran(a!)).toEqual([1, 2]); // pane 1 runs frame 2 while pane 2 is still on frame 1
    expect(ran(b!)).toEqual([1]);
    b!.last.finish();
    await settle();
    expect(ran(b!)).toEqual([1, 2]);
  });

  it('a pane removed with two runs in flight stores nothing and disposes its runner once both ended', async () => {
    const r = rig(undefined, { inFlight: 2, streaming: true });
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    r.show(2);
    r.scheduler.pumpAll();
    await settle();
    const runner = r.runners[0]!;
    r.scheduler.removePane(r.key);
    runner.runs[0]!.finish();
    await settle();
    expect(runner.disposed).toBe(false); // frame 2 still runs on it
    runner.runs[1]!.fail(new Error('gone'));
    await settle();
    expect(runner.disposed).toBe(true);
    expect(appStore.getState().notices).toEqual([]);
    expect(r.scheduler.framesInFlight()).toEqual(new Set());
  });

  it('a model switch with two runs in flight drops both results and runs the latest frame on the new model', async () => {
    const r = rig(undefined, { inFlight: 2, streaming: true });
    const stored = storedResults(r.key);
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    r.show(2);
    r.scheduler.pumpAll();
    await settle();
    const old = r.runners[0]!;
    r.scheduler.setModel(r.key, 'm2');
    await settle();
    expect(r.runners).toHaveLength(1); // both slots taken: the switch waits for one
    old.runs[0]!.finish();
    await settle();
    const fresh = r.runners[1]!;
    expect(fresh.manifest.id).toBe('m2');
    expect(ran(fresh)).toEqual([2]);
    old.runs[1]!.finish();
    await settle();
    expect(stored).toEqual([]); // neither of the old model's results
    expect(old.disposed).toBe(true);
    fresh.last.finish();
    await settle();
    expect(stored).toEqual([2]);
    expect(pane(r.key).result).toBe(fresh.runs[0]!.out.result);
  });

  it('device lost with two runs in flight: their results are dropped, the pane runs again on a new runner', async () => {
    const device = {} as GPUDevice;
    const gpu = { device: device as GPUDevice | null, lost: false };
    const r = rig(gpu, { inFlight: 2, streaming: true });
    appStore.updatePane(r.key, { path: 'webgpu' });
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    r.show(2);
    r.scheduler.pumpAll();
    await settle();
    const old = r.runners[0]!;
    expect(ran(old)).toEqual([1, 2]);
    gpu.device = null;
    gpu.lost = true;
    r.scheduler.deviceLost();
    old.runs[0]!.fail(new Error('device lost'));
    old.runs[1]!.finish();
    await settle();
    expect(pane(r.key).result).toBeNull();
    expect(appStore.getState().notices).toEqual([]);
    expect(old.disposed).toBe(true);
    const fresh = r.runners[1]!;
    expect(fresh.path).toBe('wasm');
    expect(ran(fresh)).toEqual([2]);
  });

  it('a failed run halts the pane; the run in flight after it is dropped without a second error', async () => {
    const r = rig(undefined, { inFlight: 2, streaming: true });
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    r.show(2);
    r.scheduler.pumpAll();
    await settle();
    const runner = r.runners[0]!;
    runner.runs[1]!.finish();
    runner.runs[0]!.fail(new Error('boom'));
    await settle();
    expect(pane(r.key)).toMatchObject({ status: 'error', message: 'Pane 1 failed: boom', resultFrameId: 0 });
    expect(appStore.getState().notices.map((n) => n.text)).toEqual(['Pane 1 failed: boom']);
    expect(runner.disposed).toBe(true);
    expect(r.created).toHaveLength(1); // halted: nothing runs again by itself
    expect(r.scheduler.canTakeFrame()).toBe(true); // no pane busy: the webcam's frames are still shown
  });

  it('an export waits for every run in flight, and no run starts while it reads', async () => {
    const r = rig(undefined, { inFlight: 2, streaming: true });
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    r.show(2);
    r.scheduler.pumpAll();
    await settle();
    const runner = r.runners[0]!;
    let reading = false;
    let sawResult = 0;
    let release!: () => void;
    const held = r.scheduler.hold(r.key, () => {
      reading = true;
      sawResult = pane(r.key).resultFrameId;
      return new Promise<void>((res) => (release = res));
    });
    runner.runs[0]!.finish();
    await settle();
    expect(reading).toBe(false); // frame 2 is still in flight
    r.show(3);
    r.scheduler.pumpAll();
    runner.runs[1]!.finish();
    await settle();
    expect(reading).toBe(true);
    expect(sawResult).toBe(2);
    expect(ran(runner)).toEqual([1, 2]); // frame 3 waits for the export
    release();
    await held;
    await settle();
    expect(ran(runner)).toEqual([1, 2, 3]);
  });

  it("a followed highlight is composed on the result's own frame (RunOutput.recompose), not the runner's latest", async () => {
    const r = rig(undefined, { inFlight: 2, streaming: true });
    r.show(1);
    r.scheduler.pumpAll();
    await settle();
    const runner = r.runners[0]!;
    runner.runs[0]!.out.result.detections = [{ box: [0, 0, 10, 10], classIndex: 0, score: 0.9 } as never];
    runner.runs[0]!.finish();
    await settle();
    appStore.updatePane(r.key, { highlight: 0 });
    r.show(2);
    r.scheduler.pumpAll();
    await settle();
    r.show(3);
    r.scheduler.pumpAll();
    await settle();
    expect(ran(runner)).toEqual([1, 2, 3]);
    const own = vi.fn(() => Promise.resolve({ overlay: null, onCanvas: true }));
    const latest = vi.spyOn(runner, 'recompose');
    const run2 = runner.runs[1]!;
    run2.out.result.detections = [{ box: [1, 1, 11, 11], classIndex: 0, score: 0.9 } as never];
    run2.out.recompose = own;
    run2.finish();
    await settle();
    expect(own).toHaveBeenCalledTimes(1);
    expect(latest).not.toHaveBeenCalled();
    expect(pane(r.key)).toMatchObject({ resultFrameId: 2, highlight: 0, overlayOnCanvas: true });
  });
});
