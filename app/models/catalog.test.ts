import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ModelManifest } from '../types';
import { contentSecurityPolicyText } from '../../vite.config';
import {
  cachedManifests,
  checkIntegrity,
  downloadBytes,
  freeCached,
  IntegrityError,
  loadRemoteModel,
  MODEL_CACHE,
  notCachedMessage,
  parseContentRange,
  type Progress,
} from './catalog';
import { validateManifest } from './manifestSchema';

/** Deterministic payload: byte i = (i * 7 + 3) mod 251. */
function payload(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + 3) % 251;
  return out;
}

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

interface FakeOptions {
  /** Error out after this many body bytes, on the first `failTimes` requests. */
  failAfter?: number;
  failTimes?: number;
  honourRange?: boolean;
  chunk?: number;
}

/** A fake server: serves `data` in chunks, honours `Range: bytes=N-`, records requests. */
function fakeFetch(data: Uint8Array, o: FakeOptions = {}) {
  const requests: { range: string | null }[] = [];
  const chunk = o.chunk ?? 1000;
  const fetchImpl = async (_url: string, init?: RequestInit): Promise<Response> => {
    const range = (init?.headers as Record<string, string> | undefined)?.Range ?? null;
    requests.push({ range });
    const failing = requests.length <= (o.failTimes ?? 0);
    let start = 0;
    let status = 200;
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (range && o.honourRange !== false) {
      start = Number(/bytes=(\d+)-/.exec(range)![1]);
      status = 206;
      headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
    }
    const body = data.subarray(start);
    headers['content-length'] = String(body.length);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (failing && o.failAfter !== undefined && sent >= o.failAfter) {
          controller.error(new Error('connection reset'));
          return;
        }
        if (sent >= body.length) {
          controller.close();
          return;
        }
        const end = Math.min(body.length, sent + chunk, failing && o.failAfter !== undefined ? o.failAfter : Infinity);
        controller.enqueue(body.slice(sent, end));
        sent = end;
      },
    });
    return new Response(stream, { status, headers });
  };
  return { fetchImpl, requests };
}

describe('catalog download', () => {
  const data = payload(10_000);

  it('accounts progress monotonically up to the total', async () => {
    const { fetchImpl, requests } = fakeFetch(data, { chunk: 3000 });
    const seen: Progress[] = [];
    const got = await downloadBytes('https://x/m.onnx', { fetchImpl, onProgress: (p) => seen.push({ ...p }) });
    expect(requests).toHaveLength(1);
    expect(sha(got)).toBe(sha(data));
    expect(seen.map((p) => p.received)).toEqual([0, 3000, 6000, 9000, 10000]);
    expect(seen.every((p) => p.total === 10_000)).toBe(true);
  });

  it('accepts the right size and sha256, rejects a wrong one naming both values', async () => {
    await expect(checkIntegrity(data, 10_000, sha(data))).resolves.toBeUndefined();
    const bad = data.slice();
    bad[5000] ^= 1;
    const err = await checkIntegrity(bad, 10_000, sha(data)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toContain(sha(data));
    expect((err as Error).message).toContain(sha(bad));
    const sizeErr = await checkIntegrity(data.subarray(0, 9999), 10_000).catch((e: unknown) => e);
    expect((sizeErr as Error).message).toBe('bytes mismatch: expected 10000, got 9999');
  });

  it('rejects a corrupt download through downloadBytes', async () => {
    const bad = data.slice();
    bad[0] ^= 0xff;
    const { fetchImpl } = fakeFetch(bad);
    await expect(downloadBytes('https://x/m.onnx', { fetchImpl, expectedBytes: 10_000, sha256: sha(data) })).rejects.toThrow(/sha256 mismatch/);
  });

  it('resumes with a Range request from the bytes received', async () => {
    const { fetchImpl, requests } = fakeFetch(data, { failAfter: 4000, failTimes: 1, chunk: 1500 });
    const seen: Progress[] = [];
    const got = await downloadBytes('https://x/m.onnx', { fetchImpl, sha256: sha(data), expectedBytes: 10_000, onProgress: (p) => seen.push({ ...p }) });
    expect(sha(got)).toBe(sha(data));
    expect(requests.map((r) => r.range)).toEqual([null, 'bytes=4000-']);
    const resumed = seen.filter((p) => p.attempt === 2);
    expect(resumed[0].received).toBe(4000);
    expect(resumed.at(-1)!.received).toBe(10_000);
  });

  it('restarts from zero when the server ignores the Range', async () => {
    const { fetchImpl, requests } = fakeFetch(data, { failAfter: 4000, failTimes: 1, honourRange: false });
    const got = await downloadBytes('https://x/m.onnx', { fetchImpl, sha256: sha(data) });
    expect(got.length).toBe(10_000);
    expect(sha(got)).toBe(sha(data));
    expect(requests).toHaveLength(2);
  });

  it('gives up after maxAttempts and does not retry HTTP errors', async () => {
    const { fetchImpl, requests } = fakeFetch(data, { failAfter: 100, failTimes: 99 });
    await expect(downloadBytes('https://x/m.onnx', { fetchImpl, maxAttempts: 3 })).rejects.toThrow(/after 3 attempts/);
    expect(requests).toHaveLength(3);
    let calls = 0;
    const notFound = async () => {
      calls++;
      return new Response('no', { status: 404 });
    };
    await expect(downloadBytes('https://x/m.onnx', { fetchImpl: notFound })).rejects.toThrow(/HTTP 404/);
    expect(calls).toBe(1);
  });

  it('stops on abort', async () => {
    const controller = new AbortController();
    const { fetchImpl } = fakeFetch(data, { chunk: 1000 });
    const p = downloadBytes('https://x/m.onnx', {
      fetchImpl,
      signal: controller.signal,
      onProgress: (pr) => {
        if (pr.received >= 2000) controller.abort();
      },
    });
    await expect(p).rejects.toThrow(/cancelled/);
  });

  it('parses Content-Range', () => {
    expect(parseContentRange('bytes 100-199/1000')).toEqual({ start: 100, total: 1000 });
    expect(parseContentRange('bytes 5-9/*')).toEqual({ start: 5, total: null });
    expect(parseContentRange(null)).toBeNull();
  });
});

/** A server that sends `chunk`-byte pieces up to `limit` bytes (far past any expected size), counting what it was asked for. */
function endlessFetch(o: { chunk: number; contentLength?: number; limit?: number }) {
  const state = { requests: 0, pulls: 0 };
  const fetchImpl = async (): Promise<Response> => {
    state.requests++;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        state.pulls++;
        if (o.limit !== undefined && sent >= o.limit) return controller.close();
        controller.enqueue(new Uint8Array(o.chunk));
        sent += o.chunk;
      },
    });
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (o.contentLength !== undefined) headers['content-length'] = String(o.contentLength);
    return new Response(stream, { status: 200, headers });
  };
  return { fetchImpl, state };
}

