/**
 * ORT sessions, one per (model, execution provider), shared by the panes that use them.
 * Model bytes are fetched once per model. All `session.run` calls go through one queue:
 * the wasm EP runs on one thread anyway, and the WebGPU EP shares our device's queue.
 */
import type { ModelManifest } from '../types';
import { modelUrl } from '../models/registry';
import { userModelId } from '../models/userModels';
import { isRemoteUrl, loadRemoteModel } from '../models/catalog';
import { configureOrt, ort } from './ort';
import { ModelLoadError } from './runner';

export type OrtEp = 'wasm' | 'webgpu';

const modelBytes = new Map<string, Promise<Uint8Array>>();
const sessions = new Map<string, Promise<ort.InferenceSession>>();
/** Distinguishes sessions made for different GPUDevices (a new device after a loss). */
const deviceIds = new WeakMap<GPUDevice, number>();
let nextDeviceId = 1;

async function fetchModel(manifest: ModelManifest): Promise<Uint8Array> {
  // A dropped model saved in IndexedDB (models/fromOnnx.ts).
  const savedId = userModelId(manifest.url);
  if (savedId !== null) {
    const { userModels } = await import('../models/fromOnnx');
    if (!userModels) throw new ModelLoadError(`${manifest.name}: saved models need IndexedDB`);
    try {
      return await userModels.bytes(savedId);
    } catch (err) {
      throw new ModelLoadError(`${manifest.name}: the saved file could not be read (${(err as Error).message})`);
    }
  }
  // A remote model (absolute http(s) URL): downloaded once, checked, then from Cache Storage.
  if (isRemoteUrl(manifest.url)) {
    try {
      return await loadRemoteModel(manifest);
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

function checkOutputs(manifest: ModelManifest, session: ort.InferenceSession): void {
  const missing = Object.values(manifest.outputs).filter((name) => !session.outputNames.includes(name));
  if (missing.length > 0) {
    throw new ModelLoadError(`${manifest.name}: the model has no output named ${missing.join(', ')} (it has ${session.outputNames.join(', ')})`);
  }
  if (!session.inputNames.includes(manifest.input.name)) {
    throw new ModelLoadError(`${manifest.name}: the model has no input named ${manifest.input.name}`);
  }
}

/**
 * The session of a model on an EP. For 'webgpu', `device` is our GPUDevice: the WebGPU EP
 * of onnxruntime-web 1.30 takes it per session (`{ name: 'webgpu', device }`, see
 * app/gpu/device.ts), so ORT's output buffers live on the device our kernels use.
 */
export function getSession(manifest: ModelManifest, ep: OrtEp, device: GPUDevice | null = null): Promise<ort.InferenceSession> {
  if (ep === 'webgpu' && !device) return Promise.reject(new ModelLoadError('the webgpu path needs a GPU device'));
  let deviceId = 0;
  if (device) {
    deviceId = deviceIds.get(device) ?? nextDeviceId++;
    deviceIds.set(device, deviceId);
  }
  const key = `${manifest.id}|${ep}|${ep === 'webgpu' ? deviceId : 0}`;
  let session = sessions.get(key);
  if (!session) {
    session = (async () => {
      configureOrt();
      let bytes = modelBytes.get(manifest.id);
      if (!bytes) {
        bytes = fetchModel(manifest);
        modelBytes.set(manifest.id, bytes);
        bytes.catch(() => modelBytes.delete(manifest.id));
      }
      const data = await bytes;
      let s: ort.InferenceSession;
      try {
        // One creation at a time: ORT initialises its wasm runtime on the first one, and two
        // concurrent first creations fail with "multiple calls to 'initWasm()'".
        s = await serializedCreate(() => ort.InferenceSession.create(data, {
          executionProviders: ep === 'webgpu' ? [{ name: 'webgpu', device: device! } as ort.InferenceSession.ExecutionProviderConfig] : ['wasm'],
          graphOptimizationLevel: 'all',
          ...(ep === 'webgpu' ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
        }));
      } catch (err) {
        throw new ModelLoadError(`${manifest.name}: ${(err as Error).message ?? String(err)}`);
      }
      checkOutputs(manifest, s);
      return s;
    })();
    sessions.set(key, session);
    session.catch(() => sessions.delete(key));
  }
  return session;
}

/** Forgets a model's bytes and sessions (a deleted saved model). */
export function forgetModel(id: string): void {
  modelBytes.delete(id);
  for (const [key, s] of sessions) {
    if (key.startsWith(`${id}|`)) {
      sessions.delete(key);
      s.then((x) => x.release()).catch(() => undefined);
    }
  }
}

/** Drops the WebGPU sessions (device lost). */
export function dropWebGpuSessions(): void {
  for (const [key, s] of sessions) {
    if (key.includes('|webgpu|')) {
      sessions.delete(key);
      s.then((x) => x.release()).catch(() => undefined);
    }
  }
}

let createQueue: Promise<unknown> = Promise.resolve();

export function serializedCreate<T>(fn: () => Promise<T>): Promise<T> {
  const next = createQueue.then(fn, fn);
  createQueue = next.catch(() => undefined);
  return next;
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs `fn` after every earlier queued run finished. */
export function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn, fn);
  queue = next.catch(() => undefined);
  return next;
}
