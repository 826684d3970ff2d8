import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { dropAndWait, dropFile, ids, openApp, pane, sampleFile, smallestModel } from './helpers';
import { FIXTURE_PATHS } from './paths';

/**
 * Remote models (app/models/catalog.ts) against a local "model host": node:http on
 * 127.0.0.1 (a free port) serving a bundled ONNX and its manifest, with variants:
 * `good`, `flaky` (the first request dies midway → resume with Range), `corrupt` (one byte
 * flipped → rejected, nothing cached), `slow` (throttled → progress bar, cancel).
 * Every request is recorded, so a cache hit is seen as "no second request".
 */

const base = smallestModel();
const onnx = readFileSync(path.join(FIXTURE_PATHS.repoRoot, base.url));
const sha256 = createHash('sha256').update(onnx).digest('hex');
const corrupt = Buffer.from(onnx);
corrupt[Math.floor(corrupt.length / 2)] ^= 0xff;
const corruptSha = createHash('sha256').update(corrupt).digest('hex');

interface Hit {
  path: string;
  range: string | null;
}

let server: Server;
let origin = '';
const hits: Hit[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serveModel(req: IncomingMessage, res: ServerResponse, variant: string, nth: number): Promise<void> {
  const data = variant === 'corrupt' ? corrupt : onnx;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'content-length': String(data.length - start),
  };
  if (range) headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
  res.writeHead(range ? 206 : 200, headers);
  const body = data.subarray(start);
  if (variant === 'flaky' && nth === 1) {
    // The first request dies after about 40 %: the client must resume from there.
    res.write(body.subarray(0, Math.floor(body.length * 0.4)));
    await sleep(100);
    res.socket?.destroy();
    return;
  }
  if (variant === 'slow') {
    // ~160 KB/s: long enough to see the progress bar and press cancel.
    for (let at = 0; at < body.length && !res.destroyed; at += 16 * 1024) {
      res.write(body.subarray(at, at + 16 * 1024));
      await sleep(100);
    }
    res.end();
    return;
  }
  res.end(body);
}

test.beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-headers', 'range');
    res.setHeader('access-control-expose-headers', 'content-range, content-length');
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    const url = new URL(req.url ?? '/', origin);
    hits.push({ path: url.pathname, range: req.headers.range ?? null });
    const manifest = /^\/manifests\/(\w+)-(\w+)\.json$/.exec(url.pathname);
    if (manifest) {
      const [, variant, tag] = manifest;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ...base,
          id: `remote-${variant}-${tag}`,
          name: `Remote ${variant} ${tag}`,
          url: `${origin}/models/${variant}-${tag}.onnx`,
          bytes: onnx.length,
          sha256,
        }),
      );
      return;
    }
    const model = /^\/models\/(\w+)-(\w+)\.onnx$/.exec(url.pathname);
    if (model) {
      const nth = hits.filter((h) => h.path === url.pathname).length;
      void serveModel(req, res, model[1], nth);
      return;
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await new Promise((r) => server.close(r));
});

function modelHits(variant: string, tag: string): Hit[] {
  return hits.filter((h) => h.path === `/models/${variant}-${tag}.onnx`);
}

async function cacheKeys(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const cache = await caches.open('segarena-models');
    return (await cache.keys()).map((r) => r.url);
  });
}

async function open(page: Page, variant: string, tag: string): Promise<void> {
  await openApp(page, { path: 'wasm', manifest: `${origin}/manifests/${variant}-${tag}.json` });
}

const errorNotice = (page: Page) => page.locator(`[data-testid="${ids.notice}"][data-kind="error"]`);

test('a remote model is downloaded once, checked, cached, used offline, then freed', async ({ page }) => {
  const tag = `t${Date.now()}`;
  await open(page, 'good', tag);
  await dropAndWait(page, sampleFile(0), 180_000);
  expect(modelHits('good', tag)).toHaveLength(1);
  const row = page.getByTestId('cached-model-row');
  await page.getByTestId('catalog-panel').locator('summary').click();
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute('data-bytes', String(onnx.length));
  expect(await cacheKeys(page)).toEqual([`${origin}/models/good-${tag}.onnx`]);

  // A new page load: the bytes come from Cache Storage, no request reaches the host.
  await open(page, 'good', tag);
  await dropAndWait(page, sampleFile(0), 180_000);
  expect(modelHits('good', tag)).toHaveLength(1);

  await page.getByTestId('catalog-panel').locator('summary').click();
  await page.getByTestId('free-cached-model').click();
  await expect(row).toHaveCount(0);
  expect(await cacheKeys(page)).toEqual([]);
});

test('a download that fails midway resumes with a Range request', async ({ page }) => {
  const tag = `t${Date.now()}`;
  await open(page, 'flaky', tag);
  await dropAndWait(page, sampleFile(0), 180_000);
  const got = modelHits('flaky', tag);
  expect(got.length).toBe(2);
  expect(got[0].range).toBeNull();
  const from = Number(/^bytes=(\d+)-$/.exec(got[1].range ?? '')?.[1]);
  expect(from).toBeGreaterThan(0);
  expect(from).toBeLessThan(onnx.length);
  console.log(`catalog resume: first request cut, resumed with Range bytes=${from}- of ${onnx.length}`);
  expect(await cacheKeys(page)).toHaveLength(1);
});

test('a corrupt download is rejected naming expected and actual sha256; nothing is cached', async ({ page }) => {
  const tag = `t${Date.now()}`;
  await open(page, 'corrupt', tag);
  await dropFile(page, sampleFile(0));
  const notice = errorNotice(page).last();
  await expect(notice).toContainText(/sha256 mismatch/);
  await expect(notice).toContainText(sha256);
  await expect(notice).toContainText(corruptSha);
  await expect(pane(page, 0).getByTestId(ids.paneStatus)).toHaveAttribute('data-state', 'error');
  expect(await cacheKeys(page)).toEqual([]);
});

test('a slow download shows its progress and can be cancelled', async ({ page }) => {
  const tag = `t${Date.now()}`;
  await open(page, 'slow', tag);
  await dropFile(page, sampleFile(0));
  const bar = page.getByTestId('download-progress');
  await expect(bar).toBeVisible();
  await expect(bar).toHaveAttribute('data-total', String(onnx.length));
  await expect.poll(async () => Number(await bar.getAttribute('data-bytes')), { timeout: 30_000 }).toBeGreaterThan(0);
  const received = Number(await bar.getAttribute('data-bytes'));
  expect(received).toBeLessThan(onnx.length);
  await page.getByTestId('download-cancel').click();
  await expect(errorNotice(page).last()).toContainText(/cancelled/);
  await expect(bar).toHaveCount(0);
  expect(await cacheKeys(page)).toEqual([]);
});
