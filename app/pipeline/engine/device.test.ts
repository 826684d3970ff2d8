/**
 * The device keeper without a GPU: a fake acquirer hands out fake devices (or fails), the
 * waits and the clock are the test's. With the scheduler wired to it as the engine wires
 * them, a loss moves the panes to the CPU path and a recovery moves them back.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ExecutionPath, ModelManifest } from '../../types';
import type { RunnerContext } from '../runner';
import { catalog, FakeRunner, fakeGpu, frame, manifest, resetStore, settle } from '../../../test/engine/fakes';
import { appStore } from './ports';
import { DeviceKeeper, LOSS_WINDOW_MS, REACQUIRE_DELAYS_MS, type DeviceAcquirer } from './device';
import { PaneScheduler } from './scheduler';

/** An acquirer that answers each call with the next of `answers` (a device, or an error). */
function acquirer(answers: Array<'ok' | 'fail'>) {
  const handed: ReturnType<typeof fakeGpu>[] = [];
  let calls = 0;
  const acquire: DeviceAcquirer = () => {
    const answer = answers[calls++] ?? 'fail';
    if (answer === 'fail') return Promise.reject(new Error('no adapter'));
    const gpu = fakeGpu(`gpu${calls}`);
    handed.push(gpu);
    return Promise.resolve(gpu);
  };
  return { acquire, handed, calls: () => calls };
}

function rig(answers: Array<'ok' | 'fail'>) {
  const gpus = acquirer(answers);
  const waits: number[] = [];
  let clock = 0;
  const runners: FakeRunner[] = [];
  const created: ExecutionPath[] = [];
  const hooks = { lost: vi.fn(), settled: vi.fn() };
  const keeper: DeviceKeeper = new DeviceKeeper({
    acquire: gpus.acquire,
    store: appStore,
    now: () => clock,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    hooks: {
      lost: () => {
        hooks.lost();
        scheduler.deviceLost();
      },
      settled: () => {
        hooks.settled();
        scheduler.pumpAll();
      },
    },
  });
  const current = frame(1);
  const scheduler: PaneScheduler = new PaneScheduler({
    store: appStore,
    models: catalog(manifest('m1')),
    gpu: keeper,
    frames: { current: () => ({ frame: current, source: { kind: 'webcam', name: 'webcam', original: null } }), streaming: () => true },
    preferredModel: { get: () => null },
    createRunner: (path: ExecutionPath, m: ModelManifest, ctx: RunnerContext) => {
      created.push(path);
      const runner = new FakeRunner(path, m, ctx.device);
      runners.push(runner);
      return Promise.resolve(runner);
    },
  });
  appStore.setState({ defaultPath: 'webgpu' });
  return { keeper, scheduler, gpus, waits, runners, created, hooks, tick: (ms: number) => (clock += ms) };
}

const paneState = () => appStore.getState().panes[0]!;
const lastNotice = () => appStore.getState().notices.at(-1)?.text ?? '';

beforeEach(() => {
  resetStore();
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});

