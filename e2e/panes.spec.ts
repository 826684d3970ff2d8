import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import {
  bundledManifests,
  dropAndWait,
  ensureInstances,
  getState,
  ids,
  instanceCount,
  jpegSize,
  testModel,
  openApp,
  pane,
  panes,
  pngSize,
  readInstances,
  rerun,
  sampleFile,
  screenshot,
  setNumberInput,
} from './helpers';
import { rleToMask, maskArea, type CocoResult } from './coco';
import { FIXTURE_PATHS } from './paths';

/**
 * Two panes fed the same image, each with its own model and settings; the metrics table;
 * adding and removing panes; the per-pane exports (COCO results JSON, PNG).
 */

let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await openApp(page, { path: 'wasm+gpu', panes: '2', model: testModel().id });
});

test.afterAll(async () => {
  await page?.close();
});

/** Pane 1 gets the second bundled model when there is one, and greedy NMS at a higher threshold. */
async function configureSecondPane(): Promise<string> {
  const models = bundledManifests();
  const other = models.find((m) => m.id !== testModel().id) ?? testModel();
  const p1 = pane(page, 1);
  if (other.id !== (await p1.getByTestId(ids.modelPicker).inputValue())) {
    await p1.getByTestId(ids.modelPicker).selectOption(other.id);
  }
  await p1.getByTestId(ids.nmsKind).selectOption('greedy');
  await setNumberInput(p1.getByTestId(ids.scoreThreshold), 0.3);
  await expect.poll(async () => (await getState(page)).panes[1]!.settings.scoreThreshold).toBeCloseTo(0.3, 2);
  return other.id;
}

test('two panes with different models and settings on one image; one metrics row each', async () => {
  await expect(panes(page)).toHaveCount(2);
  const secondModel = await configureSecondPane();
  const file = sampleFile(0);
  await dropAndWait(page, file, 180_000);

  const state = await getState(page);
  expect(state.panes.map((p) => p.modelId)).toEqual([testModel().id, secondModel]);
  expect(state.panes[1]!.settings.nmsKind).toBe('greedy');
  expect(state.panes[0]!.settings.nmsKind).toBe('fast');
  for (const [i, p] of state.panes.entries()) {
    expect(p.status, `pane ${i}`).toBe('done');
    expect(p.result?.imageWidth).toBe(jpegSize(file.buffer).width);
    expect(await instanceCount(pane(page, i))).toBe(p.result!.detections.length);
  }
  // Pane 1's threshold is 0.3: no row below it.
  for (const inst of await readInstances(pane(page, 1))) expect(inst.score).toBeGreaterThanOrEqual(0.295);
  await ensureInstances(page, 0, 1);

  const table = page.getByTestId(ids.metricsTable);
  await expect(table).toBeVisible();
  const bodyRows = table.locator('tbody tr');
  await expect(bodyRows).toHaveCount(2);
  await expect(bodyRows.nth(0)).toContainText(testModel().name);
  await expect(bodyRows.nth(1)).toContainText(bundledManifests().find((m) => m.id === secondModel)!.name);
  for (let i = 0; i < 2; i++) {
    await expect(pane(page, i).getByTestId(ids.fps)).toContainText(/\d/);
    await expect(pane(page, i).getByTestId(ids.stageTimings)).toContainText(/\d/);
  }
  await pane(page, 0).getByTestId(ids.instanceRow).first().hover();
  await screenshot(page, 'two-panes-dropped-image');
});

test('panes can be added and removed; the new pane runs on the current image', async () => {
  await expect(panes(page)).toHaveCount(2);
  const before = (await getState(page)).panes.map((p) => p.modelId);
  await rerun(page, () => page.getByTestId(ids.addPane).click(), { panes: [2], timeout: 180_000 });
  await expect(panes(page)).toHaveCount(3);
  await expect(page.getByTestId(ids.metricsTable).locator('tbody tr')).toHaveCount(3);
  const added = (await getState(page)).panes[2]!;
  expect(added.result).not.toBeNull();
  expect(added.status).toBe('done');
  // Remove the middle pane: the others keep their models and are re-indexed.
  await pane(page, 1).getByTestId(ids.removePane).click();
  await expect(panes(page)).toHaveCount(2);
  await expect(page.getByTestId(ids.metricsTable).locator('tbody tr')).toHaveCount(2);
  const after = await getState(page);
  expect(after.panes.map((p) => p.modelId)).toEqual([before[0], added.modelId]);
  expect(await panes(page).evaluateAll((els) => els.map((e) => e.getAttribute('data-pane-index')))).toEqual(['0', '1']);
});

