import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect, type Download, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { loadCocoGroundTruth, loadCocoResults } from '../app/eval/dataset';
import {
  dropAndWait,
  ensureInstances,
  getState,
  ids,
  jpegSize,
  openApp,
  pane,
  pngSize,
  readInstances,
  sampleFile,
  screenshot,
  setNumberInput,
  testModel,
  type FilePayload,
} from './helpers';
import { maskArea, rleToMask, type CocoResult } from './coco';
import { FIXTURE_PATHS } from './paths';

/**
 * Image exports as tools read them: every result names its image by id, an image no
 * dataset knows comes with a COCO images file that the repo's own loader (app/eval/dataset.ts)
 * reads the results against; an image over 4096 px exports in its original pixels; the PNG
 * follows the pane's view (mask opacity, box and label toggles). Also: pinning an instance.
 */

let page: Page;
const model = testModel();

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await openApp(page, { path: 'wasm+gpu', model: model.id });
});

test.afterAll(async () => {
  await page?.close();
});

/** Clicks a button and collects the downloads it gives (`count` of them). */
async function downloads(click: () => Promise<void>, count: number): Promise<Download[]> {
  const got: Download[] = [];
  const onDownload = (d: Download) => got.push(d);
  page.on('download', onDownload);
  try {
    await click();
    await expect.poll(() => got.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(count);
  } finally {
    page.off('download', onDownload);
  }
  return got;
}

async function readJson<T>(d: Download): Promise<T> {
  return JSON.parse(readFileSync((await d.path())!, 'utf8')) as T;
}

/** A sample photo under a name no dataset knows. */
function photo(name: string): FilePayload {
  return { ...sampleFile(0), name };
}

test('a dropped photo exports results with image ids and the images file they refer to', async () => {
  const file = photo('my holiday.jpg');
  const size = jpegSize(file.buffer);
  await dropAndWait(page, file, 180_000);
  await ensureInstances(page, 0, 1);
  const rows = await readInstances(pane(page, 0));

  const [results, images] = await downloads(() => pane(page, 0).getByTestId(ids.exportJson).click(), 2);
  // Named by image and model.
  expect(results!.suggestedFilename()).toBe(`segarena-my_holiday-${model.id}-results.json`);
  expect(images!.suggestedFilename()).toBe(`segarena-my_holiday-${model.id}-images.json`);
  const entries = await readJson<CocoResult[]>(results!);
  const gt = await readJson<{ images: Array<{ id: number; file_name: string; width: number; height: number }> }>(images!);
  expect(gt.images).toHaveLength(1);
  expect(gt.images[0]).toMatchObject({ file_name: file.name, width: size.width, height: size.height });
  expect(entries.length).toBe(rows.length);
  for (const e of entries) expect(e.image_id, 'every result names its image by id').toBe(gt.images[0]!.id);

  // The repo's COCO loader takes the results against the images file: nothing is left out.
  const dataset = loadCocoGroundTruth(gt);
  const { dts, skipped } = loadCocoResults(entries, dataset);
  expect(skipped).toBe(0);
  expect(dts.length).toBe(entries.length);
  expect(dataset.categories.length).toBe(model.classes.length);
});

test('a sample keeps its dataset id, so its results read back against the samples ground truth', async () => {
  const file = sampleFile(0);
  await dropAndWait(page, file, 180_000);
  await ensureInstances(page, 0, 1);
  const samples = JSON.parse(readFileSync(path.join(FIXTURE_PATHS.samples, 'annotations.json'), 'utf8')) as unknown;
  const dataset = loadCocoGroundTruth(samples);
  const id = dataset.imageIdByFileName.get(file.name)!;
  const [results] = await downloads(() => pane(page, 0).getByTestId(ids.exportJson).click(), 1);
  expect(results!.suggestedFilename()).toBe(`segarena-${file.name.replace(/\.jpe?g$/, '')}-${model.id}-results.json`);
  const entries = await readJson<CocoResult[]>(results!);
  expect(entries.length).toBeGreaterThan(0);
  for (const e of entries) expect(e.image_id).toBe(id);
  const { dts, skipped } = loadCocoResults(entries, dataset);
  expect(skipped).toBe(0);
  expect(dts.length).toBe(entries.length);
});

/** The sample photo stretched (nearest neighbour) to `width x height`, as a JPEG. */
function bigPhoto(width: number, height: number): FilePayload {
  const src = jpeg.decode(sampleFile(0).buffer, { useTArray: true });
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = Math.floor(((y + 0.5) * src.height) / height);
    for (let x = 0; x < width; x++) {
      const sx = Math.floor(((x + 0.5) * src.width) / width);
      const o = (y * width + x) * 4;
      const s = (sy * src.width + sx) * 4;
      data[o] = src.data[s]!;
      data[o + 1] = src.data[s + 1]!;
      data[o + 2] = src.data[s + 2]!;
      data[o + 3] = 255;
    }
  }
  return { name: 'big photo.jpg', mimeType: 'image/jpeg', buffer: jpeg.encode({ data, width, height }, 85).data };
}

