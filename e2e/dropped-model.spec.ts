import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { FrameResult } from '../app/types';
import { FIXTURE_PATHS } from './paths';
import { dropAndWait, getState, ids, openApp, pane, sampleFile, smallestModel, withoutClassNames } from './helpers';

/**
 * Dropped models (app/models/fromOnnx.ts, app/ui/ModelLibrary.tsx, ClassNamesDialog.tsx):
 * a tiny untrained YOLO-seg export (models/yoloseg/test/, 3 classes, raw head) whose
 * `names` metadata is blanked out, so the app must ask for the class names; it then runs
 * in a new pane next to the bundled ones, is still listed after a reload (IndexedDB), and can
 * be deleted (after a confirm). A file that is not a model gets a notice naming what was expected.
 */

const YOLO_SEG_FILE = path.join(FIXTURE_PATHS.repoRoot, 'models/yoloseg/test/yoloseg-tiny-320-nc3.onnx');

async function addModelFile(page: Page, name: string, buffer: Buffer): Promise<void> {
  await page.getByTestId('model-drop-input').setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
}

/** Waits until pane `index` shows a result of model `modelId` for the current frame. */
async function waitForModelResult(page: Page, index: number, modelId: string, timeout = 180_000): Promise<void> {
  await page.waitForFunction(
    ({ index, modelId }) => {
      const s = (
        window as unknown as {
          __segarena: {
            getState(): { source: { frameId: number }; panes: Array<{ modelId: string; status: string; resultFrameId: number; result: unknown }> };
          };
        }
      ).__segarena.getState();
      const p = s.panes[index];
      return (
        !!p &&
        p.modelId === modelId &&
        (p.status === 'done' || p.status === 'error') &&
        p.resultFrameId === s.source.frameId &&
        (p.result !== null || p.status === 'error')
      );
    },
    { index, modelId },
    { timeout },
  );
}

test('a dropped YOLO-seg model asks for class names, runs next to a bundled one and survives a reload', async ({ page }) => {
  test.setTimeout(420_000);
  const bundled = smallestModel();
  await openApp(page, { path: 'wasm+gpu', panes: '2', model: bundled.id });
  await dropAndWait(page, sampleFile(0), 240_000);

  await addModelFile(page, 'tiny seg.onnx', withoutClassNames(readFileSync(YOLO_SEG_FILE)));
  const dialog = page.getByTestId('class-names-dialog');
  await expect(dialog).toBeVisible({ timeout: 60_000 });
  await expect(dialog).toContainText('3');
  // A wrong count is refused and the dialog stays.
  await page.getByTestId('class-names-text').fill('alpha\nbeta');
  await page.getByTestId('class-names-ok').click();
  await expect(page.getByTestId('class-names-error')).toContainText('3 classes');
  // A YAML `names` block is accepted.
  await page.getByTestId('class-names-text').fill('names:\n  0: alpha\n  1: beta\n  2: gamma\n');
  await page.getByTestId('class-names-ok').click();
  await expect(dialog).toBeHidden();

  // The dropped model runs in a new pane 3; panes 1 and 2 keep the bundled model.
  const state = await getState(page);
  expect(state.panes).toHaveLength(3);
  const id = state.panes[2]!.modelId;
  expect(id).not.toBe(bundled.id);
  expect(state.savedModels.map((m) => m.id)).toEqual([id]);
  expect(state.savedModels[0]!.family).toBe('yolo-seg');
  await waitForModelResult(page, 2, id);
  await waitForModelResult(page, 1, bundled.id);

  const after = await getState(page);
  const dropped = after.panes[2]!;
  expect(dropped.status).toBe('done');
  expect(dropped.activePath).toBe('wasm+gpu');
  expect(dropped.result!.imageWidth).toBe(after.source.width);
  expect(dropped.result!.path).toBe('wasm+gpu');
  // Every class the untrained model reports is one of the names given.
  const rows = pane(page, 2).getByTestId(ids.instanceRow);
  const classes = await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-class')));
  for (const c of classes) expect(['alpha', 'beta', 'gamma']).toContain(c);
  expect(after.panes[1]!.modelId).toBe(bundled.id);
  expect(after.panes[1]!.status).toBe('done');
  // The other panes can pick the dropped model too.
  await expect(pane(page, 1).getByTestId(ids.modelPicker).locator(`option[value="${id}"]`)).toHaveCount(1);

  // After a reload the model is still listed (IndexedDB) and still runs.
  await page.reload();
  await openApp(page, { path: 'wasm', model: id });
  const saved = page.getByTestId('saved-model-row');
  await expect(saved).toHaveCount(1);
  await expect(saved.first()).toHaveAttribute('data-model-id', id);
  await expect(pane(page, 0).getByTestId(ids.modelPicker)).toHaveValue(id);
  await dropAndWait(page, sampleFile(0), 240_000);
  await waitForModelResult(page, 0, id);
  expect((await getState(page)).panes[0]!.status).toBe('done');

  // Deleting it (confirmed: pane 1 runs it) removes it from the list and the pickers; the pane falls back to a bundled model.
  await page.locator('.saved-models summary').click();
  await page.getByTestId('delete-saved-model').first().click();
  await expect(page.getByTestId('delete-confirm')).toContainText('Pane 1 uses it');
  await page.getByTestId('delete-confirm-yes').click();
  await expect(saved).toHaveCount(0);
  await expect(pane(page, 0).getByTestId(ids.modelPicker).locator(`option[value="${id}"]`)).toHaveCount(0);
  expect((await getState(page)).panes[0]!.modelId).not.toBe(id);
  await page.reload();
  await openApp(page);
  await expect(page.getByTestId('saved-model-row')).toHaveCount(0);
});

