import { readFileSync, readdirSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, type Locator, type Page } from '@playwright/test';
import type { snapshot } from '../app/state/store';
import type { ModelManifest } from '../app/types';
import { FIXTURE_PATHS } from './paths';

/**
 * Shared steps of the end-to-end specs, written against the UI contract (data-testids,
 * data-state, the `window.__segarena` hook). Selectors live here so a contract change is
 * one edit.
 */

export const ids = {
  dropZone: 'drop-zone',
  imageInput: 'image-input',
  samplePicker: 'sample-picker',
  webcamStart: 'webcam-start',
  webcamStop: 'webcam-stop',
  cameraPicker: 'camera-picker',
  pane: 'pane',
  addPane: 'add-pane',
  removePane: 'remove-pane',
  modelPicker: 'model-picker',
  pathPicker: 'path-picker',
  pathBadge: 'path-badge',
  scoreThreshold: 'score-threshold',
  topK: 'top-k',
  nmsIou: 'nms-iou',
  nmsKind: 'nms-kind',
  ranking: 'ranking',
  overlay: 'overlay',
  instanceCount: 'instance-count',
  fps: 'fps',
  stageTimings: 'stage-timings',
  instanceList: 'instance-list',
  instanceRow: 'instance-row',
  instanceDetails: 'instance-details',
  classToggle: 'class-toggle',
  paneStatus: 'pane-status',
  metricsTable: 'metrics-table',
  exportJson: 'export-json',
  exportPng: 'export-png',
  notice: 'notice',
} as const;

// ---------------------------------------------------------------------------------------
// Files

