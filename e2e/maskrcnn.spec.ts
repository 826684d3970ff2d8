import { test, expect } from '@playwright/test';
import {
  boxIou,
  bundledManifests,
  dropAndWait,
  ensureWeakInstances,
  getState,
  ids,
  instanceCount,
  openApp,
  pane,
  readInstances,
  rerun,
  sampleFile,
  screenshot,
  selectModel,
  setNumberInput,
} from './helpers';

/**
 * Our two-stage Mask R-CNN (three ONNX parts, the RoI steps in WGSL or in the TypeScript
 * references between them) in the app: next to a YOLACT pane on one image, its two-stage
 * stages in the metrics table; the 'wasm' path against 'wasm+gpu' (same detections); the
 * RoIPool variant from the picker.
 *
 * The bundled weights may be barely trained (background wins everywhere): when a pane finds
 * nothing at the default threshold, the score threshold goes down to WEAK = 0 (the candidate
 * test follows it: every (RoI, class) pair is a candidate, the cap keeps 100), so there is
 * something to compare either way.
 */

const ALIGN = 'maskrcnn-512';
const POOL = 'maskrcnn-512-roipool';
const WEAK = 0;
/** Two-stage runs on SwiftShader / wasm take seconds each. */
const TIMEOUT = 240_000;

const yolact = () => {
  const all = bundledManifests().filter((m) => m.family === 'yolact');
  // The side-by-side the issue asks for is YOLACT-550; the smaller one if that is missing.
  return all.find((m) => m.id === 'yolact-550') ?? all[all.length - 1];
};

test.skip(() => !bundledManifests().some((m) => m.id === ALIGN), `${ALIGN} is not bundled`);

test('Mask R-CNN next to YOLACT on wasm+gpu: both segment, the table shows the two-stage stages', async ({ page }) => {
  test.setTimeout(2 * TIMEOUT);
  const one = yolact();
  test.skip(!one, 'no YOLACT model bundled');
  await openApp(page, { path: 'wasm+gpu', panes: '2', model: one!.id });
  await dropAndWait(page, sampleFile(0), TIMEOUT);
  await selectModel(page, 1, ALIGN, TIMEOUT);
  await ensureWeakInstances(page, 0, WEAK, TIMEOUT);
  await ensureWeakInstances(page, 1, WEAK, TIMEOUT);

  const state = await getState(page);
  expect(state.panes.map((p) => p.modelId)).toEqual([one!.id, ALIGN]);
  expect(state.panes.map((p) => p.activePath)).toEqual(['wasm+gpu', 'wasm+gpu']);
  const [y, m] = [state.panes[0]!.result!, state.panes[1]!.result!];
  // YOLACT: one-stage timings only. Mask R-CNN: backbone, RPN, RoI, heads, decode, NMS, paste.
  for (const key of ['rpn', 'roi', 'heads'] as const) expect(y.timings[key], `YOLACT ${key}`).toBeUndefined();
  for (const key of ['inference', 'rpn', 'roi', 'heads', 'decode', 'nms', 'masks'] as const) {
    expect(m.timings[key], `Mask R-CNN ${key}`).toBeGreaterThan(0);
  }
  // The CPU heads need the RoI features back: R·C·7·7 + M·C·14·14 f32 a frame, counted.
  const roiBytes = 4 * (500 * 64 * 7 * 7 + 100 * 64 * 14 * 14);
  expect(m.bytesReadBack).toBeGreaterThan(roiBytes);
  expect(y.bytesReadBack).toBeLessThan(roiBytes);
  await expect(pane(page, 1).getByTestId('readback-note')).toContainText('RoI features');
  await expect(pane(page, 0).getByTestId('readback-note')).toHaveCount(0);

  // The metrics table: two-stage columns, filled for Mask R-CNN, '–' for YOLACT.
  const table = page.getByTestId(ids.metricsTable);
  for (const key of ['rpn', 'roi', 'heads']) await expect(table.locator(`th[data-stage="${key}"]`)).toHaveCount(1);
  const rows = table.getByTestId('metrics-row');
  for (const key of ['rpn', 'roi', 'heads']) {
    await expect(rows.nth(0).locator(`td[data-stage="${key}"]`)).toHaveText('–');
    await expect(rows.nth(1).locator(`td[data-stage="${key}"]`)).toHaveText(/^\d/);
  }
  await expect(pane(page, 1).getByTestId(ids.stageTimings).locator('[data-stage="rpn"] dd')).toHaveText(/^\d/);
  await expect(pane(page, 0).getByTestId(ids.stageTimings).locator('[data-stage="rpn"]')).toHaveCount(0);
  const summary =
    `YOLACT ${one!.id}: ${y.detections.length} instances, total ${y.timings.total?.toFixed(0)} ms; Mask R-CNN: ${m.detections.length} instances, ` +
    (['inference', 'rpn', 'roi', 'heads', 'decode', 'nms', 'masks', 'total'] as const).map((k) => `${k} ${m.timings[k]?.toFixed(1)}`).join(', ') +
    ` ms (${m.timings.source}), read back ${m.bytesReadBack} B, mask pixels ${m.detections.reduce((n, d) => n + d.maskArea, 0)}`;
  console.log(summary);
  test.info().annotations.push({ type: 'timings', description: summary });
  await screenshot(page, 'maskrcnn-next-to-yolact');

  // Hover and class toggles recompose the two-stage pane's overlay (no inference).
  const mp = pane(page, 1);
  await mp.getByTestId(ids.instanceRow).first().hover();
  await expect(mp.getByTestId(ids.instanceDetails)).toContainText('score');
  await expect.poll(async () => (await getState(page)).panes[1]!.highlight).toBe(0);
  const before = await instanceCount(mp);
  const firstClass = await mp.getByTestId(ids.instanceRow).first().getAttribute('data-class');
  const ofClass = await mp.locator(`[data-testid="${ids.instanceRow}"][data-class="${firstClass}"]`).count();
  await mp.locator(`[data-testid="${ids.classToggle}"][data-class="${firstClass}"]`).click();
  await expect.poll(() => instanceCount(mp)).toBe(before - ofClass);
  expect((await getState(page)).panes[1]!.status).not.toBe('error');

  // Removing the two-stage pane: the table reads as before.
  await pane(page, 1).getByTestId(ids.removePane).click();
  await expect(table.locator('th[data-stage="rpn"]')).toHaveCount(0);
});