test('a file that is not a model gets a notice naming what was expected', async ({ page }) => {
  await openApp(page, { path: 'wasm' });
  const before = (await getState(page)).panes.map((p) => p.modelId);
  await addModelFile(page, 'notes.onnx', Buffer.from('these are my notes, not a network\n'.repeat(20)));
  const notice = page.locator(`[data-testid="${ids.notice}"][data-kind="error"]`).filter({ hasText: 'notes.onnx' });
  await expect(notice).toBeVisible({ timeout: 30_000 });
  await expect(notice).toContainText(/expected/i);
  await expect(notice).toContainText(/YOLACT/);
  await expect(notice).toContainText(/YOLO-seg/);
  const after = await getState(page);
  expect(after.panes.map((p) => p.modelId)).toEqual(before);
  expect(after.savedModels).toEqual([]);
  await expect(page.getByTestId('class-names-dialog')).toHaveCount(0);
});

test('a dropped YOLO-seg model gives the same instances on the wasm, wasm+gpu and webgpu paths', async ({ page }) => {
  test.setTimeout(480_000);
  await openApp(page, { path: 'wasm', panes: '2' });
  // The file's own `names` metadata: no dialog. It opens in a new third pane.
  await addModelFile(page, 'seg e2e.onnx', readFileSync(YOLO_SEG_FILE));
  await expect(page.locator(`[data-testid="${ids.notice}"][data-kind="info"]`).filter({ hasText: /Model added/ })).toBeVisible({ timeout: 60_000 });
  const id = (await getState(page)).panes[2]!.modelId;
  const paths = ['wasm', 'wasm+gpu', 'webgpu'] as const;
  for (let i = 0; i < 3; i++) {
    if (i < 2) await pane(page, i).getByTestId(ids.modelPicker).selectOption(id);
    await pane(page, i).getByTestId(ids.pathPicker).selectOption(paths[i]!);
    // Untrained weights score low: a low threshold gives instances to compare.
    await pane(page, i).getByTestId(ids.scoreThreshold).fill(String(LOW_THRESHOLD));
  }
  await dropAndWait(page, sampleFile(1), 360_000);
  for (let i = 0; i < 3; i++) await waitForModelResult(page, i, id, 360_000);
  const state = await getState(page);
  const results = state.panes.map((p) => p.result!);
  expect(results.map((r) => r.path)).toEqual([...paths]);
  const counts = results.map((r) => r.detections.length);
  const scores = results[0]!.detections.map((d) => d.score);
  console.log(
    'instances per path',
    counts,
    'scores',
    Math.min(...scores),
    Math.max(...scores),
    'bytes read back',
    results.map((r) => r.bytesReadBack),
  );
  expect(counts[0]).toBeGreaterThan(0);
  // wasm and wasm+gpu share the same ORT wasm outputs: the WGSL chain must give the
  // reference's instances, in order.
  const [cpu, gpu, webgpu] = results as [(typeof results)[number], (typeof results)[number], (typeof results)[number]];
  expect(gpu.detections.length).toBe(cpu.detections.length);
  gpu.detections.forEach((d, n) => {
    const ref = cpu.detections[n]!;
    expect(d.classIndex).toBe(ref.classIndex);
    expect(Math.abs(d.score - ref.score)).toBeLessThan(1e-4);
    d.box.forEach((v, k) => expect(Math.abs(v - ref.box[k]!)).toBeLessThan(0.5));
  });
  // webgpu runs the network on the GPU: untrained weights give hundreds of scores within
  // 1e-3 of each other, so float noise reorders them; check the run and its score range.
  expect(webgpu.detections.length).toBe(cpu.detections.length);
  const lo = Math.min(...scores) - 2e-3;
  const hi = Math.max(...scores) + 2e-3;
  for (const d of webgpu.detections) {
    expect(d.score).toBeGreaterThanOrEqual(lo);
    expect(d.score).toBeLessThanOrEqual(hi);
    expect(d.box[2]).toBeGreaterThanOrEqual(d.box[0]);
    expect(d.box[3]).toBeGreaterThanOrEqual(d.box[1]);
  }
  // The GPU paths read back only the records (+ timestamps), or the overlay as well on a
  // software adapter (read-back fallback): never more than records + W·H·4.
  for (const r of [gpu, webgpu]) expect(r.bytesReadBack).toBeLessThanOrEqual(r.maskWidth * r.maskHeight * 4 + 64 * 1024);
});

