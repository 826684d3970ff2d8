import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import { hugeClassCountYolact } from '../app/families/hostileOnnx';
import {
  armDoneWatch,
  collectPageErrors,
  dropAndWait,
  dropFile,
  ensureInstances,
  getState,
  ids,
  instanceCount,
  LOW_SCORE_THRESHOLD,
  openApp,
  pane,
  rerun,
  sampleFile,
  setScoreThreshold,
  testModel,
  waitForPanesDone,
  type AppSnapshot,
  type FilePayload,
} from './helpers';
import { FIXTURE_PATHS } from './paths';

/**
 * The bad-input matrix (issue 14). Each row: an input, how it reaches the app, and what the
 * user must be told. After every row the app still segments a sample image, and nothing
 * loaded before is lost: the page was set up with a dropped model and two panes with
 * non-default settings, which must all still be there. One page serves the whole table;
 * rows that need their own URL open a second page in the same browser context (so the
 * dropped model, saved in IndexedDB, must show there too).
 */

type Deliver =
  /** Dropped on the page. */
  | { drop: () => FilePayload }
  /** The Start-webcam button, with getUserMedia made to reject with this DOMException. */
  | { camera: 'NotAllowedError' | 'NotFoundError' }
  /** A second page opened with these URL parameters; `serve` answers /e2e-manifests/<file> (null: HTTP 404). */
  | { open: Record<string, string>; serve?: Record<string, string | null> }
  /** `window.__segarena.loseDevice()`. */
  | { loseDevice: true };

interface Row {
  input: string;
  deliver: Deliver;
  /** The error and/or info notice the user must see. */
  error?: RegExp;
  info?: RegExp;
  /** The info replaces the error on screen (one notice per topic): the error is looked up in the notice log. */
  errorReplaced?: true;
}

const repoFile = (rel: string) => readFileSync(path.join(FIXTURE_PATHS.repoRoot, rel));
const file = (name: string, mimeType: string, bytes: () => Buffer | Uint8Array): Deliver => ({
  drop: () => ({ name, mimeType, buffer: Buffer.from(bytes()) }),
});
const halfOf = (b: Buffer) => b.subarray(0, Math.floor(b.length / 2));
const MANIFEST = '/e2e-manifests/';

