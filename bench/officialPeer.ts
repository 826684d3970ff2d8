/**
 * The official Ultralytics browser runtime as a benchmark peer ("path 5"): the npm package
 * `@ultralytics/yolo` (AGPL-3.0) is installed AT BENCH TIME into a temporary folder outside
 * the repository, never a dependency of the app and never copied into it. The bench page
 * imports it from a route this file serves (`OFFICIAL_ROUTE`), together with the ONNX
 * Runtime Web files it would otherwise fetch from its CDN (the app's own onnxruntime-web
 * build, from node_modules). Every request of the bench page that leaves its origin is
 * recorded and aborted (`guardNetwork`), and `probeNetwork` runs the peer once more on a
 * page that looks like a deployment (an https origin that is not localhost, no webdriver
 * flag) to record what it tries to send when nothing suppresses it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, relative, resolve, sep } from 'node:path';
import type { Browser, BrowserContext, Page } from '@playwright/test';

/** The pinned release (npm view @ultralytics/yolo version: 0.0.48 on 2026-12-07). */
export const OFFICIAL_PACKAGE = '@ultralytics/yolo';
export const OFFICIAL_VERSION = '0.0.48';
/** Where the bench page finds the installed package (`dist/`, `pkg/`) and the ORT files (`ort/`). */
export const OFFICIAL_ROUTE = '/__bench-ultralytics/';

export interface OfficialInstall {
  /** The temporary folder (removed by `remove`). */
  dir: string;
  pkgDir: string;
  version: string;
  license: string;
  /** The ONNX Runtime Web files served instead of its CDN's: the app's installed onnxruntime-web. */
  ortDir: string;
  ortVersion: string;
  installS: number;
  remove(): void;
}

/** `npm install --prefix <mktemp -d> @ultralytics/yolo@<pinned>`; an error string when it cannot be installed here. */
export function installOfficialPeer(repoRoot: string, log: (s: string) => void): OfficialInstall | { error: string } {
  const dir = mkdtempSync(join(tmpdir(), 'segarena-ultralytics-'));
  const inRepo = !relative(realpathSync(repoRoot), realpathSync(dir)).startsWith('..');
  if (inRepo) return { error: `the temporary folder ${dir} lies inside the repository: refusing to install an AGPL package there` };
  const spec = `${OFFICIAL_PACKAGE}@${OFFICIAL_VERSION}`;
  log(`official peer: npm install --prefix ${dir} ${spec}`);
  const t0 = Date.now();
  const r = spawnSync('npm', ['install', '--prefix', dir, spec, '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', '--loglevel', 'error'], {
    encoding: 'utf8',
    timeout: 5 * 60_000,
  });
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const pkgDir = join(dir, 'node_modules', ...OFFICIAL_PACKAGE.split('/'));
  if (r.status !== 0 || !existsSync(join(pkgDir, 'dist', 'index.js'))) {
    remove();
    return { error: `npm install ${spec} failed: ${(r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-2).join(' ')}` };
  }
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string; license: string };
  const ortDir = join(repoRoot, 'node_modules', 'onnxruntime-web', 'dist');
  const ortVersion = (JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'onnxruntime-web', 'package.json'), 'utf8')) as { version: string }).version;
  return { dir, pkgDir, version: pkg.version, license: pkg.license, ortDir, ortVersion, installS: (Date.now() - t0) / 1000, remove };
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
};

/** The file a route path names: `dist/…`, `pkg/…` of the package, `ort/…` of ORT; null for anything else (or an escape). */
function fileFor(install: OfficialInstall, sub: string): string | null {
  const [top, ...rest] = sub.split('/');
  const base = top === 'dist' || top === 'pkg' ? join(install.pkgDir, top) : top === 'ort' ? install.ortDir : null;
  if (!base || !rest.length) return null;
  const path = resolve(base, ...rest);
  return path.startsWith(base + sep) && existsSync(path) ? path : null;
}

/** Serves the installed package and the ORT files under `OFFICIAL_ROUTE` on `page`. */
export async function serveOfficialPeer(page: Page, install: OfficialInstall): Promise<void> {
  await page.route(`**${OFFICIAL_ROUTE}**`, async (route) => {
    const sub = decodeURIComponent(new URL(route.request().url()).pathname.slice(OFFICIAL_ROUTE.length));
    const file = fileFor(install, sub);
    if (!file) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ status: 200, contentType: TYPES[extname(file)] ?? 'application/octet-stream', body: readFileSync(file) });
  });
}

/** A request the page tried to send off its origin (recorded, then aborted). */
export interface OffOriginRequest {
  /** 'bench' = the measured page (localhost, webdriver); 'probe-*' = the deployment-like probe pages. */
  page: string;
  method: string;
  type: string;
  url: string;
  /** Bytes of the request body (a beacon's payload), and the body as printable text. */
  bodyBytes: number;
  body: string;
}

function printable(body: Buffer | null): string {
  if (!body?.length) return '';
  return [...body.subarray(0, 200)].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}

