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
  show(id: number): Frame;
  /** The first pane's key. */
  key: number;
  /** createRunner throws this once, when set. */
  failNextLoad: Error | null;
}

function rig(gpu: GpuAccess = { device: null, lost: false }): Rig {
  let current: Frame | null = null;
  const r: Rig = {
    runners: [],
    created: [],
    failNextLoad: null,
    show: (id) => (current = frame(id)),
    key: 0,
    scheduler: null!,
  };
  r.scheduler = new PaneScheduler({
    store: appStore,
    models: catalog(manifest('m1'), manifest('m2')),
    gpu,
    frames: { current: () => (current ? { frame: current, source: { kind: 'image', name: 'x.png', original: null } } : null), streaming: () => false },
    preferredModel: { get: () => null },
    createRunner: (path: ExecutionPath, m: ModelManifest, ctx: RunnerContext) => {
      r.created.push({ path, ctx });
      if (r.failNextLoad) {
        const err = r.failNextLoad;
        r.failNextLoad = null;
        return Promise.reject(err);
      }
      const runner = new FakeRunner(path, m, ctx.device);
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