test('an image over 4096 px exports boxes and masks in its original pixels', async () => {
  const [W, H] = [6000, 4000];
  await dropAndWait(page, bigPhoto(W, H), 300_000);
  await ensureInstances(page, 0, 1);
  const state = await getState(page);
  const result = state.panes[0]!.result!;
  // The app works on a 4096-px copy...
  expect([result.imageWidth, result.imageHeight]).toEqual([4096, 2731]);
  const [sx, sy] = [W / result.imageWidth, H / result.imageHeight];

  const [results, images] = await downloads(() => pane(page, 0).getByTestId(ids.exportJson).click(), 2);
  const entries = await readJson<CocoResult[]>(results!);
  const gt = await readJson<{ images: Array<{ id: number; width: number; height: number }> }>(images!);
  expect(gt.images[0]).toMatchObject({ width: W, height: H });
  expect(entries.length).toBe(result.detections.length);
  // ...and the export is in the original's: boxes scaled, masks at the original size with the area scaled.
  entries.forEach((e, i) => {
    const [x1, y1, x2, y2] = result.detections[i]!.box;
    expect(e.segmentation.size).toEqual([H, W]);
    const want = [x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy];
    e.bbox.forEach((v, k) => expect(Math.abs(v - want[k]!), `box ${i}[${k}]`).toBeLessThan(0.02));
    const area = maskArea(rleToMask(e.segmentation));
    // maskArea counts pixels at mask resolution (FrameResult.maskWidth/Height).
    const expected = (result.detections[i]!.maskArea * W * H) / (result.maskWidth * result.maskHeight);
    expect(Math.abs(area - expected), `mask ${i} area ${area} vs ${expected}`).toBeLessThanOrEqual(0.02 * expected + 2 * (W + H));
  });
  expect(loadCocoResults(entries, loadCocoGroundTruth(gt)).skipped).toBe(0);

  // The PNG stays at the working size, and its name says so.
  const [png] = await downloads(() => pane(page, 0).getByTestId(ids.exportPng).click(), 1);
  expect(png!.suggestedFilename()).toBe(`segarena-big_photo-${model.id}-downscaled-4096x2731.png`);
  expect(pngSize(readFileSync((await png!.path())!))).toEqual({ width: 4096, height: 2731 });
});

/** RGBA of the pane's bottom Konva stage (the frame and, on the read-back path, the masks overlay). */
async function frameStagePixels(): Promise<number[]> {
  return pane(page, 0)
    .locator('.overlay-frame canvas')
    .first()
    .evaluate((c: HTMLCanvasElement) => {
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      return Array.from(data);
    });
}

/** Whether the shapes stage (boxes, labels) draws anything. */
async function shapesDrawn(): Promise<number> {
  return pane(page, 0)
    .locator('.overlay-shapes canvas')
    .first()
    .evaluate((c: HTMLCanvasElement) => {
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
      return n;
    });
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (i % 4 !== 3) d += Math.abs(a[i]! - b[i]!);
  return d / a.length;
}