test('Mask R-CNN on wasm finds what wasm+gpu finds; the RoIPool variant is in the picker and runs', async ({ page }) => {
  test.setTimeout(3 * TIMEOUT);
  await openApp(page, { path: 'wasm+gpu', panes: '2', model: ALIGN });
  await pane(page, 1).getByTestId(ids.pathPicker).selectOption('wasm');
  await dropAndWait(page, sampleFile(2), TIMEOUT);
  for (const i of [0, 1]) {
    if ((await instanceCount(pane(page, i))) === 0)
      await rerun(page, () => setNumberInput(pane(page, i).getByTestId(ids.scoreThreshold), WEAK), { panes: [i], timeout: TIMEOUT });
  }
  let state = await getState(page);
  expect(state.panes.map((p) => p.activePath)).toEqual(['wasm+gpu', 'wasm']);
  const gpu = state.panes[0]!.result!;
  const cpu = state.panes[1]!.result!;
  expect(cpu.bytesReadBack).toBe(0);
  expect(cpu.timings.rpn).toBeGreaterThan(0);
  expect(gpu.detections.length).toBeGreaterThan(0);
  // Matched by class and box: near-tied scores (untrained weights) may swap ranks.
  const used = new Set<number>();
  let matched = 0;
  let minIou = 1;
  let maxAreaDiff = 0;
  for (const g of gpu.detections) {
    let best = -1;
    let bestIou = 0;
    cpu.detections.forEach((c, j) => {
      if (used.has(j) || c.classIndex !== g.classIndex) return;
      const iou = boxIou(g.box, c.box);
      if (iou > bestIou) [best, bestIou] = [j, iou];
    });
    if (best < 0 || bestIou < 0.99) continue;
    used.add(best);
    matched++;
    minIou = Math.min(minIou, bestIou);
    maxAreaDiff = Math.max(maxAreaDiff, Math.abs(g.maskArea - cpu.detections[best]!.maskArea) / Math.max(1, cpu.detections[best]!.maskArea));
  }
  const summary = `wasm+gpu ${gpu.detections.length} vs wasm ${cpu.detections.length} instances, ${matched} matched (box IoU ≥ ${minIou.toFixed(4)}), max rel. mask-area diff ${maxAreaDiff.toFixed(4)}`;
  console.log(summary);
  test.info().annotations.push({ type: 'parity', description: summary });
  expect(gpu.detections.length).toBe(cpu.detections.length);
  expect(matched).toBeGreaterThanOrEqual(gpu.detections.length - 2);
  expect(maxAreaDiff).toBeLessThanOrEqual(0.02);

  // The RoIPool variant: listed, selectable, runs (on the wasm pane: the reference RoIPool).
  const options = await pane(page, 1)
    .getByTestId(ids.modelPicker)
    .locator('option')
    .evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value));
  expect(options).toEqual(expect.arrayContaining([ALIGN, POOL]));
  await selectModel(page, 1, POOL, TIMEOUT);
  state = await getState(page);
  expect(state.panes[1]!.modelId).toBe(POOL);
  expect(state.panes[1]!.status).toBe('done');
  expect(state.panes[1]!.result!.timings.roi).toBeGreaterThan(0);
  await expect(pane(page, 1).getByTestId(ids.modelPicker)).toHaveValue(POOL);
  await ensureWeakInstances(page, 1, WEAK, TIMEOUT);
  const rows = await readInstances(pane(page, 1));
  console.log(`RoIPool (wasm): ${rows.length} instances`);
  expect(rows.length).toBeGreaterThan(0);
});

