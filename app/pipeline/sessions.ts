/**
 * ORT sessions, one per (model, execution provider, device), shared by the panes that use
 * them and reference-counted: `acquireSession` hands out a `SessionHandle`; when the last
 * holder releases, the ORT session is released and the model's bytes are dropped (a model
 * tried once does not stay in memory). A session in use (`SessionHandle.use`: a pane's
 * frame in flight) is never released under it: the release waits for the end of the use.
 * All `session.run` calls go through one queue (`serialized`): the wasm EP runs on one
 * thread anyway, and the WebGPU EP shares our device's queue.
 */
import { notify } from '../state/store';
import type { ModelManifest } from '../types';
import { modelUrl } from '../models/registry';
import { userModelId } from '../models/userModels';
import { isRemoteUrl, loadRemoteModel } from '../models/catalog';
import { configureOrt, ort } from './ort';
import { serializedCreate } from './ortQueue';
import { ModelLoadError } from './runner';
import { float16WebgpuMessage } from '../families/yoloSeg/layout';

export type OrtEp = 'wasm' | 'webgpu';

/** A holder's share of a cached session. */
export interface SessionHandle {
  readonly session: ort.InferenceSession;
  /**
   * Marks the session in use while `fn` runs (a pane's frame): a release asked for
   * meanwhile (this holder's, `forgetModel`, `dropWebGpuSessions`) waits for its end.
   * Refused once this handle is released.
   */
  use<T>(fn: () => Promise<T>): Promise<T>;
  /** Gives the session back (again: nothing). The last holder's release frees it. */
  release(): void;
}