test('mask opacity and the box / label toggles change the drawing and the PNG', async () => {
  const file = sampleFile(0);
  const size = jpegSize(file.buffer);
  await dropAndWait(page, file, 180_000);
  await ensureInstances(page, 0, 1);
  const p0 = pane(page, 0);
  const opacity = p0.getByTestId('mask-opacity');
  const settle = () => page.waitForTimeout(300); // Konva draws on the next animation frame

  if ((await getState(page)).panes[0]!.overlayOnCanvas) {
    // The overlay drawn by the GPU into the pane's WebGPU canvas: its opacity is the canvas's.
    await setNumberInput(opacity, 0.5);
    await expect(p0.getByTestId('overlay-gpu-canvas')).toHaveCSS('opacity', '0.5');
  } else {
    // The read-back overlay is a Konva image over the frame: its pixels follow the opacity.
    await setNumberInput(opacity, 1);
    await settle();
    const full = await frameStagePixels();
    await setNumberInput(opacity, 0);
    await settle();
    const none = await frameStagePixels();
    await setNumberInput(opacity, 0.5);
    await settle();
    const half = await frameStagePixels();
    const d = meanAbsDiff(full, none);
    expect(d, 'the masks change the drawing at 100%').toBeGreaterThan(0.05);
    const ratio = meanAbsDiff(half, none) / d;
    expect(ratio, 'at 50% the masks change it half as much').toBeGreaterThan(0.35);
    expect(ratio).toBeLessThan(0.65);
  }
  await expect(p0.getByTestId('view-controls')).toContainText('50%');

  expect(await shapesDrawn(), 'boxes and labels drawn').toBeGreaterThan(0);
  await p0.getByTestId('show-labels').uncheck();
  await settle();
  const boxesOnly = await shapesDrawn();
  expect(boxesOnly).toBeGreaterThan(0);
  await screenshot(page, 'pane-masks-50-no-labels');
  await p0.getByTestId('show-boxes').uncheck();
  await settle();
  expect(await shapesDrawn(), 'nothing drawn with boxes and labels off').toBe(0);

  // Masks at 0 % and no boxes or labels: the PNG is the bare photo (up to JPEG decoding).
  await setNumberInput(opacity, 0);
  const [bare] = await downloads(() => p0.getByTestId(ids.exportPng).click(), 1);
  const bytes = readFileSync((await bare!.path())!);
  expect(pngSize(bytes)).toEqual(size);
  const decoded = PNG.sync.read(bytes).data;
  const original = jpeg.decode(file.buffer, { useTArray: true }).data;
  expect(meanAbsDiff(decoded, original), 'the PNG without masks, boxes or labels is the photo').toBeLessThan(1.5);

  // Everything back on: the PNG has the overlay again.
  await setNumberInput(opacity, 1);
  await p0.getByTestId('show-boxes').check();
  await p0.getByTestId('show-labels').check();
  const [drawn] = await downloads(() => p0.getByTestId(ids.exportPng).click(), 1);
  expect(meanAbsDiff(PNG.sync.read(readFileSync((await drawn!.path())!)).data, original)).toBeGreaterThan(1.5);
});

test('a click pins an instance (list row or overlay) until clicked again or Escape', async () => {
  await ensureInstances(page, 0, 2);
  const p0 = pane(page, 0);
  const rows = p0.getByTestId(ids.instanceRow);
  const details = p0.getByTestId(ids.instanceDetails);
  const highlight = async () => (await getState(page)).panes[0]!.highlight;

  // A row: pinned, and hovering another row leaves the pin and its details.
  const first = (await readInstances(p0))[0]!;
  await rows.nth(0).click();
  await expect(details).toHaveAttribute('data-pinned', '1');
  await expect(details).toContainText(`${first.cls} score`);
  await rows.nth(1).hover();
  await page.mouse.move(5, 5);
  expect(await highlight()).toBe(0);
  await expect(details).toContainText('pinned');
  await expect(rows.nth(0)).toHaveAttribute('data-pinned', '1');
  // Escape unpins.
  await page.keyboard.press('Escape');
  await expect(details).toHaveAttribute('data-pinned', '0');
  await expect.poll(highlight).toBe(null);

  // The overlay: a click on an instance pins it, a second click there unpins it.
  const state = await getState(page);
  const result = state.panes[0]!.result!;
  const stage = p0.locator('.overlay-shapes');
  const bounds = (await stage.boundingBox())!;
  const scale = bounds.width / state.source.width;
  // The instance whose box centre lies in no smaller box (what a click there hits).
  const area = (b: number[]) => (b[2]! - b[0]!) * (b[3]! - b[1]!);
  const target = result.detections.findIndex((d) => {
    const cx = (d.box[0] + d.box[2]) / 2;
    const cy = (d.box[1] + d.box[3]) / 2;
    return !result.detections.some((o) => o !== d && area(o.box) < area(d.box) && cx >= o.box[0] && cx <= o.box[2] && cy >= o.box[1] && cy <= o.box[3]);
  });
  expect(target).toBeGreaterThanOrEqual(0);
  const b = result.detections[target]!.box;
  const at = { x: ((b[0] + b[2]) / 2) * scale, y: ((b[1] + b[3]) / 2) * scale };
  await stage.click({ position: at });
  await expect(details).toHaveAttribute('data-pinned', '1');
  expect(await highlight()).toBe(target);
  await page.mouse.move(bounds.x + 2, bounds.y + 2);
  expect(await highlight(), 'hover elsewhere leaves the pin').toBe(target);
  await screenshot(page, 'pane-pinned');
  await stage.click({ position: at });
  await expect(details).toHaveAttribute('data-pinned', '0');
});
