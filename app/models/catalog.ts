/**
 * Remote models: a manifest whose `url` is an absolute http(s) URL is downloaded on first
 * use (fetch + streamed reader: progress, cancel, resume with an HTTP Range request after a
 * failure midway), checked against the manifest's `bytes` and `sha256` (both required: a
 * download stops as soon as it passes `bytes`, so a hostile server cannot fill memory), then
 * kept in Cache Storage (`segarena-models`, keyed by URL) so later loads need no network.
 * When the cache refuses it (storage full), the caller is told: the model then downloads
 * again on every visit.
 *
 * The download logic (`downloadBytes`) is pure apart from `fetch`, which callers (and the
 * tests) can replace. The observable state (`subscribeCatalog`, `catalogSnapshot`) feeds
 * `ui/CatalogPanel.tsx`.
 */
import type { ModelManifest } from '../types';

export const MODEL_CACHE = 'segarena-models';

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export function isRemoteUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** A download refused: wrong size (too long: as soon as it shows) or wrong digest. Nothing is cached. */
export class IntegrityError extends Error {
  constructor(
    readonly what: 'bytes' | 'sha256',
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${what} mismatch: expected ${expected}, got ${actual}`);
    this.name = 'IntegrityError';
  }
}

export class DownloadCancelledError extends Error {
  constructor() {
    super('download cancelled');
    this.name = 'DownloadCancelledError';
  }
}

export interface Progress {
  /** Bytes received so far (kept across a resume). */
  received: number;
  /** Total size when known (Content-Length / Content-Range / manifest), else null. */
  total: number | null;
  /** 1 for the first request, 2 after the first resume… */
  attempt: number;
}

export interface DownloadOptions {
  expectedBytes?: number;
  sha256?: string;
  fetchImpl?: FetchLike;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Requests in all (the first plus the resumes). */
  maxAttempts?: number;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Throws IntegrityError when `bytes` differ from the expected size or digest. */
export async function checkIntegrity(bytes: Uint8Array, expectedBytes?: number, sha256?: string): Promise<void> {
  if (expectedBytes !== undefined && bytes.byteLength !== expectedBytes) {
    throw new IntegrityError('bytes', String(expectedBytes), String(bytes.byteLength));
  }
  if (sha256) {
    const actual = await sha256Hex(bytes);
    if (actual !== sha256.toLowerCase()) throw new IntegrityError('sha256', sha256.toLowerCase(), actual);
  }
}

/** `bytes 100-199/1000` → { start: 100, total: 1000 } (total null for `*`). */
export function parseContentRange(header: string | null): { start: number; total: number | null } | null {
  const m = header ? /^bytes\s+(\d+)-\d+\/(\d+|\*)$/i.exec(header.trim()) : null;
  if (!m) return null;
  return { start: Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) };
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function aborted(signal?: AbortSignal): boolean {
  return signal?.aborted === true;
}

/**
 * Downloads `url` with progress. A failure while reading the body is retried with
 * `Range: bytes=<received>-` (the partial bytes stay in memory); a server that ignores the
 * Range (status 200) restarts from zero. HTTP errors are not retried. The result is checked
 * with `checkIntegrity`.
 */
export async function downloadBytes(url: string, opts: DownloadOptions = {}): Promise<Uint8Array> {
  const fetchImpl = opts.fetchImpl ?? ((u, i) => fetch(u, i));
  const maxAttempts = opts.maxAttempts ?? 4;
  let chunks: Uint8Array[] = [];
  let received = 0;
  let total: number | null = opts.expectedBytes ?? null;
  let lastError: unknown = null;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (aborted(opts.signal)) throw new DownloadCancelledError();
    const headers: Record<string, string> = received > 0 ? { Range: `bytes=${received}-` } : {};
    let response: Response;
    try {
      response = await fetchImpl(url, { headers, signal: opts.signal, cache: 'no-store' });
    } catch (err) {
      if (aborted(opts.signal)) throw new DownloadCancelledError();
      lastError = err;
      continue; // network failure before any answer: try again (with the same Range)
    }
    if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
    if ((response.headers.get('content-type') ?? '').includes('text/html')) throw new Error(`${url} was not found (an HTML page came back)`);
    const length = Number(response.headers.get('content-length') ?? NaN);
    if (received > 0) {
      const range = response.status === 206 ? parseContentRange(response.headers.get('content-range')) : null;
      if (!range || range.start !== received) {
        // The server ignored the Range (or answered another one): start again from zero.
        chunks = [];
        received = 0;
        if (Number.isFinite(length)) total = length;
      } else if (range.total !== null) total = range.total;
    } else if (Number.isFinite(length)) total = length;
    // Announced longer than the manifest says: refused before reading a byte of it.
    if (opts.expectedBytes !== undefined && Number.isFinite(length) && received + length > opts.expectedBytes) {
      void response.body?.cancel().catch(() => undefined);
      throw new IntegrityError('bytes', String(opts.expectedBytes), `${received + length} (Content-Length)`);
    }
    opts.onProgress?.({ received, total, attempt });
    if (!response.body) {
      // No stream to stop midway (only fake or very old fetches): checked once complete.
      const all = new Uint8Array(await response.arrayBuffer());
      chunks.push(all);
      received += all.byteLength;
      opts.onProgress?.({ received, total, attempt });
      lastError = null;
      break;
    }
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (aborted(opts.signal)) {
          void reader.cancel().catch(() => undefined);
          throw new DownloadCancelledError();
        }
        received += value.byteLength;
        // Longer than the manifest says: stop now rather than hold whatever the server sends.
        if (opts.expectedBytes !== undefined && received > opts.expectedBytes) {
          void reader.cancel().catch(() => undefined);
          throw new IntegrityError('bytes', String(opts.expectedBytes), `${received} or more`);
        }
        chunks.push(value);
        opts.onProgress?.({ received, total, attempt });
      }
      lastError = null;
      break;
    } catch (err) {
      if (err instanceof IntegrityError) throw err; // not a network failure: no resume
      if (err instanceof DownloadCancelledError || aborted(opts.signal)) throw new DownloadCancelledError();
      lastError = err; // resume from `received` on the next attempt
    }
  }
  if (lastError !== null) {
    const why = lastError instanceof Error ? lastError.message : typeof lastError === 'string' ? lastError : JSON.stringify(lastError);
    throw new Error(`${url}: download failed after ${maxAttempts} attempts (${why})`, { cause: lastError });
  }
  const bytes = concat(chunks, received);
  await checkIntegrity(bytes, opts.expectedBytes, opts.sha256);
  return bytes;
}

// ------------------------------------------------------------------ Cache Storage

export interface CachedModel {
  url: string;
  name: string;
  bytes: number;
}

function cacheAvailable(): boolean {
  return typeof caches !== 'undefined';
}

export async function cachedBytes(url: string): Promise<Uint8Array | null> {
  if (!cacheAvailable()) return null;
  const cache = await caches.open(MODEL_CACHE);
  const hit = await cache.match(url);
  return hit ? new Uint8Array(await hit.arrayBuffer()) : null;
}

/** Stores a checked download; throws when it cannot (no Cache Storage, storage full). */
async function putCached(url: string, name: string, bytes: Uint8Array): Promise<void> {
  if (!cacheAvailable()) throw new Error('this page has no Cache Storage (a secure origin, https or localhost, has one)');
  const cache = await caches.open(MODEL_CACHE);
  await cache.put(
    url,
    new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength), 'x-model-name': encodeURIComponent(name) },
    }),
  );
}

export async function listCached(): Promise<CachedModel[]> {
  if (!cacheAvailable()) return [];
  const cache = await caches.open(MODEL_CACHE);
  const out: CachedModel[] = [];
  for (const request of await cache.keys()) {
    const response = await cache.match(request);
    if (!response) continue;
    const size = Number(response.headers.get('content-length') ?? NaN);
    out.push({
      url: request.url,
      name: decodeURIComponent(response.headers.get('x-model-name') ?? '') || request.url,
      bytes: Number.isFinite(size) ? size : (await response.arrayBuffer()).byteLength,
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export async function freeCached(url: string): Promise<void> {
  if (!cacheAvailable()) return;
  const cache = await caches.open(MODEL_CACHE);
  await cache.delete(url);
  await (await caches.open(MANIFEST_CACHE)).delete(url);
  changed();
}

/**
 * The manifests of cached models, kept next to their bytes (same URL key, MANIFEST_CACHE)
 * so that a cached model joins the pickers at start-up without its `?manifest=` link.
 */
export const MANIFEST_CACHE = 'segarena-model-manifests';

async function rememberManifest(manifest: ModelManifest): Promise<void> {
  const cache = await caches.open(MANIFEST_CACHE);
  await cache.put(manifest.url, new Response(JSON.stringify(manifest), { headers: { 'content-type': 'application/json' } }));
}

/**
 * The stored manifest of every model whose bytes are cached, as parsed JSON (the caller
 * checks it with the full schema before it registers it: storage can be edited by hand).
 * A model cached by an older version has no stored manifest and is left out.
 */
export async function cachedManifests(): Promise<Array<{ url: string; manifest: unknown }>> {
  if (!cacheAvailable()) return [];
  const models = await caches.open(MODEL_CACHE);
  const manifests = await caches.open(MANIFEST_CACHE);
  const out: Array<{ url: string; manifest: unknown }> = [];
  for (const request of await models.keys()) {
    const hit = await manifests.match(request.url);
    if (!hit) continue;
    try {
      out.push({ url: request.url, manifest: await hit.json() });
    } catch {
      out.push({ url: request.url, manifest: null }); // not JSON: the caller says so
    }
  }
  return out;
}

// ------------------------------------------------------------------ observable state

export interface ActiveDownload {
  url: string;
  name: string;
  received: number;
  total: number | null;
  attempt: number;
}

export interface CatalogSnapshot {
  downloads: ActiveDownload[];
  /** Bumped whenever the cache content may have changed. */
  version: number;
}

let snapshot: CatalogSnapshot = { downloads: [], version: 0 };
const listeners = new Set<() => void>();
const controllers = new Map<string, AbortController>();

function publish(next: CatalogSnapshot): void {
  snapshot = next;
  for (const l of listeners) l();
}

function changed(): void {
  publish({ ...snapshot, version: snapshot.version + 1 });
}

export function subscribeCatalog(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function catalogSnapshot(): CatalogSnapshot {
  return snapshot;
}

export function cancelDownload(url: string): void {
  controllers.get(url)?.abort();
}

/** Why a checked download was not cached, for an info notice (it works, but downloads again next visit). */
export function notCachedMessage(err: unknown): string {
  const quota = (err as { name?: unknown } | null)?.name === 'QuotaExceededError';
  const why = quota ? 'storage full' : ((err as Error)?.message ?? String(err));
  return `not cached: ${why}; it will be downloaded again on the next visit`;
}

export interface RemoteLoadOptions {
  /** Told when the download could not be kept in Cache Storage (notCachedMessage). */
  onNotCached?: (message: string) => void;
}

/**
 * The bytes of a remote model: from Cache Storage when there, else downloaded (progress in
 * the catalog state), checked and cached. Errors name the expected and actual values. A
 * manifest without `bytes` and `sha256` is refused before any request.
 */
export async function loadRemoteModel(manifest: ModelManifest, fetchImpl?: FetchLike, options: RemoteLoadOptions = {}): Promise<Uint8Array> {
  const url = manifest.url;
  const missing = [manifest.bytes === undefined && 'its size (“bytes”)', !manifest.sha256 && 'its digest (“sha256”)'].filter(Boolean);
  if (missing.length > 0) {
    throw new Error(`the remote model ${url} is refused: its manifest must give ${missing.join(' and ')}, so the download can be checked`);
  }
  const hit = await cachedBytes(url).catch(() => null);
  if (hit) {
    // A cached entry is checked too: a stale file under the same URL is dropped.
    try {
      await checkIntegrity(hit, manifest.bytes, manifest.sha256);
      // Cached before manifests were kept: keep it now, so the next visit lists the model.
      await rememberManifest(manifest).catch(() => undefined);
      return hit;
    } catch {
      await freeCached(url).catch(() => undefined);
    }
  }
  const controller = new AbortController();
  controllers.set(url, controller);
  const update = (p: Partial<ActiveDownload>) => publish({ ...snapshot, downloads: snapshot.downloads.map((d) => (d.url === url ? { ...d, ...p } : d)) });
  publish({
    ...snapshot,
    downloads: [...snapshot.downloads.filter((d) => d.url !== url), { url, name: manifest.name, received: 0, total: manifest.bytes ?? null, attempt: 1 }],
  });
  try {
    const bytes = await downloadBytes(url, {
      expectedBytes: manifest.bytes,
      sha256: manifest.sha256,
      fetchImpl,
      signal: controller.signal,
      onProgress: (p) => update(p),
    });
    try {
      await putCached(url, manifest.name, bytes);
      // Without its manifest the cached model is only reached through its ?manifest= link again.
      await rememberManifest(manifest).catch((err) => console.warn(`${manifest.name}: manifest not cached`, err));
    } catch (err) {
      const message = notCachedMessage(err);
      console.warn(`${manifest.name}: ${message}`, err);
      options.onNotCached?.(message);
    }
    return bytes;
  } finally {
    controllers.delete(url);
    publish({ downloads: snapshot.downloads.filter((d) => d.url !== url), version: snapshot.version + 1 });
  }
}
