import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { FrameResult } from '../app/types';
import {
  boxIou,
  bundledManifests,
  dropAndWait,
  getState,
  ids,
  jpegSize,
  openApp,
  pane,
  readInstances,
  sampleFile,
  screenshot,
  setNumberInput,
} from './helpers';
import { FIXTURE_PATHS } from './paths';

/**
 * The bundled YOLO-seg model (models/yoloseg/yoloseg-416.*, trained here, Ultralytics
 * interface: letterbox, output0 [1, 116, 3549], output1 [1, 32, 104, 104]) end to end in
 * Chromium, in three panes on one sample image: YOLO-seg on 'wasm+gpu' (our WGSL
 * post-processing), YOLO-seg on 'wasm' (the TypeScript reference), YOLACT-550 beside them.
 * Both YOLO-seg paths read the same ORT wasm outputs, so at one fixed threshold they must
 * list the same instances (count, classes in order, boxes, scores), and the overlay must
 * show masks: mask pixels counted, and the exported picture tinted inside the boxes, away
 * from the box outline and label.
 */

const YOLO_SEG_ID = 'yoloseg-416';
const YOLACT_ID = 'yolact-550';
/** One threshold for both YOLO-seg panes: the manifest's candidate threshold (0.01), so a briefly trained model still shows instances. */
const FIXED_THRESHOLD = 0.01;

/** Share of pixels inside the inner part of `box` (inset by a quarter of each side, below the label row) that differ from the photo. */
function innerTint(png: PNG, photo: { data: Uint8Array }, width: number, box: readonly number[]): { changed: number; total: number } {
  const [x1, y1, x2, y2] = box as [number, number, number, number];
  const w = x2 - x1;
  const h = y2 - y1;
  const LABEL_ROWS = 18; // the label sits on the box's top edge, inside it when near the top of the image
  let changed = 0;
  let total = 0;
  for (let y = Math.ceil(Math.max(y1 + h / 4, y1 + LABEL_ROWS)); y < Math.floor(y2 - h / 4); y++) {
    for (let x = Math.ceil(x1 + w / 4); x < Math.floor(x2 - w / 4); x++) {
      const o = (y * width + x) * 4;
      let d = 0;
      for (let c = 0; c < 3; c++) d = Math.max(d, Math.abs(png.data[o + c]! - photo.data[o + c]!));
      total++;
      if (d > 30) changed++;
    }
  }
  return { changed, total };
}