test('export JSON: COCO results matching the instances shown', async () => {
  const file = sampleFile(0);
  const size = jpegSize(file.buffer);
  if ((await getState(page)).source.name !== file.name) await dropAndWait(page, file, 180_000);
  await ensureInstances(page, 0, 1);
  const p0 = pane(page, 0);
  const rows = await readInstances(p0);
  const model = testModel();
  const result = (await getState(page)).panes[0]!.result!;
  const detections = result.detections;

  const downloadPromise = page.waitForEvent('download');
  await p0.getByTestId(ids.exportJson).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toBe(`segarena-${file.name.replace(/\.jpe?g$/i, '')}-${model.id}-results.json`);
  const results = JSON.parse(readFileSync((await download.path())!, 'utf8')) as CocoResult[];
  expect(Array.isArray(results)).toBe(true);
  expect(results.length).toBe(rows.length);

  const categoryOf = (cls: string) => {
    const c = model.classes.indexOf(cls);
    return model.categoryIds?.[c] ?? c + 1;
  };
  results.forEach((r, i) => {
    expect(typeof r.category_id).toBe('number');
    expect(r.bbox).toHaveLength(4);
    r.bbox.forEach((v) => expect(typeof v).toBe('number'));
    expect(r.score).toBeGreaterThan(0);
    expect(r.score).toBeLessThanOrEqual(1);
    expect(r.segmentation.size).toEqual([size.height, size.width]);
    expect(typeof r.segmentation.counts).toBe('string');
    // Same instance as row i (both sorted by score).
    expect(r.category_id).toBe(categoryOf(rows[i]!.cls));
    expect(Math.abs(r.score - rows[i]!.score)).toBeLessThanOrEqual(0.006);
    const [x, y, w, h] = r.bbox;
    const [x1, y1, x2, y2] = rows[i]!.box;
    expect(Math.abs(x - x1)).toBeLessThan(1.01);
    expect(Math.abs(y - y1)).toBeLessThan(1.01);
    expect(Math.abs(x + w - x2)).toBeLessThan(1.01);
    expect(Math.abs(y + h - y2)).toBeLessThan(1.01);

    // The mask decodes to the image size, has the area the pane reports for it (same bits
    // when masks are at image resolution), and lies inside its box (YOLACT crops to the box).
    const mask = rleToMask(r.segmentation);
    const area = maskArea(mask);
    const det = detections[i]!;
    if (result.maskWidth === size.width && result.maskHeight === size.height) {
      expect(Math.abs(area - det.maskArea), `instance ${i}: RLE area ${area} vs reported ${det.maskArea}`).toBeLessThanOrEqual(2 + 0.01 * det.maskArea);
    }
    if (area === 0) return;
    let minX = Infinity,
      minY = Infinity,
      maxX = -1,
      maxY = -1;
    for (let mx = 0; mx < size.width; mx++) {
      for (let my = 0; my < size.height; my++) {
        if (!mask[mx * size.height + my]) continue;
        minX = Math.min(minX, mx);
        maxX = Math.max(maxX, mx);
        minY = Math.min(minY, my);
        maxY = Math.max(maxY, my);
      }
    }
    // YOLACT crops in proto space with 1 proto pixel of padding, and the bilinear upsample
    // reaches up to one more: 2 proto pixels (proto side = 2·ceil(input/8), 138 at 550).
    const protoSide = 2 * Math.ceil(model.input.width / 8);
    const slack = 2 + (2 * Math.max(size.width, size.height)) / protoSide;
    expect(minX).toBeGreaterThanOrEqual(x - slack);
    expect(minY).toBeGreaterThanOrEqual(y - slack);
    expect(maxX).toBeLessThanOrEqual(x + w + slack);
    expect(maxY).toBeLessThanOrEqual(y + h + slack);
  });
  const nonEmpty = results.filter((r) => maskArea(rleToMask(r.segmentation)) > 0).length;
  test.info().annotations.push({ type: 'masks', description: `${nonEmpty} of ${results.length} exported masks non-empty` });
});

test('export PNG: the image with its overlay, at image size', async () => {
  const file = sampleFile(0);
  const size = jpegSize(file.buffer);
  const state = await getState(page);
  if (state.source.name !== file.name) await dropAndWait(page, file, 180_000);
  await ensureInstances(page, 0, 1);
  const p0 = pane(page, 0);
  const first = (await readInstances(p0))[0]!;

  const downloadPromise = page.waitForEvent('download');
  await p0.getByTestId(ids.exportPng).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toBe(`segarena-${file.name.replace(/\.jpe?g$/i, '')}-${testModel().id}.png`);
  const bytes = readFileSync((await download.path())!);
  expect(pngSize(bytes)).toEqual(size);

  // The overlay (mask tint, box outline, label) changes pixels inside the instances' boxes,
  // and (almost) nothing far from them: compare with the bare image decoded here.
  writeFileSync(path.join(FIXTURE_PATHS.screenshots, 'export.png'), bytes);
  const png = PNG.sync.read(bytes);
  const photo = jpeg.decode(file.buffer, { useTArray: true });
  const instances = await readInstances(p0);
  const changed = (x: number, y: number) => {
    const o = (y * size.width + x) * 4;
    let d = 0;
    for (let c = 0; c < 3; c++) d = Math.max(d, Math.abs(png.data[o + c]! - photo.data[o + c]!));
    return d > 40;
  };
  const LABEL_MARGIN = 24; // labels sit just above or inside a box
  let inside = 0,
    insideChanged = 0,
    outside = 0,
    outsideChanged = 0;
  for (let y = 0; y < size.height; y++) {
    for (let x = 0; x < size.width; x++) {
      const inFirst = x >= first.box[0] && x < first.box[2] && y >= first.box[1] && y < first.box[3];
      const nearAny = instances.some(
        (i) => x >= i.box[0] - LABEL_MARGIN && x < i.box[2] + LABEL_MARGIN && y >= i.box[1] - LABEL_MARGIN && y < i.box[3] + LABEL_MARGIN,
      );
      if (inFirst) {
        inside++;
        if (changed(x, y)) insideChanged++;
      } else if (!nearAny) {
        outside++;
        if (changed(x, y)) outsideChanged++;
      }
    }
  }
  expect(insideChanged / inside, 'overlay drawn in the first box').toBeGreaterThan(0.01);
  if (outside > 1000) expect(outsideChanged / outside, 'image untouched far from instances').toBeLessThan(0.02);
});
