import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelManifest } from '../types';
import type { ort } from './ort';
import { acquireSession, cachedSessions, dropWebGpuSessions, forgetModel, setSessionBackend, type SessionBackend } from './sessions';

function manifest(id: string): ModelManifest {
  return {
    id,
    name: id,
    family: 'yolo-seg',
    url: `models/${id}.onnx`,
    input: { name: 'images', width: 32, height: 32, resize: 'letterbox', channels: 'rgb', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] },
    outputs: { output0: 'output0' },
    classes: ['a'],
  } as unknown as ModelManifest;
}

/** A fake ORT session: counts its releases; `run` resolves when the test says so. */
interface FakeSession {
  readonly inputNames: string[];
  readonly outputNames: string[];
  released: number;
  release(): Promise<void>;
}

/** The fake backend: records loads and creations; `failNext` makes the next creation fail. */
function fakeBackend() {
  const made: FakeSession[] = [];
  const loads: string[] = [];
  let failNext = false;
  const backend: SessionBackend = {
    async load(m) {
      loads.push(m.id);
      return new Uint8Array([1, 2, 3]);
    },
    async create() {
      if (failNext) {
        failNext = false;
        throw new Error('corrupt model');
      }
      const s: FakeSession = {
        inputNames: ['images'],
        outputNames: ['output0'],
        released: 0,
        async release() {
          s.released++;
        },
      };
      made.push(s);
      return s as unknown as ort.InferenceSession;
    },
  };
  return { backend, made, loads, failOnce: () => (failNext = true) };
}

/** Lets pending promise callbacks (the deferred release) run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

let fake: ReturnType<typeof fakeBackend>;
beforeEach(() => {
  fake = fakeBackend();
  setSessionBackend(fake.backend);
});
afterEach(() => {
  setSessionBackend(null);
  forgetModel('m');
  forgetModel('n');
});

describe('session cache (reference-counted)', () => {
  it('two acquires share one session; released only with the last holder', async () => {
    const [a, b] = await Promise.all([acquireSession(manifest('m'), 'wasm'), acquireSession(manifest('m'), 'wasm')]);
    expect(fake.made).toHaveLength(1);
    expect(fake.loads).toEqual(['m']);
    expect(a.session).toBe(b.session);
    a.release();
    a.release(); // twice: still one holder's share
    await settle();
    expect(fake.made[0]!.released).toBe(0);
    expect(cachedSessions().sessions).toEqual(['m|wasm|0']);
    b.release();
    await settle();
    expect(fake.made[0]!.released).toBe(1);
    expect(cachedSessions()).toEqual({ sessions: [], bytes: [] });
  });

  it('acquiring after the last release creates anew (bytes loaded again)', async () => {
    const a = await acquireSession(manifest('m'), 'wasm');
    a.release();
    const b = await acquireSession(manifest('m'), 'wasm');
    expect(fake.made).toHaveLength(2);
    expect(fake.loads).toEqual(['m', 'm']);
    expect(b.session).toBe(fake.made[1]);
    b.release();
  });

  it('the two EPs of a model share its bytes until the last session goes', async () => {
    const device = {} as GPUDevice;
    const wasm = await acquireSession(manifest('m'), 'wasm');
    const gpu = await acquireSession(manifest('m'), 'webgpu', device);
    expect(fake.made).toHaveLength(2);
    expect(fake.loads).toEqual(['m']);
    wasm.release();
    expect(cachedSessions()).toEqual({ sessions: [expect.stringMatching(/^m\|webgpu\|[1-9]/)], bytes: ['m'] });
    gpu.release();
    expect(cachedSessions()).toEqual({ sessions: [], bytes: [] });
  });

  it('a failed creation leaves nothing cached; the next acquire tries again', async () => {
    fake.failOnce();
    const failed = Promise.all([acquireSession(manifest('m'), 'wasm'), acquireSession(manifest('m'), 'wasm')]);
    await expect(failed).rejects.toThrow(/m: corrupt model/);
    expect(cachedSessions()).toEqual({ sessions: [], bytes: [] });
    const again = await acquireSession(manifest('m'), 'wasm');
    expect(fake.made).toHaveLength(1);
    again.release();
  });

  it('a session whose outputs do not match the manifest is refused and released', async () => {
    const wrong = { ...manifest('m'), outputs: { output0: 'nope' } };
    await expect(acquireSession(wrong, 'wasm')).rejects.toThrow(/no output named nope/);
    await settle();
    expect(fake.made[0]!.released).toBe(1);
    expect(cachedSessions()).toEqual({ sessions: [], bytes: [] });
  });

  it('forgetModel during a run: the session is released only after the run and its holder end', async () => {
    const pane = await acquireSession(manifest('m'), 'wasm');
    let finishRun!: () => void;
    const running = pane.use(() => new Promise<void>((r) => (finishRun = r)));
    forgetModel('m');
    // Gone from the cache at once: the next acquire (a re-added model) gets a new session.
    expect(cachedSessions()).toEqual({ sessions: [], bytes: [] });
    pane.release(); // the runner is disposed while its frame is still running
    await settle();
    expect(fake.made[0]!.released).toBe(0);
    finishRun();
    await running;
    await settle();
    expect(fake.made[0]!.released).toBe(1);
  });

  it('a released handle refuses new uses; other holders keep the session', async () => {
    const a = await acquireSession(manifest('m'), 'wasm');
    const b = await acquireSession(manifest('m'), 'wasm');
    a.release();
    await expect(a.use(async () => 1)).rejects.toThrow(/released/);
    await expect(b.use(async () => 2)).resolves.toBe(2);
    expect(fake.made[0]!.released).toBe(0);
    b.release();
    await settle();
    expect(fake.made[0]!.released).toBe(1);
  });

  it('dropWebGpuSessions: the lost device’s sessions go once released; wasm ones stay', async () => {
    const device = {} as GPUDevice;
    const wasm = await acquireSession(manifest('n'), 'wasm');
    const gpu = await acquireSession(manifest('m'), 'webgpu', device);
    dropWebGpuSessions();
    expect(cachedSessions().sessions).toEqual(['n|wasm|0']);
    const fresh = await acquireSession(manifest('m'), 'webgpu', device);
    expect(fresh.session).not.toBe(gpu.session);
    gpu.release();
    await settle();
    expect(fake.made.map((s) => s.released)).toEqual([0, 1, 0]);
    fresh.release();
    wasm.release();
  });

  it('the webgpu EP needs a device', async () => {
    await expect(acquireSession(manifest('m'), 'webgpu')).rejects.toThrow(/needs a GPU device/);
    expect(cachedSessions().sessions).toEqual([]);
  });
});