const rows: Row[] = [
  {
    input: 'text bytes named .jpg',
    deliver: file('notes.jpg', 'image/jpeg', () => Buffer.from('This is not a JPEG, just some text.\n')),
    error: /“notes\.jpg” could not be decoded/,
  },
  {
    input: 'a JPEG cut in half',
    deliver: file('truncated.jpg', 'image/jpeg', () => halfOf(sampleFile(0).buffer)),
    error: /not an image, or it is corrupt: “truncated\.jpg”/,
  },
  { input: 'a 0-byte file', deliver: file('empty.jpg', 'image/jpeg', () => Buffer.alloc(0)), error: /“empty\.jpg” is empty \(0 bytes\)/ },
  {
    input: 'a 10000×10000 PNG',
    deliver: file('huge.png', 'image/png', () => flatPng(10000, 10000)),
    info: /“huge\.png” is 10000×10000: it was downscaled to 4096×4096/,
  },
  {
    input: 'a 30000×200 PNG',
    deliver: file('strip.png', 'image/png', () => flatPng(30000, 200)),
    info: /“strip\.png” is 30000×200: it was downscaled to 4096×27/,
  },
  {
    input: 'an animated GIF',
    deliver: file('anim.gif', 'image/gif', () => animatedGif(64, 48)),
    info: /“anim\.gif” is an animated GIF \(2 frames\): only its first frame is segmented/,
  },
  {
    input: 'an SVG without a size',
    deliver: file('drawing.svg', 'image/svg+xml', () => Buffer.from(SVG)),
    info: /“drawing\.svg” is an SVG.*drawn at 1024×768/,
  },
  {
    input: 'an ONNX cut after 1000 bytes',
    deliver: file('cut.onnx', 'application/octet-stream', () => repoFile(testModel().url).subarray(0, 1000)),
    error: /Model failed to load: “cut\.onnx”.*not a (readable|valid) ONNX/,
  },
  {
    input: 'random bytes named .onnx',
    deliver: file('noise.onnx', 'application/octet-stream', () => randomBytes(4096)),
    error: /Model failed to load: “noise\.onnx”.*not (a readable|a valid|an) ONNX/,
  },
  {
    input: 'a valid ONNX of another layout (a Mask R-CNN mask head)',
    deliver: file('mask-head.onnx', 'application/octet-stream', () => repoFile('models/maskrcnn/maskrcnn-512-mask-head.onnx')),
    error: /Model failed to load: “mask-head\.onnx”.*[Ee]xpected/,
  },
  {
    input: 'a YOLACT header with conf [1, 100, 100000001]',
    deliver: file('huge-classes.onnx', 'application/octet-stream', hugeClassCountYolact),
    error: /Model failed to load: “huge-classes\.onnx”.*(100000001|classes)/,
  },
  { input: 'a denied camera', deliver: { camera: 'NotAllowedError' }, error: /Camera access was denied/ },
  { input: 'no camera', deliver: { camera: 'NotFoundError' }, error: /No camera was found/ },
  {
    input: '?manifest= that answers 404',
    deliver: { open: { manifest: `${MANIFEST}missing.json` }, serve: { 'missing.json': null } },
    error: /missing\.json (could not be read: the server answered HTTP 404|was not found)/,
  },
  {
    input: '?manifest= that is not JSON',
    deliver: { open: { manifest: `${MANIFEST}malformed.json` }, serve: { 'malformed.json': '{"id": "broken", "classes": [' } },
    error: /malformed\.json is not valid JSON/,
  },
  { input: 'no WebGPU (?nowebgpu=1)', deliver: { open: { nowebgpu: '1', path: 'wasm' } }, info: /WebGPU is not available in this browser: running on the CPU/ },
  { input: 'the GPU device lost', deliver: { loseDevice: true }, error: /The GPU device was lost/, info: /The GPU device was recovered/, errorReplaced: true },
];

// ---------------------------------------------------------------------------------------
// The page every row runs against: a bundled model in pane 1, a dropped one in the new pane 2 it opened, changed settings.

let page: Page;
let pageErrors: string[];
let droppedId: string;
/** What must survive every row. */
let kept: ReturnType<typeof keptOf>;

const keptOf = (s: AppSnapshot) => s.panes.map((p) => ({ modelId: p.modelId, path: p.path, settings: p.settings, hiddenClasses: p.hiddenClasses }));

test.describe.configure({ timeout: 300_000 });

test.beforeAll(async ({ browser }) => {
  test.setTimeout(600_000);
  // A context of our own: rows with their own URL open a second page in it.
  page = await (await browser.newContext()).newPage();
  pageErrors = collectPageErrors(page);
  const bundled = testModel();
  await openApp(page, { path: 'wasm+gpu', model: bundled.id });
  await dropAndWait(page, sampleFile(0), 180_000);
  // A copy of the bundled model under another name: a user model, saved and run in a new pane 2.
  const onnx = repoFile(bundled.url);
  await dropFile(page, { name: 'my model.onnx', mimeType: 'application/octet-stream', buffer: onnx });
  await expect(pane(page, 1).getByTestId(ids.paneStatus)).toHaveAttribute('data-state', 'done', { timeout: 180_000 });
  droppedId = (await getState(page)).panes[1]!.modelId;
  expect(droppedId).toMatch(/my.model/);
  await setScoreThreshold(page, 1, LOW_SCORE_THRESHOLD);
  // Pane 1 keeps the bundled model, with greedy NMS and the low threshold.
  await setScoreThreshold(page, 0, LOW_SCORE_THRESHOLD);
  await rerun(
    page,
    () =>
      pane(page, 0)
        .getByTestId(ids.nmsKind)
        .selectOption('greedy')
        .then(() => undefined),
    { panes: [0] },
  );
  kept = keptOf(await getState(page));
  expect(kept.map((p) => p.modelId)).toEqual([bundled.id, droppedId]);
  expect(kept[0]!.settings.nmsKind).toBe('greedy');
});

