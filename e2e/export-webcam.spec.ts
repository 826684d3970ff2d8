import { existsSync, readFileSync } from 'node:fs';
import { test, expect, type Download, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import { loadCocoGroundTruth, loadCocoResults } from '../app/eval/dataset';
import { pairByMaskIou, rleToMask, type CocoResult, type CocoRle } from './coco';
import { getState, ids, openApp, pane, setNumberInput, testModel } from './helpers';
import { FIXTURE_PATHS } from './paths';

/**
 * Exports during the webcam take one frame with its own result: the PNG (exported bare:
 * masks at 0 %, no boxes or labels) shows a y4m frame, found by comparing its pixels with
 * every frame of the fake camera's video, and the JSON,
 * named after the same app frame, has masks that lie on that frame's objects, which move
 * 1–3 px a y4m frame (the camera plays 15 of them a second, the pane segments ~1 a second:
 * a result drawn on a later frame is 15 or so frames, tens of pixels, off).
 */

interface WebcamTruth {
  width: number;
  height: number;
  frames: Array<{ index: number; objects: Array<{ name: string; segmentation: CocoRle }> }>;
}

/** Below this a detection and a GT object are not the same object. */
const PAIR_MIN_IOU = 0.1;

/** Same-class pairs of detections and GT objects, highest mask IoU first, each used once. */
const pairs = (dets: Array<{ name: string; mask: Uint8Array }>, gts: Array<{ name: string; mask: Uint8Array }>) =>
  pairByMaskIou(dets, gts, PAIR_MIN_IOU).map(({ det, iou }) => ({ name: det.name, iou }));
/** The bar: the exported mask overlaps the shown frame's ground truth at least this much. */
const MIN_MASK_IOU = 0.5;
/** The JSON's best-fitting y4m frame is the PNG's, give or take this many (objects move 1–3 px a frame). */
const FRAME_SLACK = 3;

/** The y4m's frames as RGB (C420jpeg: BT.601 full range), [h, w, 3] each. */
function y4mFramesRgb(file: string): { width: number; height: number; frames: Uint8Array[] } {
  const bytes = readFileSync(file);
  const headerEnd = bytes.indexOf(0x0a);
  const header = bytes.subarray(0, headerEnd).toString('ascii');
  const w = Number(/ W(\d+)/.exec(header)![1]);
  const h = Number(/ H(\d+)/.exec(header)![1]);
  const frames: Uint8Array[] = [];
  const ySize = w * h;
  const cSize = (w / 2) * (h / 2);
  let p = headerEnd + 1;
  while (p < bytes.length) {
    p = bytes.indexOf(0x0a, p) + 1; // "FRAME\n"
    const rgb = new Uint8Array(ySize * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const Y = bytes[p + y * w + x]!;
        const c = (y >> 1) * (w / 2) + (x >> 1);
        const U = bytes[p + ySize + c]! - 128;
        const V = bytes[p + ySize + cSize + c]! - 128;
        const o = (y * w + x) * 3;
        rgb[o] = Math.max(0, Math.min(255, Math.round(Y + 1.402 * V)));
        rgb[o + 1] = Math.max(0, Math.min(255, Math.round(Y - 0.344136 * U - 0.714136 * V)));
        rgb[o + 2] = Math.max(0, Math.min(255, Math.round(Y + 1.772 * U)));
      }
    }
    frames.push(rgb);
    p += ySize + 2 * cSize;
  }
  return { width: w, height: h, frames };
}

/**
 * Index of the y4m frame a bare PNG (no masks, boxes or labels) shows: the least mean
 * difference, after each channel's mean offset is taken out (the browser's YUV → RGB is not
 * quite ours).
 */