describe('catalog download: size bounds', () => {
  it('stops reading as soon as the bytes pass the expected size (a hostile server streams forever)', async () => {
    const { fetchImpl, state } = endlessFetch({ chunk: 1000, limit: 1_000_000 });
    const err = await downloadBytes('https://x/m.onnx', { fetchImpl, expectedBytes: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toBe('bytes mismatch: expected 10000, got 11000 or more');
    // 11 chunks read (plus the stream's own read-ahead), no resume.
    expect(state.pulls).toBeLessThanOrEqual(13);
    expect(state.requests).toBe(1);
  });

  it('refuses a Content-Length above the expected size before reading the body', async () => {
    const { fetchImpl, state } = endlessFetch({ chunk: 1000, contentLength: 10_001, limit: 1_000_000 });
    const err = await downloadBytes('https://x/m.onnx', { fetchImpl, expectedBytes: 10_000 }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('bytes mismatch: expected 10000, got 10001 (Content-Length)');
    expect(state.requests).toBe(1);
    expect(state.pulls).toBeLessThanOrEqual(1); // at most the stream's start-up pull, never read
  });

  it('still accepts exactly the expected size', async () => {
    const { fetchImpl } = endlessFetch({ chunk: 1000, contentLength: 10_000, limit: 10_000 });
    const got = await downloadBytes('https://x/m.onnx', { fetchImpl, expectedBytes: 10_000 });
    expect(got.byteLength).toBe(10_000);
  });
});

describe('loadRemoteModel', () => {
  const data = payload(5000);
  const manifest = (patch: Partial<ModelManifest> = {}): ModelManifest => ({
    ...(JSON.parse(readFileSync('models/yolact/yolact-384.json', 'utf8')) as ModelManifest),
    id: 'remote',
    name: 'Remote',
    url: 'https://x/r.onnx',
    bytes: data.length,
    sha256: sha(data),
    ...patch,
  });

  afterEach(() => vi.unstubAllGlobals());

  it('refuses a remote manifest without bytes or sha256, before any request', async () => {
    let calls = 0;
    const fetchImpl = async () => {
      calls++;
      return new Response(data as Uint8Array<ArrayBuffer>);
    };
    await expect(loadRemoteModel(manifest({ bytes: undefined }), fetchImpl)).rejects.toThrow(
      'the remote model https://x/r.onnx is refused: its manifest must give its size (“bytes”), so the download can be checked',
    );
    await expect(loadRemoteModel(manifest({ bytes: undefined, sha256: undefined }), fetchImpl)).rejects.toThrow(
      'its manifest must give its size (“bytes”) and its digest (“sha256”), so the download can be checked',
    );
    expect(calls).toBe(0);
  });

  it('reports a full cache ("not cached: storage full") and still returns the checked bytes', async () => {
    const puts: string[] = [];
    vi.stubGlobal('caches', {
      open: async () => ({
        match: async () => undefined,
        delete: async () => true,
        put: async (url: string) => {
          puts.push(url);
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        },
      }),
    });
    const told: string[] = [];
    const { fetchImpl } = fakeFetch(data);
    const got = await loadRemoteModel(manifest(), fetchImpl, { onNotCached: (m) => told.push(m) });
    expect(sha(got)).toBe(sha(data));
    expect(puts).toEqual(['https://x/r.onnx']);
    expect(told).toEqual(['not cached: storage full; it will be downloaded again on the next visit']);
    expect(notCachedMessage(new Error('boom'))).toBe('not cached: boom; it will be downloaded again on the next visit');
  });
});

/** Cache Storage in memory: named caches of URL → Response, as much of the API as catalog.ts uses. */
function fakeCaches() {
  const named = new Map<string, Map<string, Response>>();
  const open = async (name: string) => {
    if (!named.has(name)) named.set(name, new Map());
    const entries = named.get(name)!;
    return {
      match: async (url: string | { url: string }) => entries.get(typeof url === 'string' ? url : url.url)?.clone(),
      put: async (url: string, response: Response) => void entries.set(url, response),
      delete: async (url: string) => entries.delete(url),
      keys: async () => [...entries.keys()].map((url) => ({ url })),
    };
  };
  return { open, named };
}

describe('cached remote models keep their manifest', () => {
  const data = payload(3000);
  const manifest = {
    ...(JSON.parse(readFileSync('models/yolact/yolact-384.json', 'utf8')) as ModelManifest),
    id: 'remote-kept',
    name: 'Remote kept',
    url: 'https://x/kept.onnx',
    bytes: data.length,
    sha256: sha(data),
  };

  afterEach(() => vi.unstubAllGlobals());

  it('a downloaded model is listed with its manifest until it is freed', async () => {
    const fake = fakeCaches();
    vi.stubGlobal('caches', fake);
    expect(await cachedManifests()).toEqual([]);
    await loadRemoteModel(manifest, fakeFetch(data).fetchImpl);
    expect(await cachedManifests()).toEqual([{ url: manifest.url, manifest }]);
    await freeCached(manifest.url);
    expect(await cachedManifests()).toEqual([]);
    expect([...fake.named.values()].map((c) => c.size)).toEqual([0, 0]);
  });

  it('a model cached without its manifest (an older version) is listed once it is used again', async () => {
    const fake = fakeCaches();
    vi.stubGlobal('caches', fake);
    await (await fake.open(MODEL_CACHE)).put(manifest.url, new Response(data as Uint8Array<ArrayBuffer>));
    expect(await cachedManifests()).toEqual([]);
    let requests = 0;
    const got = await loadRemoteModel(manifest, async () => {
      requests++;
      throw new Error('no network');
    });
    expect(sha(got)).toBe(manifest.sha256);
    expect(requests).toBe(0);
    expect(await cachedManifests()).toEqual([{ url: manifest.url, manifest }]);
  });
});

describe('models/catalog/remote-examples.json', () => {
  const examples = (JSON.parse(readFileSync('models/catalog/remote-examples.json', 'utf8')) as { catalog: ModelManifest[] }).catalog;

  /** The bundled file an example stands for: the ONNX of the same name under models/. */
  function bundledFile(url: string): string {
    const name = url.split('/').at(-1)!;
    const found = readdirSync('models', { recursive: true, encoding: 'utf8' }).filter((p) => p.split(/[\\/]/).at(-1) === name && !p.includes('checkpoints'));
    expect(found, `one bundled file named ${name}`).toHaveLength(1);
    return join('models', found[0]!);
  }

  it.each(examples.map((e) => [e.id, e] as const))('%s: a valid remote manifest whose bytes and sha256 are those of the file it names', (_id, e) => {
    const check = validateManifest(e);
    expect(check.ok ? [] : check.errors).toEqual([]);
    const file = readFileSync(bundledFile(e.url));
    expect(e.bytes).toBe(file.length);
    expect(e.sha256).toBe(sha(file));
  });
});

describe('production Content-Security-Policy', () => {
  it('lets the built app reach this origin and https only; the dev server keeps the local origins', () => {
    const connect = (dev: boolean) =>
      contentSecurityPolicyText(dev)
        .split('; ')
        .find((d) => d.startsWith('connect-src'))!;
    expect(connect(false)).toBe("connect-src 'self' data: blob: https:");
    expect(connect(false)).not.toMatch(/localhost|127\.0\.0\.1/);
    expect(connect(true)).toContain('http://127.0.0.1:*');
    const script = contentSecurityPolicyText(false)
      .split('; ')
      .find((d) => d.startsWith('script-src'));
    expect(script).toBe("script-src 'self' 'wasm-unsafe-eval'");
  });
});