test.afterAll(async () => {
  await page?.context().close();
});

for (const row of rows) {
  test(`${row.input}: ${[row.error, row.info].filter(Boolean).join(' + ')}`, async () => {
    const before = await getState(page);
    const d = row.deliver;
    if ('open' in d) {
      await ownPage(row, d);
    } else {
      await forgetNotices(page);
      const accepted = 'drop' in d && !row.error; // an image taken, with an info notice
      if (accepted) await armDoneWatch(page);
      const dropped = 'drop' in d ? d.drop() : null;
      if (dropped) await dropFile(page, dropped);
      if ('camera' in d) await refuseCamera(page, d.camera);
      if ('loseDevice' in d) {
        await page.evaluate(() => (window as unknown as { __segarena: { loseDevice(): void } }).__segarena.loseDevice());
      }
      await expectNotices(page, row);
      const now = await getState(page);
      if (accepted) {
        // Taken as an image: it is the source now and every pane ran on it.
        await waitForPanesDone(page, { timeout: 180_000 });
        expect((await getState(page)).source.name).toBe(dropped!.name);
      } else {
        // Refused (or not an image at all): the image shown before is still the source.
        expect({ ...now.source, cameraId: null }).toEqual({ ...before.source, cameraId: null });
      }
    }
    // The app still segments, with the same panes, settings and models as before.
    await dropAndWait(page, sampleFile(0), 180_000);
    for (const i of [0, 1]) expect(await instanceCount(pane(page, i)), `instances in pane ${i + 1}`).toBeGreaterThan(0);
    await expectNothingLost(page);
  });
}

// ---------------------------------------------------------------------------------------
// Steps

/** Marks the notices on screen, so that only ones shown after this count. */
async function forgetNotices(p: Page): Promise<void> {
  await p.evaluate(() => document.querySelectorAll('[data-testid="notice"]').forEach((n) => n.setAttribute('data-e2e-old', '1')));
}

async function expectNotices(p: Page, row: Row): Promise<void> {
  for (const [kind, text] of [
    ['error', row.error],
    ['info', row.info],
  ] as const) {
    if (!text) continue;
    if (kind === 'error' && row.errorReplaced) {
      await expect.poll(async () => (await getState(p)).noticeLog.some((n) => n.kind === kind && text.test(n.text)), `${kind} notice ${text} (log)`).toBe(true);
      continue;
    }
    const notice = p.locator(`[data-testid="${ids.notice}"][data-kind="${kind}"]:not([data-e2e-old])`).filter({ hasText: text });
    await expect(notice, `${kind} notice ${text}`).toBeVisible();
    await expect(notice).toHaveAttribute('role', kind === 'error' ? 'alert' : 'status');
  }
}

async function expectNothingLost(p: Page): Promise<void> {
  const s = await getState(p);
  expect(keptOf(s), 'panes, their models and settings').toEqual(kept);
  expect(
    s.savedModels.map((m) => m.id),
    'saved models',
  ).toContain(droppedId);
  for (const i of [0, 1]) {
    await expect(pane(p, i).getByTestId(ids.modelPicker).locator(`option[value="${droppedId}"]`)).toHaveCount(1);
  }
  expect(
    pageErrors.filter((e) => e.startsWith('pageerror')),
    'uncaught page errors',
  ).toEqual([]);
}

/** getUserMedia rejects as a browser does when the camera is blocked (NotAllowedError) or absent (NotFoundError). */
async function refuseCamera(p: Page, name: string): Promise<void> {
  await p.evaluate((errorName) => {
    const media = navigator.mediaDevices;
    const real = media.getUserMedia.bind(media);
    media.getUserMedia = () => {
      media.getUserMedia = real; // once
      return Promise.reject(new DOMException(`e2e: ${errorName}`, errorName));
    };
  }, name);
  await p.getByTestId(ids.webcamStart).click();
  await expect.poll(async () => (await getState(p)).source.webcamActive).toBe(false);
}

