import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkIntegrity, downloadBytes, IntegrityError, parseContentRange, type Progress } from './catalog';

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
