/**
 * The GPU device: acquired once at start-up, lost, re-acquired. The engine's panes and
 * sessions share one GPUDevice (app/gpu/device.ts); this part owns it.
 *
 * A loss: `hooks.lost()` first (the scheduler takes the panes off the GPU paths, the frame's
 * texture and the WebGPU sessions are dropped), then new devices are asked for with waits
 * between tries (REACQUIRE_DELAYS_MS), then `hooks.settled()` (the panes run again, on the
 * new device or on the CPU). MAX_LOSSES_IN_WINDOW losses within LOSS_WINDOW_MS and the GPU
 * is not asked again until a reload.
 */
import type { ExecutionPath } from '../../types';
import { acquireGpuDevice, type GpuContext } from '../../gpu/device';
import { errorText, type EngineStore } from './ports';

/** Re-acquiring a lost GPU device: waits between tries (ms), then the CPU for good. */
export const REACQUIRE_DELAYS_MS: readonly number[] = [0, 1000, 3000, 8000];
/** This many losses within LOSS_WINDOW_MS and the GPU is not asked again until a reload. */
export const MAX_LOSSES_IN_WINDOW = 3;
export const LOSS_WINDOW_MS = 60_000;

export const EXECUTION_PATHS: readonly ExecutionPath[] = ['webgpu', 'wasm+gpu', 'wasm'];

/**
 * Whether software adapters (SwiftShader) get the read-back overlay by default. Yes: in
 * headless Chromium 156 on SwiftShader, configuring a WebGPU canvas context and clearing
 * it once is enough for the device to be lost ('destroyed', "A valid external Instance
 * reference no longer exists") a moment later — checked with a page holding nothing but
 * that canvas. Real GPUs take the canvas way (no read-back); `?overlay=` overrides.
 */
const OVERLAY_READBACK_ON_FALLBACK = true;

export interface DeviceLoss {
  reason: GPUDeviceLostReason;
  message: string;
}

/**
 * Asks for a device; `lost` is called for every loss of it (including a 'destroyed' one:
 * the keeper ignores the devices it destroyed itself), `uncaptured` for GPU errors no error
 * scope caught. Tests pass a fake.
 */
export type DeviceAcquirer = (handlers: { lost: (info: DeviceLoss, device: GPUDevice) => void; uncaptured: (message: string) => void }) => Promise<GpuContext>;

/** The browser's WebGPU (app/gpu/device.ts). */
export const browserAcquirer: DeviceAcquirer = async (handlers) => {
  const gpu = await acquireGpuDevice({ powerPreference: 'high-performance', onLost: (info) => handlers.lost(info, gpu.device) });
  // app/gpu/device.ts forwards every loss but 'destroyed' (what our own destroy() gives).
  // Chromium also reports 'destroyed' when it drops a device itself (seen on SwiftShader
  // under heavy load), so a 'destroyed' is passed on too (the keeper knows its own).
  void gpu.device.lost.then((info) => {
    if (info.reason === 'destroyed') handlers.lost(info, gpu.device);
  });
  gpu.device.addEventListener('uncapturederror', (e) => handlers.uncaptured((e as GPUUncapturedErrorEvent).error.message));
  return gpu;
};

export interface DeviceHooks {
  /** The device is gone (before any re-acquire): nothing may use it any more. */
  lost(): void;
  /** The loss is over: a new device, or none for good (the panes run again either way). */
  settled(): void;
}

export interface DeviceKeeperDeps {
  acquire: DeviceAcquirer;
  store: Pick<EngineStore, 'notify'>;
  hooks: DeviceHooks;
  /** Clock for the losses' window (ms). */
  now?: () => number;
  /** Waits between re-acquire tries. */
  sleep?: (ms: number) => Promise<void>;
  delays?: readonly number[];
}

export class DeviceKeeper {
  private current: GpuContext | null = null;
  private wasLost = false;
  /** When the device was lost, most recent last (MAX_LOSSES_IN_WINDOW). */
  private readonly lossTimes: number[] = [];
  /** Devices we destroyed on purpose (tests), whose 'destroyed' loss is already handled. */
  private readonly destroyedOwn = new WeakSet<GPUDevice>();
  /** GPU errors outside our scoped sections (app/gpu/errorScope.ts), e.g. in ORT's own work: shown once per message. */
  private readonly uncapturedShown = new Set<string>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly delays: readonly number[];

  constructor(private readonly deps: DeviceKeeperDeps) {
    this.now = deps.now ?? (() => performance.now());
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.delays = deps.delays ?? REACQUIRE_DELAYS_MS;
  }

  /** The device to use now; null without WebGPU, or while lost. */
  get device(): GPUDevice | null {
    return this.current?.device ?? null;
  }