test('the all-GPU webgpu path: three ORT WebGPU parts, our kernels between, no RoI features read back', async ({ page }) => {
  test.skip(!process.env.E2E_MASKRCNN_WEBGPU, 'ORT WebGPU on SwiftShader takes minutes for the three parts: set E2E_MASKRCNN_WEBGPU=1');
  test.setTimeout(4 * TIMEOUT);
  await openApp(page, { path: 'webgpu', panes: '2', model: ALIGN });
  await pane(page, 1).getByTestId(ids.pathPicker).selectOption('wasm+gpu');
  await dropAndWait(page, sampleFile(2), 3 * TIMEOUT);
  for (const i of [0, 1]) await ensureWeakInstances(page, i, WEAK, TIMEOUT);
  const state = await getState(page);
  expect(state.panes.map((p) => p.activePath)).toEqual(['webgpu', 'wasm+gpu']);
  const [web, mixed] = [state.panes[0]!.result!, state.panes[1]!.result!];
  // One read-back of the records (+ timestamps, + the overlay on software adapters): far
  // below the RoI features 'wasm+gpu' needs for its CPU heads.
  const roiBytes = 4 * (500 * 64 * 7 * 7 + 100 * 64 * 14 * 14);
  const overlay = web.maskWidth * web.maskHeight * 4;
  expect(web.bytesReadBack).toBeLessThanOrEqual(overlay + 16 + 32 * 100 + 256);
  expect(mixed.bytesReadBack).toBeGreaterThan(roiBytes);
  // ORT's WebGPU kernels and its wasm kernels differ in float rounding: compare loosely.
  let matched = 0;
  const used = new Set<number>();
  for (const g of web.detections) {
    const j = mixed.detections.findIndex((c, k) => !used.has(k) && c.classIndex === g.classIndex && boxIou(g.box, c.box) >= 0.9);
    if (j >= 0) {
      used.add(j);
      matched++;
    }
  }
  const summary =
    `webgpu ${web.detections.length} vs wasm+gpu ${mixed.detections.length} instances, ${matched} matched at box IoU ≥ 0.9; webgpu read back ${web.bytesReadBack} B; ` +
    (['inference', 'rpn', 'roi', 'heads', 'decode', 'nms', 'masks', 'total'] as const).map((k) => `${k} ${web.timings[k]?.toFixed(1)}`).join(', ') +
    ' ms';
  console.log(summary);
  test.info().annotations.push({ type: 'webgpu', description: summary });
  expect(web.detections.length).toBeGreaterThan(0);
  expect(matched).toBeGreaterThanOrEqual(Math.floor(0.5 * web.detections.length));
});
