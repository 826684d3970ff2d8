import { test, expect } from '@playwright/test';
import {
  boxIou,
  dropAndWait,
  ensureInstances,
  getState,
  ids,
  instanceCount,
  LOW_SCORE_THRESHOLD,
  testModel,
  matchInstances,
  openApp,
  pane,
  readInstances,
  rerun,
  sampleFile,
  setNumberInput,
  smallestModel,
  screenshot,
} from './helpers';

/**
 * The execution paths. 'wasm' (TypeScript reference post-processing) and 'wasm+gpu' (our
 * WGSL kernels on the outputs of the same ORT wasm session) must find the same instances:
 * this is the kernels' parity with their reference, across the whole pipeline, in the
 * browser. Then the no-WebGPU fallback, and one run of the all-GPU 'webgpu' path.
 */

test('wasm and wasm+gpu find the same instances on the same image', async ({ page }) => {
  await openApp(page, { path: 'wasm+gpu', panes: '2', model: testModel().id });
  await pane(page, 1).getByTestId(ids.pathPicker).selectOption('wasm');
  for (let image = 0; image < 2; image++) {
    await dropAndWait(page, sampleFile(image), 180_000);
    if (image === 0 && (await instanceCount(pane(page, 0))) < 2) {
      // A weakly trained model: compare at the candidate threshold, both panes alike.
      for (const i of [0, 1]) {
        await rerun(page, () => setNumberInput(pane(page, i).getByTestId(ids.scoreThreshold), LOW_SCORE_THRESHOLD), { panes: [i] });
      }
    }
    await expect(pane(page, 0).getByTestId(ids.pathBadge)).toContainText('wasm+gpu');
    await expect(pane(page, 1).getByTestId(ids.pathBadge)).toHaveText(/wasm(?!\s*\+)/);
    const state = await getState(page);
    expect(state.panes.map((p) => p.activePath)).toEqual(['wasm+gpu', 'wasm']);

    const gpu = await readInstances(pane(page, 0));
    const cpu = await readInstances(pane(page, 1));
    expect(gpu.length, `image ${image}: instances found`).toBeGreaterThan(0);
    // Same count, same classes in the same (score) order, boxes overlapping almost exactly.
    expect(gpu.length, `image ${image}: count`).toBe(cpu.length);
    expect(gpu.map((i) => i.cls)).toEqual(cpu.map((i) => i.cls));
    gpu.forEach((g, i) => {
      expect(boxIou(g.box, cpu[i]!.box), `image ${image} instance ${i} box IoU`).toBeGreaterThanOrEqual(0.99);
      expect(Math.abs(g.score - cpu[i]!.score)).toBeLessThanOrEqual(0.011);
    });
    // Mask areas (pixels at mask resolution) within 2 % of each other.
    const dg = state.panes[0]!.result!.detections;
    const dc = state.panes[1]!.result!.detections;
    expect(dg.length).toBe(dc.length);
    const figures = dg.map((d, i) => ({
      score: Math.abs(d.score - dc[i]!.score),
      iou: boxIou(d.box, dc[i]!.box),
      area: Math.abs(d.maskArea - dc[i]!.maskArea) / Math.max(1, dc[i]!.maskArea),
    }));
    const summary =
      `image ${image}: ${dg.length} instances, max |Δscore| ${Math.max(0, ...figures.map((f) => f.score)).toExponential(2)}, ` +
      `min box IoU ${Math.min(1, ...figures.map((f) => f.iou)).toFixed(4)}, max rel. mask-area diff ${Math.max(0, ...figures.map((f) => f.area)).toFixed(4)}, ` +
      `mask pixels ${dg.reduce((n, d) => n + d.maskArea, 0)} vs ${dc.reduce((n, d) => n + d.maskArea, 0)}`;
    console.log(summary);
    test.info().annotations.push({ type: 'parity', description: summary });
    dg.forEach((d, i) => {
      // Unrounded: same class, scores to f32 noise, boxes to a pixel.
      expect(d.classIndex).toBe(dc[i]!.classIndex);
      expect(Math.abs(d.score - dc[i]!.score), `image ${image} instance ${i} score`).toBeLessThanOrEqual(2e-3);
      expect(boxIou(d.box, dc[i]!.box)).toBeGreaterThanOrEqual(0.99);
      const rel = Math.abs(d.maskArea - dc[i]!.maskArea) / Math.max(1, dc[i]!.maskArea);
      expect(rel, `image ${image} instance ${i} mask area ${d.maskArea} vs ${dc[i]!.maskArea}`).toBeLessThanOrEqual(0.02);
    });
  }
});