  /** The device was lost and none has come back (yet, or for good). */
  get lost(): boolean {
    return this.wasLost;
  }

  /** The first device; null (and a console warning) when there is none. */
  async start(): Promise<GpuContext | null> {
    try {
      this.current = await this.acquire();
    } catch (err) {
      console.warn('No WebGPU device:', err);
    }
    return this.current;
  }

  /** For tests: a device loss (the loss is handled at once, then the device destroyed). */
  loseDevice(): void {
    const device = this.device;
    if (!device) return;
    this.onDeviceLost({ reason: 'unknown', message: 'simulated device loss' }, device);
    this.destroyedOwn.add(device);
    device.destroy();
  }

  private acquire(): Promise<GpuContext> {
    return this.deps.acquire({
      lost: (info, device) => {
        if (info.reason === 'destroyed' && this.destroyedOwn.has(device)) return;
        this.onDeviceLost(info, device);
      },
      uncaptured: (message) => this.onUncapturedGpuError(message),
    });
  }

  private onDeviceLost(info: DeviceLoss, lostDevice: GPUDevice): void {
    if (this.device !== lostDevice) return; // an older device, already handled
    const { notify } = this.deps.store;
    this.wasLost = true;
    this.current = null;
    const now = this.now();
    this.lossTimes.push(now);
    while (this.lossTimes.length && now - this.lossTimes[0]! > LOSS_WINDOW_MS) this.lossTimes.shift();
    const giveUp = this.lossTimes.length >= MAX_LOSSES_IN_WINDOW;
    notify(
      'error',
      giveUp
        ? `The GPU device was lost ${this.lossTimes.length} times in a minute (${info.message || info.reason}): panes stay on the CPU. Reload the page to try the GPU again.`
        : `The GPU device was lost (${info.message || info.reason}). Recovering…`,
      { topic: 'gpu-device' }, // one notice for the device's state: "recovered" (or not) replaces it
    );
    this.deps.hooks.lost();
    void (async () => {
      if (!giveUp) await this.reacquire();
      this.deps.hooks.settled();
    })();
  }

  /** New device after a loss, with waits between tries; the CPU when none comes. */
  private async reacquire(): Promise<void> {
    const { notify } = this.deps.store;
    let last: unknown = null;
    for (const delay of this.delays) {
      if (delay) await this.sleep(delay);
      try {
        this.current = await this.acquire();
        this.wasLost = false;
        notify('info', 'The GPU device was recovered; panes run on it again.', { topic: 'gpu-device' });
        return;
      } catch (err) {
        last = err;
      }
    }
    notify('error', `No GPU device could be acquired again after ${this.delays.length} tries (${errorText(last)}): panes run on the CPU.`, {
      topic: 'gpu-device',
    });
  }

  private onUncapturedGpuError(message: string): void {
    console.error('WebGPU error:', message);
    if (this.uncapturedShown.has(message)) return;
    this.uncapturedShown.add(message);
    this.deps.store.notify(
      'error',
      `A GPU error outside the panes' own checks: ${message}. Results on the GPU paths may be wrong; the wasm path is not affected.`,
    );
  }
}

/** What the store's env slice says about the device and the URL (`?path=`, `?overlay=`). */
export function environment(
  gpu: GpuContext | null,
  params: URLSearchParams,
): { webgpu: boolean; fallbackAdapter: boolean; adapterName: string; defaultPath: ExecutionPath; overlayMode: 'canvas' | 'readback' } {
  const webgpu = gpu !== null;
  const fallbackAdapter = gpu?.adapter.isFallbackAdapter ?? false;
  const asked = params.get('path');
  const defaultPath: ExecutionPath =
    asked && (EXECUTION_PATHS as readonly string[]).includes(asked) ? (asked as ExecutionPath) : !webgpu ? 'wasm' : fallbackAdapter ? 'wasm+gpu' : 'webgpu';
  // GPU overlays go straight to each pane's WebGPU canvas; `?overlay=readback` asks for
  // the per-frame read-back instead (OVERLAY_READBACK_ON_FALLBACK: software adapters).
  const askedOverlay = params.get('overlay');
  const overlayMode: 'canvas' | 'readback' =
    askedOverlay === 'readback' || askedOverlay === 'canvas' ? askedOverlay : fallbackAdapter && OVERLAY_READBACK_ON_FALLBACK ? 'readback' : 'canvas';
  return { webgpu, fallbackAdapter, adapterName: gpu ? adapterLabel(gpu) : '', defaultPath, overlayMode };
}

function adapterLabel(gpu: GpuContext): string {
  const a = gpu.adapter;
  return [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'WebGPU adapter';
}