export interface FilePayload {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/** The committed sample images (public/samples/*.jpg), sorted by name. */
export function sampleNames(): string[] {
  if (!existsSync(FIXTURE_PATHS.samples)) return [];
  return readdirSync(FIXTURE_PATHS.samples)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort();
}

/** A sample image as a file payload; `index` into `sampleNames()`. Fails clearly when none. */
export function sampleFile(index = 0): FilePayload {
  const names = sampleNames();
  if (names.length === 0) {
    throw new Error(`No sample images in ${FIXTURE_PATHS.samples} (public/samples/*.jpg)`);
  }
  const name = names[index % names.length]!;
  return {
    name,
    mimeType: 'image/jpeg',
    buffer: readFileSync(path.join(FIXTURE_PATHS.samples, name)),
  };
}

/** Width and height of a baseline or progressive JPEG, read from its SOF marker. */
export function jpegSize(bytes: Buffer): { width: number; height: number } {
  let p = 2;
  while (p + 9 < bytes.length) {
    if (bytes[p] !== 0xff) throw new Error(`bad JPEG marker at ${p}`);
    const marker = bytes[p + 1]!;
    const len = bytes.readUInt16BE(p + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { height: bytes.readUInt16BE(p + 5), width: bytes.readUInt16BE(p + 7) };
    }
    p += 2 + len;
  }
  throw new Error('no SOF marker in JPEG');
}

/** Width and height from a PNG's IHDR chunk, after checking the 8-byte signature. */
export function pngSize(bytes: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(bytes.subarray(0, 8).equals(signature), 'PNG signature').toBe(true);
  expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** The bundled model manifests (models/<family>/*.json), largest input first. */
export function bundledManifests(): ModelManifest[] {
  const root = path.join(FIXTURE_PATHS.repoRoot, 'models');
  const found: ModelManifest[] = [];
  for (const family of readdirSync(root, { withFileTypes: true })) {
    if (!family.isDirectory() || family.name === 'data' || family.name === 'dataset') continue;
    for (const f of readdirSync(path.join(root, family.name))) {
      if (!f.endsWith('.json')) continue;
      try {
        const m = JSON.parse(readFileSync(path.join(root, family.name, f), 'utf8')) as ModelManifest;
        if (typeof m.id === 'string' && Array.isArray(m.classes) && m.input && existsSync(path.join(FIXTURE_PATHS.repoRoot, m.url))) {
          found.push(m);
        }
      } catch {
        // not a manifest
      }
    }
  }
  return found.sort((a, b) => b.input.width * b.input.height - a.input.width * a.input.height);
}

/** The reference model (`yolact-550` when bundled) and the smallest one (for the slow all-GPU path). */
export function mainModel(): ModelManifest {
  const all = bundledManifests();
  const m = all.find((x) => x.id === 'yolact-550') ?? all[0];
  if (!m) throw new Error('no bundled model manifest with its ONNX file under models/');
  return m;
}

/**
 * The model the behaviour specs run (UI, paths, errors, camera): `E2E_MODEL` if set, else
 * the smallest bundled one — SwiftShader and the wasm EP make every run cost seconds, and
 * accuracy is checked separately with the reference model (accuracy.spec).
 */
export function testModel(): ModelManifest {
  const wanted = process.env.E2E_MODEL;
  if (wanted) {
    const m = bundledManifests().find((x) => x.id === wanted);
    if (!m) throw new Error(`E2E_MODEL=${wanted} is not a bundled model`);
    return m;
  }
  return smallestModel();
}

export function smallestModel(): ModelManifest {
  const all = bundledManifests();
  const m = all[all.length - 1];
  if (!m) throw new Error('no bundled model manifest with its ONNX file under models/');
  return m;
}

// ---------------------------------------------------------------------------------------
// App

/** `window.__segarena.getState()`: the store's JSON snapshot (app/state/store.ts). */
export type AppSnapshot = ReturnType<typeof snapshot>;
export type PaneSnapshot = AppSnapshot['panes'][number];

/** Opens the app with URL parameters and waits for the test hook's `ready`; on failure the
 * page's errors are in the message (a blank page usually means a module failed to load).
 * The app starts empty (`autostart=0`: no first sample), the state the specs begin from;
 * e2e/first-screen.spec.ts opens the plain address. */
/** Opens the app with these query parameters (a list: the parameter once per value, as `manifest`). */
export async function openApp(page: Page, params: Record<string, string | string[]> = {}): Promise<void> {
  const errors = collectPageErrors(page);
  const search = new URLSearchParams({ autostart: '0' });
  for (const [key, value] of Object.entries(params)) for (const v of Array.isArray(value) ? value : [value]) search.append(key, v);
  const query = search.toString();
  await page.goto(`/${query ? `?${query}` : ''}`);
  await expect(page).toHaveTitle('SegArena');
  try {
    await page.waitForFunction(() => 'ready' in ((window as unknown as { __segarena?: object }).__segarena ?? {}), null, { timeout: 60_000 });
    await page.evaluate(() => (window as unknown as { __segarena: { ready: Promise<void> } }).__segarena.ready);
  } catch (err) {
    throw new Error(`the app did not become ready: ${String(err)}\npage errors:\n${errors.join('\n')}`, { cause: err });
  }
}

export async function getState(page: Page): Promise<AppSnapshot> {
  return page.evaluate(() => (window as unknown as { __segarena: { getState(): AppSnapshot } }).__segarena.getState());
}

export function panes(page: Page): Locator {
  return page.getByTestId(ids.pane);
}

export function pane(page: Page, index: number): Locator {
  return page.locator(`[data-testid="${ids.pane}"][data-pane-index="${index}"]`);
}

/** Dispatches dragenter, dragover and drop on the drop zone with a real File. */
export async function dropFile(page: Page, file: FilePayload): Promise<void> {
  await page.evaluate(
    ({ name, mimeType, base64, zoneId }) => {
      const binary = atob(base64);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, { type: mimeType }));
      const zone = document.querySelector(`[data-testid="${zoneId}"]`);
      if (!zone) throw new Error('no drop zone');
      for (const type of ['dragenter', 'dragover', 'drop']) {
        zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
      }
    },
    { name: file.name, mimeType: file.mimeType, base64: file.buffer.toString('base64'), zoneId: ids.dropZone },
  );
}

/** Dispatches a paste event whose clipboard holds a File, as Ctrl+V of a copied image does. */
export async function pasteFile(page: Page, file: FilePayload): Promise<void> {
  await page.evaluate(
    ({ name, mimeType, base64 }) => {
      const binary = atob(base64);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, { type: mimeType }));
      document.body.dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: transfer }));
    },
    { name: file.name, mimeType: file.mimeType, base64: file.buffer.toString('base64') },
  );
}