test('without WebGPU: a notice, the wasm path, and instances still found', async ({ page }) => {
  await openApp(page, { nowebgpu: '1', model: testModel().id });
  const notice = page.locator(`[data-testid="${ids.notice}"][data-kind="info"]`);
  await expect(notice.filter({ hasText: /WebGPU is not available/i })).toBeVisible();
  await expect(notice.first()).toHaveAttribute('role', 'status');
  await dropAndWait(page, sampleFile(0), 180_000);
  await ensureInstances(page, 0, 1);
  const badge = pane(page, 0).getByTestId(ids.pathBadge);
  await expect(badge).toContainText('wasm');
  await expect(badge).not.toContainText(/gpu/i);
  const state = await getState(page);
  expect(state.webgpu).toBe(false);
  expect(state.panes[0]!.activePath).toBe('wasm');
});

test('the all-GPU webgpu path segments one image like wasm+gpu', async ({ page }) => {
  // ORT's WebGPU EP on SwiftShader takes tens of seconds a run: the smallest bundled model, once.
  test.setTimeout(480_000);
  const model = smallestModel();
  await openApp(page, { path: 'webgpu', panes: '2', model: model.id });
  await pane(page, 1).getByTestId(ids.pathPicker).selectOption('wasm+gpu');
  await expect(pane(page, 0).getByTestId(ids.pathPicker)).toHaveValue('webgpu');
  // One webgpu run only: a low threshold on both panes up front, so there are instances to compare.
  for (const i of [0, 1]) await setNumberInput(pane(page, i).getByTestId(ids.scoreThreshold), LOW_SCORE_THRESHOLD);
  await dropAndWait(page, sampleFile(0), 420_000);
  await expect(pane(page, 0).getByTestId(ids.pathBadge)).toContainText('webgpu');
  const state = await getState(page);
  expect(state.panes[0]!.activePath).toBe('webgpu');
  expect(state.panes[0]!.result!.path).toBe('webgpu');
  await screenshot(page, 'webgpu-vs-wasm-gpu');

  const gpu = await readInstances(pane(page, 0));
  const ref = await readInstances(pane(page, 1));
  expect(gpu.length).toBeGreaterThan(0);
  // Different inference backends (and preprocess on the GPU vs the CPU) move scores a little:
  // the top instances must be found by both.
  const top = gpu.slice(0, 5);
  for (const m of matchInstances(top, ref)) {
    expect(m.b, `${m.a.cls} ${m.a.score} found by wasm+gpu too`).toBeDefined();
    expect(m.iou).toBeGreaterThanOrEqual(0.9);
  }
  expect(Math.abs(gpu.length - ref.length)).toBeLessThanOrEqual(Math.max(2, Math.round(ref.length * 0.2)));
});

test('a re-run keeps the path the user picked', async ({ page }) => {
  await openApp(page, { path: 'wasm', model: testModel().id });
  await dropAndWait(page, sampleFile(0), 180_000);
  await rerun(page, () =>
    pane(page, 0)
      .getByTestId(ids.nmsKind)
      .selectOption('greedy')
      .then(() => undefined),
  );
  const state = await getState(page);
  expect(state.panes[0]!.path).toBe('wasm');
  expect(state.panes[0]!.activePath).toBe('wasm');
  expect(state.panes[0]!.result!.bytesReadBack).toBe(0);
});