describe('DeviceKeeper', () => {
  it('starts with a device, or with none (and says so to the caller)', async () => {
    const ok = rig(['ok']);
    expect((await ok.keeper.start())?.device).toBe(ok.gpus.handed[0]!.device);
    expect(ok.keeper.device).toBe(ok.gpus.handed[0]!.device);
    const none = rig(['fail']);
    expect(await none.keeper.start()).toBeNull();
    expect(none.keeper.device).toBeNull();
    expect(none.keeper.lost).toBe(false);
  });

  it('a loss: the panes leave the GPU path, a new device is asked for, the panes run on it again', async () => {
    const r = rig(['ok', 'ok']);
    await r.keeper.start();
    r.scheduler.addPane();
    await settle();
    const first = r.runners[0]!;
    expect(first.path).toBe('webgpu');
    first.last.finish();
    await settle();

    r.keeper.loseDevice();
    expect(r.gpus.handed[0]!.destroyed()).toBe(true);
    expect(r.hooks.lost).toHaveBeenCalledTimes(1);
    expect(first.disposed).toBe(true);
    await settle();
    expect(r.hooks.settled).toHaveBeenCalledTimes(1);
    expect(r.keeper.device).toBe(r.gpus.handed[1]!.device);
    expect(r.keeper.lost).toBe(false);
    expect(lastNotice()).toBe('The GPU device was recovered; panes run on it again.');
    // One notice for the device's state: "recovered" replaced "lost".
    expect(appStore.getState().notices.filter((n) => n.topic === 'gpu-device')).toHaveLength(1);
    expect(r.created).toEqual(['webgpu', 'webgpu']);
    expect(r.runners[1]!.device).toBe(r.gpus.handed[1]!.device);
  });

  it('no device comes back: tries after each wait of REACQUIRE_DELAYS_MS, then the panes run on the CPU', async () => {
    const r = rig(['ok']);
    await r.keeper.start();
    r.scheduler.addPane();
    await settle();
    r.runners[0]!.last.finish();
    await settle();
    r.keeper.loseDevice();
    await settle();
    expect(r.gpus.calls()).toBe(1 + REACQUIRE_DELAYS_MS.length);
    expect(r.waits).toEqual(REACQUIRE_DELAYS_MS.filter((ms) => ms > 0));
    expect(r.waits).toEqual([1000, 3000, 8000]);
    expect(r.keeper.device).toBeNull();
    expect(r.keeper.lost).toBe(true);
    expect(lastNotice()).toMatch(/^No GPU device could be acquired again after 4 tries \(no adapter\): panes run on the CPU\.$/);
    expect(r.created).toEqual(['webgpu', 'wasm']);
    expect(paneState()).toMatchObject({ activePath: 'wasm', pathNote: 'GPU lost: CPU fallback' });
  });

  it('three losses within a minute: the GPU is not asked again and the panes stay on the CPU', async () => {
    const r = rig(['ok', 'ok', 'ok', 'ok']);
    await r.keeper.start();
    r.scheduler.addPane();
    await settle();
    for (let loss = 1; loss <= 2; loss++) {
      r.runners.at(-1)!.last.finish();
      await settle();
      r.tick(10_000);
      r.keeper.loseDevice();
      await settle();
      expect(r.keeper.device).not.toBeNull(); // recovered after losses 1 and 2
    }
    r.runners.at(-1)!.last.finish();
    await settle();
    const asked = r.gpus.calls();
    r.tick(10_000);
    r.keeper.loseDevice();
    await settle();
    expect(r.gpus.calls()).toBe(asked); // no new device asked for
    expect(r.keeper.device).toBeNull();
    expect(lastNotice()).toMatch(/^The GPU device was lost 3 times in a minute .*panes stay on the CPU/);
    expect(r.created).toEqual(['webgpu', 'webgpu', 'webgpu', 'wasm']);
    expect(paneState().activePath).toBe('wasm');
  });

  it('losses further apart than a minute are recovered each time', async () => {
    const r = rig(['ok', 'ok', 'ok', 'ok']);
    await r.keeper.start();
    for (let loss = 1; loss <= 3; loss++) {
      r.tick(LOSS_WINDOW_MS / 2 + 1);
      r.keeper.loseDevice();
      await settle();
      expect(r.keeper.device).toBe(r.gpus.handed[loss]!.device);
    }
  });

  it('a loss of an older device, or a destroy of our own, is not a new loss', async () => {
    let lostHandler: ((info: { reason: GPUDeviceLostReason; message: string }, device: GPUDevice) => void) | null = null;
    const gpu = fakeGpu();
    const hooks = { lost: vi.fn(), settled: vi.fn() };
    const keeper = new DeviceKeeper({
      acquire: (handlers) => {
        lostHandler = handlers.lost;
        return Promise.resolve(gpu);
      },
      store: appStore,
      hooks,
      sleep: () => Promise.resolve(),
    });
    await keeper.start();
    keeper.loseDevice();
    expect(hooks.lost).toHaveBeenCalledTimes(1);
    // The 'destroyed' our destroy() causes comes later: already handled.
    lostHandler!({ reason: 'destroyed', message: '' }, gpu.device);
    lostHandler!({ reason: 'unknown', message: 'late' }, gpu.device);
    await settle();
    expect(hooks.lost).toHaveBeenCalledTimes(1);
  });

  it('shows a GPU error outside our checks once per message', async () => {
    let uncaptured: ((message: string) => void) | null = null;
    const keeper = new DeviceKeeper({
      acquire: (handlers) => {
        uncaptured = handlers.uncaptured;
        return Promise.resolve(fakeGpu());
      },
      store: appStore,
      hooks: { lost: () => {}, settled: () => {} },
    });
    vi.spyOn(console, 'error').mockImplementation(() => {});
    await keeper.start();
    uncaptured!('bad bind group');
    uncaptured!('bad bind group');
    expect(appStore.getState().notices).toHaveLength(1);
    expect(appStore.getState().notices[0]!.count).toBe(1);
  });
});