/** Records and aborts every request of `context` that leaves `origin` (we promise nothing leaves the browser). */
export async function guardNetwork(context: BrowserContext, origin: string, label: string, into: OffOriginRequest[]): Promise<void> {
  await context.route(
    (url) => url.origin !== origin && /^(https?|wss?):$/.test(url.protocol),
    async (route) => {
      const r = route.request();
      into.push({
        page: label,
        method: r.method(),
        type: r.resourceType(),
        url: r.url(),
        bodyBytes: r.postDataBuffer()?.length ?? 0,
        body: printable(r.postDataBuffer()),
      });
      await route.abort('blockedbyclient');
    },
  );
}

/** One probe page: which loader, what happened, how long. */
export interface ProbeOutcome {
  scenario: 'default-loader' | 'local-ort';
  /** What the page saw: loaded + ran a prediction, or the error / time-out. */
  outcome: string;
  webdriver: boolean;
  hostname: string;
}

const PROBE_ORIGIN = 'https://segarena-bench-probe.example';

/**
 * Runs the peer on two throw-away pages at a routed https origin that is not localhost, with
 * `navigator.webdriver` false (the package stays silent on localhost and under automation):
 * 'default-loader' = `YOLO.load` with no `ortBaseUrl` (what a site gets by default), given
 * `timeoutMs` to settle; 'local-ort' = with the local ORT files, then one prediction on the
 * CPU. Every off-origin request is recorded and aborted, nothing reaches the network.
 */
export async function probeNetwork(
  browser: Browser,
  install: OfficialInstall,
  model: { path: string },
  frame: { path: string },
  timeoutMs: number,
  into: OffOriginRequest[],
): Promise<ProbeOutcome[]> {
  const outcomes: ProbeOutcome[] = [];
  for (const scenario of ['default-loader', 'local-ort'] as const) {
    const context = await browser.newContext();
    try {
      await guardNetwork(context, PROBE_ORIGIN, `probe-${scenario}`, into);
      await context.route(`${PROBE_ORIGIN}/**`, async (route) => {
        const path = decodeURIComponent(new URL(route.request().url()).pathname);
        if (path === '/') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>probe</title><p>probe</p>' });
        if (path === '/model.onnx') return route.fulfill({ contentType: 'application/octet-stream', body: readFileSync(model.path) });
        if (path === '/frame') return route.fulfill({ contentType: 'application/octet-stream', body: readFileSync(frame.path) });
        const file = path.startsWith(OFFICIAL_ROUTE) ? fileFor(install, path.slice(OFFICIAL_ROUTE.length)) : null;
        if (!file) return route.fulfill({ status: 404, body: 'not found' });
        return route.fulfill({ contentType: TYPES[extname(file)] ?? 'application/octet-stream', body: readFileSync(file) });
      });
      // As a string: a function would be serialised after the TypeScript loader's transform.
      await context.addInitScript({ content: "Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false, configurable: true });" });
      const page = await context.newPage();
      await page.goto(`${PROBE_ORIGIN}/`);
      const result = await page.evaluate(
        async ({ base, scenario, timeoutMs }) => {
          const seen = { webdriver: navigator.webdriver, hostname: location.hostname };
          const mod = (await import(/* @vite-ignore */ `${base}dist/index.js`)) as {
            YOLO: { load(src: string, o: object): Promise<{ predict(i: ImageBitmap, o: object): Promise<{ boxes: unknown[] }>; free(): void }> };
          };
          const load = mod.YOLO.load(`${location.origin}/model.onnx`, { device: 'cpu', ...(scenario === 'local-ort' ? { ortBaseUrl: `${base}ort/` } : {}) });
          const timer = new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error(`YOLO.load had not settled after ${timeoutMs / 1000} s`)), timeoutMs),
          );
          try {
            const yolo = await Promise.race([load, timer]);
            const bitmap = await createImageBitmap(await (await fetch('/frame')).blob());
            const res = await yolo.predict(bitmap, {});
            yolo.free();
            // sendBeacon is queued: give it a moment to leave.
            await new Promise((r) => setTimeout(r, 1000));
            return { ...seen, outcome: `loaded, predicted ${res.boxes.length} box(es)` };
          } catch (e) {
            return { ...seen, outcome: `failed: ${e instanceof Error ? e.message : String(e)}` };
          }
        },
        { base: `${PROBE_ORIGIN}${OFFICIAL_ROUTE}`, scenario, timeoutMs },
      );
      outcomes.push({ scenario, ...result });
    } catch (e) {
      outcomes.push({ scenario, outcome: `probe failed: ${e instanceof Error ? e.message : String(e)}`, webdriver: true, hostname: '?' });
    } finally {
      await context.close();
    }
  }
  return outcomes;
}

/** What the package's installed code says it may contact (read from its files at bench time). */
export function declaredEndpoints(install: OfficialInstall): { file: string; urls: string[] }[] {
  const files = ['dist/index.js', 'pkg/ultralytics_inference_web.js'];
  const snippets = join(install.pkgDir, 'pkg', 'snippets');
  if (existsSync(snippets)) {
    for (const d of readdirSync(snippets)) for (const f of readdirSync(join(snippets, d))) files.push(`pkg/snippets/${d}/${f}`);
  }
  return files
    .filter((f) => existsSync(join(install.pkgDir, f)))
    .map((f) => ({ file: f, urls: [...new Set(readFileSync(join(install.pkgDir, f), 'utf8').match(/https?:\/\/[\w.-]+[\w./@:%-]*/g) ?? [])] }))
    .filter((x) => x.urls.length);
}
