/**
 * Fakes for the engine's parts (app/pipeline/engine/): a model catalogue, a runner whose
 * runs the test finishes by hand, a frame, a GPU device. The store is the app's own
 * (zustand, no DOM), reset before each test with `resetStore`.
 */
import type { FrameResult, InstanceMasks, ModelManifest } from '../../app/types';
import { useStore } from '../../app/state/store';
import { Frame } from '../../app/pipeline/frame';
import type { OverlayUpdate, OverlayView, PaneRunner, RunOutput } from '../../app/pipeline/runner';
import type { ModelCatalog } from '../../app/pipeline/engine/ports';
import type { GpuContext } from '../../app/gpu/device';

const initial = useStore.getState();

/** The store as it is when the app starts. */
export function resetStore(): void {
  useStore.setState(initial, true);
}

/** Lets every promise chain that can move on, move on. */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export function manifest(id: string, patch: Partial<ModelManifest> = {}): ModelManifest {
  return {
    id,
    name: `Model ${id}`,
    family: 'yolact',
    url: `models/${id}.onnx`,
    input: { name: 'input', width: 64, height: 64, resize: 'stretch', channels: 'rgb', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
    outputs: {},
    classes: ['a', 'b', 'c'],
    defaults: { scoreThreshold: 0.3, topK: 100, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 50 },
    ...patch,
  } as ModelManifest;
}

/** A registry holding the given manifests (the first one is the default). */
export function catalog(...manifests: ModelManifest[]): ModelCatalog & { readonly map: Map<string, ModelManifest> } {
  const map = new Map(manifests.map((m) => [m.id, m]));
  return {
    map,
    get: (id) => map.get(id),
    list: () => [...map.values()],
    add: (m) => void map.set(m.id, m),
    remove: (id) => void map.delete(id),
    defaultId: (preferred) => (preferred && map.has(preferred) ? preferred : map.keys().next().value),
  };
}

export function frame(id: number): Frame {
  return new Frame(id, { close() {} } as unknown as ImageBitmap, 64, 48);
}

export function result(path: FrameResult['path'] = 'wasm'): FrameResult {
  return {
    imageWidth: 64,
    imageHeight: 48,
    detections: [],
    maskWidth: 64,
    maskHeight: 48,
    timings: { total: 5 } as FrameResult['timings'],
    bytesReadBack: 0,
    path,
  };
}

/** A run the test ends: `finish()` with a result, or `fail(err)`. */
export interface PendingRun {
  frame: Frame;
  out: RunOutput;
  finish(): void;
  fail(err: Error): void;
}

/** A PaneRunner whose runs wait for the test. */
export class FakeRunner implements PaneRunner {
  readonly runs: PendingRun[] = [];
  disposed = false;
  /** Runs it takes at once (PaneRunner.maxInFlight); unset: 1. */
  maxInFlight?: number;
  masks: InstanceMasks | null = null;
  constructor(
    readonly path: PaneRunner['path'],
    readonly manifest: ModelManifest,
    readonly device: GPUDevice | null = null,
  ) {}

  run(f: Frame): Promise<RunOutput> {
    if (this.disposed) throw new Error('run on a disposed runner');
    return new Promise((resolve, reject) => {
      const out: RunOutput = { result: result(this.path), overlay: null, onCanvas: false };
      this.runs.push({ frame: f, out, finish: () => resolve(out), fail: reject });
    });
  }
  recompose(_view: OverlayView): Promise<OverlayUpdate> {
    return Promise.resolve({ overlay: null, onCanvas: false });
  }
  overlaySnapshot(): Promise<ImageBitmap | null> {
    return Promise.resolve(null);
  }
  readMasks(): Promise<InstanceMasks | null> {
    return Promise.resolve(this.masks);
  }
  dispose(): void {
    this.disposed = true;
  }
  /** The run in flight (the last one asked for). */
  get last(): PendingRun {
    const run = this.runs[this.runs.length - 1];
    if (!run) throw new Error('no run was asked for');
    return run;
  }
}

/** A GPU device that only knows how to be destroyed. */
export function fakeGpu(label = 'gpu'): GpuContext & { destroyed: () => boolean } {
  let destroyed = false;
  const device = { label, destroy: () => void (destroyed = true) } as unknown as GPUDevice;
  return {
    device,
    adapter: { vendor: 'fake', architecture: '', device: '', description: '', isFallbackAdapter: false },
    timestamps: false,
    f16: false,
    destroyed: () => destroyed,
  };
}