/**
 * Starts recording pane-status changes. Call before the action that makes panes run;
 * `waitForPanesDone` then waits until every pane has changed state since this call and
 * is `done` again — so a `done` left from the previous image never counts.
 */
export async function armDoneWatch(page: Page): Promise<void> {
  await page.evaluate((statusId) => {
    type Watch = { changed: Record<string, number>; errors: string[]; observer?: MutationObserver };
    const w = window as unknown as { __e2eWatch?: Watch };
    w.__e2eWatch?.observer?.disconnect();
    const watch: Watch = { changed: {}, errors: [] };
    const paneIndexOf = (el: Element) => el.closest('[data-testid="pane"]')?.getAttribute('data-pane-index') ?? '?';
    const note = (el: Element) => {
      const idx = paneIndexOf(el);
      watch.changed[idx] = (watch.changed[idx] ?? 0) + 1;
      if (el.getAttribute('data-state') === 'error') watch.errors.push(idx);
    };
    watch.observer = new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'attributes' && r.target instanceof Element && r.target.getAttribute('data-testid') === statusId) {
          note(r.target);
        } else if (r.type === 'childList') {
          for (const n of Array.from(r.addedNodes)) {
            if (!(n instanceof Element)) continue;
            const found = n.matches(`[data-testid="${statusId}"]`) ? [n] : Array.from(n.querySelectorAll(`[data-testid="${statusId}"]`));
            found.forEach(note);
          }
        }
      }
    });
    watch.observer.observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['data-state'],
    });
    w.__e2eWatch = watch;
  }, ids.paneStatus);
}

/**
 * How long a pane may stay in `error` before the wait fails. The app recovers by itself
 * from a lost GPU device (SwiftShader loses it now and then on a loaded machine): the pane
 * shows `error`, the device is re-acquired and the pane runs again. A real failure stays.
 */
const ERROR_GRACE_MS = 15_000;

/**
 * Waits until every pane (or the given ones) changed status since `armDoneWatch` and shows
 * `done`. A pane that stays in `error` fails the wait with the page's notices in the message.
 */
export async function waitForPanesDone(page: Page, options: { panes?: number[]; timeout?: number } = {}): Promise<void> {
  const timeout = options.timeout ?? 120_000;
  const handle = await page.waitForFunction(
    ({ statusId, only, graceMs }) => {
      const w = window as unknown as { __e2eWatch?: { changed: Record<string, number>; errorSince?: number } };
      const statuses = Array.from(document.querySelectorAll(`[data-testid="${statusId}"]`));
      if (statuses.length === 0) return false;
      const rows = statuses.map((el) => ({
        idx: el.closest('[data-testid="pane"]')?.getAttribute('data-pane-index') ?? '?',
        state: el.getAttribute('data-state'),
      }));
      const wanted = only ? rows.filter((r) => only.includes(Number(r.idx))) : rows;
      // Every pane asked for must exist (a pane being added has no status yet: not done).
      if (only && wanted.length < only.length) return false;
      if (wanted.some((r) => r.state === 'error')) {
        const watch = w.__e2eWatch;
        if (!watch) return { error: wanted };
        watch.errorSince ??= performance.now();
        if (performance.now() - watch.errorSince > graceMs) return { error: wanted };
        return false;
      }
      if (w.__e2eWatch) w.__e2eWatch.errorSince = undefined;
      const ok = wanted.every((r) => r.state === 'done' && (w.__e2eWatch?.changed[r.idx] ?? 0) > 0);
      return ok ? { ok: true } : false;
    },
    { statusId: ids.paneStatus, only: options.panes ?? null, graceMs: ERROR_GRACE_MS },
    { timeout, polling: 100 },
  );
  const outcome = (await handle.jsonValue()) as { ok?: boolean; error?: unknown };
  if (outcome.error) {
    const notices = await page.getByTestId(ids.notice).allInnerTexts();
    throw new Error(`pane in error state: ${JSON.stringify(outcome.error)}; notices: ${JSON.stringify(notices)}`);
  }
}