/** A row opened as its own URL, in the shared page's context: the dropped model (IndexedDB) must be listed there too. */
async function ownPage(row: Row, d: Extract<Deliver, { open: unknown }>): Promise<void> {
  const p = await page.context().newPage();
  const errors = collectPageErrors(p);
  try {
    if (d.serve) {
      const served = d.serve;
      await p.route(`**${MANIFEST}**`, (route) => {
        const body = served[new URL(route.request().url()).pathname.split('/').at(-1) ?? ''] ?? null;
        return body === null
          ? route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' })
          : route.fulfill({ status: 200, contentType: 'application/json', body });
      });
    }
    await openApp(p, { path: 'wasm+gpu', model: testModel().id, ...d.open });
    await expectNotices(p, row);
    await expect(pane(p, 0).getByTestId(ids.modelPicker).locator(`option[value="${droppedId}"]`)).toHaveCount(1);
    expect((await getState(p)).savedModels.map((m) => m.id)).toContain(droppedId);
    await dropAndWait(p, sampleFile(0), 180_000);
    await ensureInstances(p, 0, 1);
    expect(
      errors.filter((e) => e.startsWith('pageerror')),
      'uncaught page errors',
    ).toEqual([]);
  } finally {
    await p.close();
  }
}

// ---------------------------------------------------------------------------------------
// Inputs made at test time

/** A flat grey PNG: pixels in memory, but a few hundred kB once compressed. */
function flatPng(width: number, height: number): Buffer {
  const options = { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 } as const;
  const png = new PNG({ width, height, ...options });
  png.data = Buffer.alloc(width * height, 128);
  return PNG.sync.write(png, { ...options, filterType: 0, deflateLevel: 1 });
}

/** A viewBox but no width or height: the app must choose a size (its default: 1024 on the long side). */
const SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300"><rect width="400" height="300" fill="#8ab"/><circle cx="200" cy="150" r="90" fill="#c33"/></svg>';

/** Deterministic noise (xorshift32), not a protobuf. */
function randomBytes(n: number): Buffer {
  let x = 0x9e3779b9;
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/**
 * A looping 2-frame GIF89a, written by hand: a white frame, then a black one. Layout:
 * header, logical screen (2-colour global table), NETSCAPE2.0 loop block, then per frame a
 * graphic control block (0.1 s), an image descriptor and its LZW data; the trailer.
 */
function animatedGif(width: number, height: number): Buffer {
  const out: number[] = [];
  const u16 = (v: number) => out.push(v & 0xff, v >> 8);
  out.push(...Buffer.from('GIF89a'));
  u16(width);
  u16(height);
  out.push(0xf0, 0, 0); // global colour table of 2 entries; background 0; square pixels
  out.push(255, 255, 255, 0, 0, 0);
  out.push(0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0'), 0x03, 0x01, 0x00, 0x00, 0x00);
  for (const colour of [0, 1]) {
    out.push(0x21, 0xf9, 0x04, 0x00, 10, 0, 0x00, 0x00);
    out.push(0x2c);
    u16(0);
    u16(0);
    u16(width);
    u16(height);
    out.push(0x00); // no local colour table, not interlaced
    out.push(2); // LZW minimum code size: 2 (codes 0-3 colours, 4 clear, 5 end)
    const data = flatLzw(colour, width * height);
    for (let i = 0; i < data.length; i += 255) {
      const chunk = data.slice(i, i + 255);
      out.push(chunk.length, ...chunk);
    }
    out.push(0x00);
  }
  out.push(0x3b);
  return Buffer.from(out);
}

/**
 * LZW data for `count` pixels of one colour, uncompressed: the table is cleared after every
 * two pixels, so it never grows past 7 entries and every code stays 3 bits (packed LSB first).
 */
function flatLzw(colour: number, count: number): number[] {
  const CLEAR = 4;
  const END = 5;
  const codes: number[] = [];
  for (let i = 0; i < count; i += 2) codes.push(CLEAR, colour, ...(i + 1 < count ? [colour] : []));
  codes.push(END);
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const c of codes) {
    acc |= c << bits;
    bits += 3;
    while (bits >= 8) {
      bytes.push(acc & 0xff);
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) bytes.push(acc);
  return bytes;
}