function frameShown(png: PNG, video: ReturnType<typeof y4mFramesRgb>): { index: number; diffs: number[] } {
  const n = video.width * video.height;
  const diffs = video.frames.map((rgb) => {
    let d = 0;
    for (let c = 0; c < 3; c++) {
      let bias = 0;
      for (let i = 0; i < n; i++) bias += png.data[i * 4 + c]! - rgb[i * 3 + c]!;
      bias /= n;
      for (let i = 0; i < n; i++) d += Math.abs(png.data[i * 4 + c]! - rgb[i * 3 + c]! - bias);
    }
    return d / (3 * n);
  });
  return { index: diffs.indexOf(Math.min(...diffs)), diffs };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Clicks Export PNG and Export JSON one after the other; the three files by kind. */
async function exportBoth(page: Page): Promise<{ png: Download; results: Download; images: Download }> {
  const got: Download[] = [];
  const onDownload = (d: Download) => got.push(d);
  page.on('download', onDownload);
  try {
    await pane(page, 0).getByTestId(ids.exportPng).click();
    await pane(page, 0).getByTestId(ids.exportJson).click();
    await expect.poll(() => got.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
  } finally {
    page.off('download', onDownload);
  }
  const named = (suffix: string) => {
    const d = got.find((x) => x.suggestedFilename().endsWith(suffix));
    if (!d) throw new Error(`no download ending ${suffix}: ${got.map((x) => x.suggestedFilename()).join(', ')}`);
    return d;
  };
  return { png: named('.png'), results: named('-results.json'), images: named('-images.json') };
}

test('webcam: Export PNG and JSON take one frame with its own result', async ({ page }) => {
  const model = testModel();
  expect(existsSync(FIXTURE_PATHS.webcamTruth), `${FIXTURE_PATHS.webcamTruth} (models/dataset/make_y4m.py)`).toBe(true);
  const truth = JSON.parse(readFileSync(FIXTURE_PATHS.webcamTruth, 'utf8')) as WebcamTruth;
  const video = y4mFramesRgb(FIXTURE_PATHS.webcamY4m);
  expect(video.frames.length).toBe(truth.frames.length);

  await openApp(page, { path: 'wasm+gpu', model: model.id });
  await page.getByTestId(ids.webcamStart).click();
  // A few results in: the pane runs frame after frame, as a user would see it.
  await expect.poll(async () => (await getState(page)).panes[0]!.frames, { timeout: 180_000 }).toBeGreaterThanOrEqual(3);
  // The PNG without masks, boxes and labels is the bare frame, to be found among the y4m's.
  const p0 = pane(page, 0);
  await setNumberInput(p0.getByTestId('mask-opacity'), 0);
  await p0.getByTestId('show-boxes').uncheck();
  await p0.getByTestId('show-labels').uncheck();

  // Both files name the app frame they show; the result can move on between the two clicks, then again.
  const frameOf = (d: Download) => Number(/webcam-frame-(\d+)-/.exec(d.suggestedFilename())?.[1]);
  let files = await exportBoth(page);
  for (let tries = 1; tries < 5 && frameOf(files.png) !== frameOf(files.results); tries++) files = await exportBoth(page);
  const frameId = frameOf(files.png);
  expect(files.png.suggestedFilename()).toBe(`segarena-webcam-frame-${frameId}-${model.id}.png`);
  expect(files.results.suggestedFilename()).toBe(`segarena-webcam-frame-${frameId}-${model.id}-results.json`);

  // The results refer to the frame by id, and the repo's loader reads them against the images file.
  const results = JSON.parse(readFileSync((await files.results.path())!, 'utf8')) as CocoResult[];
  const images = JSON.parse(readFileSync((await files.images.path())!, 'utf8')) as { images: Array<{ id: number; file_name: string }> };
  expect(images.images[0]).toMatchObject({ id: frameId, file_name: `webcam-frame-${frameId}.png` });
  for (const r of results) expect(r.image_id).toBe(frameId);
  expect(loadCocoResults(results, loadCocoGroundTruth(images)).skipped).toBe(0);
  expect(results.length, 'detections in the exported frame').toBeGreaterThan(0);

  // Which y4m frame the PNG shows.
  const png = PNG.sync.read(readFileSync((await files.png.path())!));
  expect([png.width, png.height]).toEqual([truth.width, truth.height]);
  const shown = frameShown(png, video);
  const sorted = [...shown.diffs].sort((a, b) => a - b);
  const diffsText = shown.diffs.map((d) => d.toFixed(2)).join(' ');
  console.log(`PNG against the y4m frames: ${diffsText}`);
  expect(sorted[0]!, `the PNG matches one y4m frame clearly (diffs ${diffsText})`).toBeLessThan(0.7 * sorted[sorted.length >> 1]!);

  // The JSON's masks against that frame's ground truth, and against every frame.
  const nameOf = (categoryId: number): string =>
    model.classes[model.categoryIds ? model.categoryIds.indexOf(categoryId) : categoryId - 1] ?? `category ${categoryId}`;
  const dets = results.map((r) => ({ name: nameOf(r.category_id), mask: rleToMask(r.segmentation) }));
  const gtsOf = (index: number) => truth.frames[index]!.objects.map((o) => ({ name: o.name, mask: rleToMask(o.segmentation) }));
  const onShown = pairs(dets, gtsOf(shown.index));
  const fit = truth.frames.map((f) => pairs(dets, gtsOf(f.index)).reduce((s, p) => s + p.iou, 0));
  const bestFit = fit.indexOf(Math.max(...fit));
  const n = truth.frames.length;
  const offset = Math.min((bestFit - shown.index + n) % n, (shown.index - bestFit + n) % n);
  const report =
    `PNG shows y4m frame ${shown.index}; the JSON's masks fit frame ${bestFit} best; on frame ${shown.index}: ` +
    onShown.map((p) => `${p.name} IoU ${p.iou.toFixed(2)}`).join(', ');
  console.log(report);
  expect(onShown.length, `detections on the shown frame's objects\n${report}`).toBeGreaterThan(0);
  expect(median(onShown.map((p) => p.iou)), `mask IoU with the shown frame's ground truth\n${report}`).toBeGreaterThanOrEqual(MIN_MASK_IOU);
  expect(offset, `the masks belong to the frame the PNG shows\n${report}`).toBeLessThanOrEqual(FRAME_SLACK);
});