test('a dropped end-to-end YOLO-seg export ([1, 300, 38]) gives the same instances on wasm and wasm+gpu', async ({ page }) => {
  test.setTimeout(300_000);
  await openApp(page, { path: 'wasm' });
  // It opens in a new second pane; the first picks it too.
  await addModelFile(page, 'seg nms.onnx', readFileSync(path.join(FIXTURE_PATHS.repoRoot, 'models/yoloseg/test/yoloseg-tiny-320-nc80-e2e.onnx')));
  await expect(page.locator(`[data-testid="${ids.notice}"][data-kind="info"]`).filter({ hasText: /Model added/ })).toBeVisible({ timeout: 60_000 });
  const id = (await getState(page)).panes[1]!.modelId;
  await pane(page, 0).getByTestId(ids.modelPicker).selectOption(id);
  await pane(page, 1).getByTestId(ids.pathPicker).selectOption('wasm+gpu');
  for (let i = 0; i < 2; i++) await pane(page, i).getByTestId(ids.scoreThreshold).fill('0.05');
  await dropAndWait(page, sampleFile(0), 240_000);
  for (let i = 0; i < 2; i++) await waitForModelResult(page, i, id, 240_000);
  const [cpu, gpu] = (await getState(page)).panes.map((p) => p.result!) as [FrameResult, FrameResult];
  console.log('end-to-end instances', cpu.detections.length, gpu.detections.length);
  expect(cpu.path).toBe('wasm');
  expect(gpu.path).toBe('wasm+gpu');
  expect(cpu.detections.length).toBeGreaterThan(0);
  expect(gpu.detections.length).toBe(cpu.detections.length);
  gpu.detections.forEach((d, n) => {
    const ref = cpu.detections[n]!;
    expect(d.classIndex).toBe(ref.classIndex);
    expect(Math.abs(d.score - ref.score)).toBeLessThan(1e-4);
    d.box.forEach((v, k) => expect(Math.abs(v - ref.box[k]!)).toBeLessThan(0.5));
  });
});

const LOW_THRESHOLD = 0.3;