/** Where bytes come from and how sessions are made; replaced in tests (`setSessionBackend`). */
export interface SessionBackend {
  load(manifest: ModelManifest): Promise<Uint8Array>;
  create(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession>;
}

interface Entry {
  readonly key: string;
  readonly modelId: string;
  readonly session: Promise<ort.InferenceSession>;
  /** Handles given out (or being given out) and not released. */
  holders: number;
  /** Uses in flight (`SessionHandle.use`). */
  busy: number;
  freed: boolean;
}

const modelBytes = new Map<string, Promise<Uint8Array>>();
const entries = new Map<string, Entry>();
/** Distinguishes sessions made for different GPUDevices (a new device after a loss). */
const deviceIds = new WeakMap<GPUDevice, number>();
let nextDeviceId = 1;

const ortBackend: SessionBackend = {
  load: fetchModel,
  create: (bytes, options) => {
    configureOrt();
    return ort.InferenceSession.create(bytes, options);
  },
};
let backend = ortBackend;

/** Test seam: replaces how bytes are loaded and sessions made; returns the previous backend. */
export function setSessionBackend(next: SessionBackend | null): SessionBackend {
  const previous = backend;
  backend = next ?? ortBackend;
  return previous;
}

/** What is cached now (tests): session keys and the models whose bytes are held. */
export function cachedSessions(): { sessions: string[]; bytes: string[] } {
  return { sessions: [...entries.keys()], bytes: [...modelBytes.keys()] };
}

/**
 * Reads a saved dropped model's bytes (IndexedDB, app/models/userModels.ts) by its id; set by
 * the engine's wiring (`setSavedModelBytes`), null where saved models cannot be read.
 */
let savedModelBytes: ((id: string) => Promise<Uint8Array>) | null = null;

/** Where `user-model:<id>` urls are read from (the engine passes `userModels.bytes`); null: nowhere. */
export function setSavedModelBytes(read: ((id: string) => Promise<Uint8Array>) | null): void {
  savedModelBytes = read;
}

async function fetchModel(manifest: ModelManifest): Promise<Uint8Array> {
  // A dropped model saved in IndexedDB (models/fromOnnx.ts).
  const savedId = userModelId(manifest.url);
  if (savedId !== null) {
    if (!savedModelBytes) throw new ModelLoadError(`${manifest.name}: saved models need IndexedDB`);
    try {
      return await savedModelBytes(savedId);
    } catch (err) {
      throw new ModelLoadError(`${manifest.name}: the saved file could not be read (${(err as Error).message})`);
    }
  }
  // A remote model (absolute http(s) URL): downloaded once, checked, then from Cache Storage.
  if (isRemoteUrl(manifest.url)) {
    try {
      // Checked bytes that could not be cached (storage full) still run; the user is told why the next visit downloads again.
      return await loadRemoteModel(manifest, undefined, { onNotCached: (why) => notify('info', `${manifest.name}: ${why}`) });
    } catch (err) {
      throw new ModelLoadError(`${manifest.name}: ${(err as Error).message ?? String(err)}`);
    }
  }
  let response: Response;
  try {
    response = await fetch(modelUrl(manifest));
  } catch (err) {
    throw new ModelLoadError(`${manifest.name}: the file could not be fetched (${(err as Error).message})`);
  }
  if (!response.ok) throw new ModelLoadError(`${manifest.name}: ${manifest.url} answered HTTP ${response.status}`);
  // A dev/preview server answers unknown paths with index.html.
  if ((response.headers.get('content-type') ?? '').includes('text/html')) {
    throw new ModelLoadError(`${manifest.name}: ${manifest.url} was not found`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (manifest.bytes !== undefined && bytes.byteLength !== manifest.bytes) {
    throw new ModelLoadError(`${manifest.name}: expected ${manifest.bytes} bytes, got ${bytes.byteLength}`);
  }
  if (manifest.sha256 && globalThis.crypto?.subtle) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    const hex = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
    if (hex !== manifest.sha256.toLowerCase()) throw new ModelLoadError(`${manifest.name}: sha256 mismatch`);
  }
  return bytes;
}

/** Refuses a session whose input or outputs are not the ones its manifest names. */
export function checkPartNames(manifest: ModelManifest, names: { inputNames: readonly string[]; outputNames: readonly string[] }): void {
  const missing = Object.values(manifest.outputs).filter((name) => !names.outputNames.includes(name));
  if (missing.length > 0) {
    throw new ModelLoadError(`${manifest.name}: the model has no output named ${missing.join(', ')} (it has ${names.outputNames.join(', ')})`);
  }
  if (!names.inputNames.includes(manifest.input.name)) {
    throw new ModelLoadError(`${manifest.name}: the model has no input named ${manifest.input.name}`);
  }
}

/**
 * A model's bytes, loaded once while any session of it is cached (here or in the CPU
 * worker, ./cpu/client.ts); a failed load is forgotten so that the next one tries again.
 */
export function loadModelBytes(manifest: ModelManifest): Promise<Uint8Array> {
  let bytes = modelBytes.get(manifest.id);
  if (!bytes) {
    bytes = backend.load(manifest);
    modelBytes.set(manifest.id, bytes);
    const loading = bytes;
    loading.catch(() => {
      if (modelBytes.get(manifest.id) === loading) modelBytes.delete(manifest.id);
    });
  }
  return bytes;
}

/** Drops a model's cached bytes once no session of it is cached here (the CPU worker's have their own copy). */
export function dropModelBytes(id: string): void {
  if (![...entries.values()].some((e) => e.modelId === id)) modelBytes.delete(id);
}

async function createSession(manifest: ModelManifest, ep: OrtEp, device: GPUDevice | null): Promise<ort.InferenceSession> {
  const data = await loadModelBytes(manifest);
  let s: ort.InferenceSession;
  try {
    // One creation at a time: ORT initialises its wasm runtime on the first one, and two
    // concurrent first creations fail with "multiple calls to 'initWasm()'".
    s = await serializedCreate(() =>
      backend.create(data, {
        executionProviders: ep === 'webgpu' ? [{ name: 'webgpu', device: device! } as ort.InferenceSession.ExecutionProviderConfig] : ['wasm'],
        graphOptimizationLevel: 'all',
        ...(ep === 'webgpu' ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
      }),
    );
  } catch (err) {
    const text = (err as Error).message ?? String(err);
    // A float16 model on a GPU without shader-f16: said plainly, ORT's words after it.
    if (ep === 'webgpu' && /requires f16/.test(text)) throw new ModelLoadError(`${float16WebgpuMessage(manifest.name, true)} (${text})`);
    throw new ModelLoadError(`${manifest.name}: ${text}`);
  }
  try {
    checkPartNames(manifest, s);
    const input = s.inputMetadata?.find((m) => m.name === manifest.input.name);
    if (ep === 'webgpu' && input?.isTensor && input.type === 'float16') throw new ModelLoadError(float16WebgpuMessage(manifest.name, false));
  } catch (err) {
    void s.release().catch(() => undefined);
    throw err;
  }
  return s;
}

/** Takes an entry out of the cache: new acquires make a new session. */
function evict(entry: Entry): void {
  if (entries.get(entry.key) === entry) entries.delete(entry.key);
  // The bytes go with the model's last cached session (the other EP may still use them).
  if (![...entries.values()].some((e) => e.modelId === entry.modelId)) modelBytes.delete(entry.modelId);
}

/** Frees the ORT session once nobody holds or uses it. */
function freeIfIdle(entry: Entry): void {
  if (entry.freed || entry.holders > 0 || entry.busy > 0) return;
  entry.freed = true;
  evict(entry);
  entry.session.then((s) => s.release()).catch(() => undefined);
}

/**
 * A handle on the session of a model on an EP; `release()` it when done. For 'webgpu',
 * `device` is our GPUDevice: the WebGPU EP of onnxruntime-web 1.30 takes it per session
 * (`{ name: 'webgpu', device }`, see app/gpu/device.ts), so ORT's output buffers live on
 * the device our kernels use. A failed creation leaves nothing cached.
 */
export async function acquireSession(manifest: ModelManifest, ep: OrtEp, device: GPUDevice | null = null): Promise<SessionHandle> {
  if (ep === 'webgpu' && !device) throw new ModelLoadError('the webgpu path needs a GPU device');
  let deviceId = 0;
  if (ep === 'webgpu' && device) {
    deviceId = deviceIds.get(device) ?? nextDeviceId++;
    deviceIds.set(device, deviceId);
  }
  const key = `${manifest.id}|${ep}|${deviceId}`;
  let entry = entries.get(key);
  if (!entry) {
    const created: Entry = { key, modelId: manifest.id, session: createSession(manifest, ep, device), holders: 0, busy: 0, freed: false };
    // A failed creation is forgotten at once (its bytes too), so the next acquire tries again.
    created.session.catch(() => {
      created.freed = true;
      evict(created);
    });
    entries.set(key, created);
    entry = created;
  }
  const held = entry;
  held.holders++;
  let session: ort.InferenceSession;
  try {
    session = await held.session;
  } catch (err) {
    held.holders--;
    throw err;
  }
  let released = false;
  return {
    session,
    async use(fn) {
      if (released) throw new Error(`${manifest.name}: the session was released`);
      held.busy++;
      try {
        return await fn();
      } finally {
        held.busy--;
        freeIfIdle(held);
      }
    },
    release() {
      if (released) return;
      released = true;
      held.holders--;
      freeIfIdle(held);
    },
  };
}

/** Runs `fn` with every handle marked in use (`SessionHandle.use`, nested): the page's sessions and the CPU worker's alike. */
export function withAllInUse<T>(handles: readonly Pick<SessionHandle, 'use'>[], fn: () => Promise<T>): Promise<T> {
  return handles.reduceRight<() => Promise<T>>((inner, h) => () => h.use(inner), fn)();
}

/**
 * A session held for the page's lifetime (the bench, which runs each model once): never
 * released. Panes use `acquireSession`.
 */
export async function getSession(manifest: ModelManifest, ep: OrtEp, device: GPUDevice | null = null): Promise<ort.InferenceSession> {
  return (await acquireSession(manifest, ep, device)).session;
}

/**
 * Forgets a model's bytes and sessions (a deleted saved model): the next acquire loads it
 * anew. Sessions still held are released by their last holder, never under a run.
 */
export function forgetModel(id: string): void {
  modelBytes.delete(id);
  for (const listener of forgetListeners) listener(id);
  for (const entry of [...entries.values()]) if (entry.modelId === id) evict(entry);
}

const forgetListeners: Array<(id: string) => void> = [];

/** Also told when a model is forgotten (the CPU worker's sessions, ./cpu/client.ts). */
export function onForgetModel(listener: (id: string) => void): void {
  forgetListeners.push(listener);
}

/** Forgets the WebGPU sessions (device lost); their holders release them as for forgetModel. */
export function dropWebGpuSessions(): void {
  for (const entry of [...entries.values()]) if (entry.key.includes('|webgpu|')) evict(entry);
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs `fn` after every earlier queued run finished. */
export function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn, fn);
  queue = next.catch(() => undefined);
  return next;
}