/** Drops a file and waits for every pane to show its result. */
export async function dropAndWait(page: Page, file: FilePayload, timeout?: number): Promise<void> {
  await armDoneWatch(page);
  await dropFile(page, file);
  await waitForPanesDone(page, { timeout });
}

/** Runs `action` (which changes a setting or the source) and waits for the panes' new results. */
export async function rerun(page: Page, action: () => Promise<void>, opts: { panes?: number[]; timeout?: number } = {}): Promise<void> {
  await armDoneWatch(page);
  await action();
  await waitForPanesDone(page, opts);
}

/** Every instance's box lies inside the frame (1 px of slack for rounding) and is not empty. */
export function expectBoxesInside(detections: readonly { box: [number, number, number, number] }[], width: number, height: number): void {
  for (const d of detections) {
    const [x1, y1, x2, y2] = d.box;
    expect(x1).toBeGreaterThanOrEqual(-1);
    expect(y1).toBeGreaterThanOrEqual(-1);
    expect(x2).toBeLessThanOrEqual(width + 1);
    expect(y2).toBeLessThanOrEqual(height + 1);
    expect(x2).toBeGreaterThan(x1);
    expect(y2).toBeGreaterThan(y1);
  }
}

/** Sets a range or number input (React listens to `input`); `fill` does not work on ranges. */
export async function setNumberInput(input: Locator, value: number): Promise<void> {
  await input.evaluate((el, v) => {
    const inputEl = el as HTMLInputElement;
    // The native setter, called on the element: React's own value tracking would swallow a plain assignment.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(inputEl)
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
    setter.call(inputEl, String(v));
    inputEl.dispatchEvent(new Event('input', { bubbles: true }));
    inputEl.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}

// ---------------------------------------------------------------------------------------
// Instances as the overlay reports them

export interface Instance {
  cls: string;
  score: number;
  box: [number, number, number, number];
}

export async function readInstances(paneLocator: Locator): Promise<Instance[]> {
  return paneLocator.getByTestId(ids.instanceRow).evaluateAll((rows) =>
    rows.map((r) => {
      const box = (r.getAttribute('data-box') ?? '').split(',').map(Number);
      return {
        cls: r.getAttribute('data-class') ?? '',
        score: Number(r.getAttribute('data-score')),
        box: [box[0], box[1], box[2], box[3]] as [number, number, number, number],
      };
    }),
  );
}

export async function instanceCount(paneLocator: Locator): Promise<number> {
  const text = await paneLocator.getByTestId(ids.instanceCount).innerText();
  const n = Number(text.trim().match(/\d+/)?.[0]);
  if (!Number.isFinite(n)) throw new Error(`instance-count is not a number: "${text}"`);
  return n;
}

/**
 * Score threshold for tests of UI behaviour (hover, hiding classes, NMS kinds) that need a
 * few instances whatever the model's quality: the manifests' candidate threshold.
 */
export const LOW_SCORE_THRESHOLD = 0.05;

/**
 * Makes sure pane `index` lists at least `min` instances: if the model's default threshold
 * gives fewer, lowers the pane's score threshold and waits for the re-run. Accuracy is
 * checked elsewhere (image.spec's first test at default settings, accuracy.spec).
 */
export async function ensureInstances(page: Page, index = 0, min = 1): Promise<void> {
  const p = pane(page, index);
  if ((await instanceCount(p)) >= min) return;
  await rerun(page, () => setNumberInput(p.getByTestId(ids.scoreThreshold), LOW_SCORE_THRESHOLD), { panes: [index] });
  expect(await instanceCount(p), `instances at score ≥ ${LOW_SCORE_THRESHOLD}`).toBeGreaterThanOrEqual(min);
}

export function boxIou(a: readonly number[], b: readonly number[]): number {
  const ix = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const iy = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = ix * iy;
  const areaA = Math.max(0, a[2]! - a[0]!) * Math.max(0, a[3]! - a[1]!);
  const areaB = Math.max(0, b[2]! - b[0]!) * Math.max(0, b[3]! - b[1]!);
  const union = areaA + areaB - inter;
  return union > 0 ? inter / union : 0;
}

/** Pairs each instance of `a` with the unused same-class instance of `b` of highest box IoU. */
export function matchInstances(a: Instance[], b: Instance[]): Array<{ a: Instance; b?: Instance; iou: number }> {
  const used = new Set<number>();
  return a.map((x) => {
    let best = -1;
    let bestIou = 0;
    b.forEach((y, j) => {
      if (used.has(j) || y.cls !== x.cls) return;
      const iou = boxIou(x.box, y.box);
      if (iou > bestIou) {
        bestIou = iou;
        best = j;
      }
    });
    if (best >= 0) used.add(best);
    return { a: x, b: best >= 0 ? b[best] : undefined, iou: bestIou };
  });
}

// ---------------------------------------------------------------------------------------
// Screenshots

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(FIXTURE_PATHS.screenshots, { recursive: true });
  const file = path.join(FIXTURE_PATHS.screenshots, `${name}.png`);
  // From the top: a sticky header would otherwise be painted where the page was scrolled to.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Collects uncaught page errors and console errors, for tests to assert on. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/**
 * Sets pane `index`'s score threshold and waits for the re-run it causes; when the pane is
 * already at that threshold there is no re-run to wait for, so nothing is done.
 */
export async function setScoreThreshold(page: Page, index: number, value: number): Promise<void> {
  const current = (await getState(page)).panes[index]!.settings.scoreThreshold;
  if (Math.abs(current - value) < 1e-9) return;
  const p = pane(page, index);
  await rerun(page, () => setNumberInput(p.getByTestId(ids.scoreThreshold), value), { panes: [index] });
  expect((await getState(page)).panes[index]!.settings.scoreThreshold).toBeCloseTo(value, 6);
}

/**
 * ONNX bytes with the metadata key `names` renamed `namex` (same length, so the protobuf
 * stays valid; StringStringEntryProto.key is field 1, bytes 0x0a 0x05 "names"): a YOLO-seg
 * export the app must ask class names for.
 */
export function withoutClassNames(bytes: Buffer): Buffer {
  const key = Buffer.from([0x0a, 0x05, ...Buffer.from('names')]);
  const at = bytes.lastIndexOf(key);
  if (at < 0) throw new Error('the test model has no names metadata to blank out');
  const out = Buffer.from(bytes);
  out[at + 2 + 4] = 'x'.charCodeAt(0);
  return out;
}

/** Picks a model in pane `index` and waits for the pane to run it. */
export async function selectModel(page: Page, index: number, id: string, timeout = 240_000): Promise<void> {
  await rerun(
    page,
    () =>
      pane(page, index)
        .getByTestId(ids.modelPicker)
        .selectOption(id)
        .then(() => undefined),
    { panes: [index], timeout },
  );
}

/**
 * A barely trained bundled model may find nothing at its default threshold: then the pane's
 * score threshold goes down to `weak` (the candidate test follows it down) and it must find
 * something there.
 */
export async function ensureWeakInstances(page: Page, index: number, weak: number, timeout = 240_000): Promise<void> {
  if ((await instanceCount(pane(page, index))) > 0) return;
  await rerun(page, () => setNumberInput(pane(page, index).getByTestId(ids.scoreThreshold), weak), { panes: [index], timeout });
  expect(await instanceCount(pane(page, index)), `pane ${index + 1}: instances at score ≥ ${weak}`).toBeGreaterThan(0);
}