test('the bundled YOLO-seg model runs next to YOLACT-550; wasm+gpu and wasm agree; masks are drawn', async ({ page }) => {
  test.setTimeout(360_000);
  const manifests = bundledManifests();
  const yolo = manifests.find((m) => m.id === YOLO_SEG_ID);
  expect(yolo, `${YOLO_SEG_ID} is bundled (models/yoloseg/${YOLO_SEG_ID}.json + .onnx)`).toBeDefined();
  expect(yolo!.family).toBe('yolo-seg');
  expect(yolo!.input.resize).toBe('letterbox');
  const hasYolact = manifests.some((m) => m.id === YOLACT_ID);

  await openApp(page, { path: 'wasm+gpu', panes: hasYolact ? '3' : '2', model: YOLO_SEG_ID });
  await pane(page, 1).getByTestId(ids.pathPicker).selectOption('wasm');
  if (hasYolact) await pane(page, 2).getByTestId(ids.modelPicker).selectOption(YOLACT_ID);
  for (const i of [0, 1]) {
    await expect(pane(page, i).getByTestId(ids.modelPicker)).toHaveValue(YOLO_SEG_ID);
    await setNumberInput(pane(page, i).getByTestId(ids.scoreThreshold), FIXED_THRESHOLD);
  }
  await expect.poll(async () => (await getState(page)).panes.slice(0, 2).map((p) => p.settings.scoreThreshold)).toEqual([FIXED_THRESHOLD, FIXED_THRESHOLD]);

  const file = sampleFile(1);
  await dropAndWait(page, file, 300_000);
  const state = await getState(page);
  const [gpu, cpu, yolact] = state.panes.map((p) => p.result) as [FrameResult, FrameResult, FrameResult | undefined];
  expect(state.panes.map((p) => p.modelId)).toEqual(hasYolact ? [YOLO_SEG_ID, YOLO_SEG_ID, YOLACT_ID] : [YOLO_SEG_ID, YOLO_SEG_ID]);
  expect(state.panes.map((p) => p.status).every((s) => s === 'done')).toBe(true);
  expect(gpu.path).toBe('wasm+gpu');
  expect(cpu.path).toBe('wasm');
  if (hasYolact) expect(yolact!.detections.length, 'YOLACT-550 beside it finds instances').toBeGreaterThan(0);
  await screenshot(page, 'yoloseg-bundled-vs-yolact');

  // Same instances on both paths: count, classes in score order, boxes, scores.
  const summary =
    `YOLO-seg at ${FIXED_THRESHOLD}: ${gpu.detections.length} (wasm+gpu) / ${cpu.detections.length} (wasm) instances, ` +
    `classes ${[...new Set(cpu.detections.map((d) => yolo!.classes[d.classIndex]))].slice(0, 8).join(', ')}`;
  console.log(summary);
  test.info().annotations.push({ type: 'yoloseg', description: summary });
  expect(cpu.detections.length, 'the bundled YOLO-seg model finds instances').toBeGreaterThan(0);
  expect(gpu.detections.length).toBe(cpu.detections.length);
  gpu.detections.forEach((d, n) => {
    const ref = cpu.detections[n]!;
    expect(d.classIndex, `instance ${n} class`).toBe(ref.classIndex);
    expect(Math.abs(d.score - ref.score), `instance ${n} score`).toBeLessThanOrEqual(2e-3);
    expect(boxIou(d.box, ref.box), `instance ${n} box`).toBeGreaterThanOrEqual(0.99);
    const rel = Math.abs(d.maskArea - ref.maskArea) / Math.max(1, ref.maskArea);
    expect(rel, `instance ${n} mask area ${d.maskArea} vs ${ref.maskArea}`).toBeLessThanOrEqual(0.02);
  });
  // The instance rows of the two panes agree too (what the user reads).
  expect((await readInstances(pane(page, 0))).map((i) => i.cls)).toEqual((await readInstances(pane(page, 1))).map((i) => i.cls));

  // Masks: counted, and drawn. The exported picture (image + overlay) is tinted inside the
  // largest-mask instance's box, away from its outline and label; without a mask tint
  // those pixels would be the photo's.
  const withMask = gpu.detections.filter((d) => d.maskArea > 0);
  expect(withMask.length, 'instances with mask pixels').toBeGreaterThan(0);
  const size = jpegSize(file.buffer);
  const photo = jpeg.decode(file.buffer, { useTArray: true });
  for (const i of [0, 1]) {
    const dets = i === 0 ? gpu.detections : cpu.detections;
    const target = [...dets].sort((a, b) => b.maskArea - a.maskArea)[0]!;
    const boxArea = (target.box[2] - target.box[0]) * (target.box[3] - target.box[1]);
    const download = page.waitForEvent('download');
    await pane(page, i).getByTestId(ids.exportPng).click();
    const png = PNG.sync.read(readFileSync((await (await download).path())!));
    expect([png.width, png.height]).toEqual([size.width, size.height]);
    const { changed, total } = innerTint(png, photo, size.width, target.box);
    const line = `pane ${i}: largest mask ${target.maskArea} px in a ${Math.round(boxArea)} px box, inner box pixels tinted ${changed}/${total}`;
    console.log(line);
    test.info().annotations.push({ type: 'mask tint', description: line });
    expect(total).toBeGreaterThan(0);
    // The mask covers a good part of its box: a clear share of the box's inner pixels is tinted.
    if (target.maskArea > 0.3 * boxArea) expect(changed / total, `pane ${i} mask tint`).toBeGreaterThan(0.1);
    else expect(changed, `pane ${i} mask tint`).toBeGreaterThan(0);
  }
});

test('the bundled YOLO-seg ONNX, dropped as a file, is recognised as YOLO-seg with its 80 class names', async ({ page }) => {
  const yolo = bundledManifests().find((m) => m.id === YOLO_SEG_ID);
  expect(yolo, `${YOLO_SEG_ID} is bundled`).toBeDefined();
  await openApp(page, { path: 'wasm' });
  const bytes = readFileSync(path.join(FIXTURE_PATHS.repoRoot, yolo!.url));
  await page.getByTestId('model-drop-input').setInputFiles({ name: 'my yoloseg.onnx', mimeType: 'application/octet-stream', buffer: bytes });
  // The Ultralytics `names` metadata names the classes: no dialog, the model is added.
  await expect(page.locator(`[data-testid="${ids.notice}"][data-kind="info"]`).filter({ hasText: /Model added/ })).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('class-names-dialog')).toHaveCount(0);
  const saved = (await getState(page)).savedModels;
  expect(saved.map((m) => [m.family, m.classes, m.bytes])).toEqual([['yolo-seg', yolo!.classes.length, bytes.length]]);
  // Clean up: the saved model lives in IndexedDB of this browser profile.
  await page.locator('.saved-models summary').click();
  await page.getByTestId('delete-saved-model').first().click();
  // It runs in the new pane 2 it opened: the delete asks first.
  await page.getByTestId('delete-confirm-yes').click();
  await expect(page.getByTestId('saved-model-row')).toHaveCount(0);
});
