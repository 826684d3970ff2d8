import { test, expect } from '@playwright/test';
import { collectPageErrors, getState, ids, openApp, pane, panes } from './helpers';

/** The page loads, exposes the UI contract's controls and the test hook; no model needed. */

test('the app loads with its controls and test hook', async ({ page }) => {
  const errors = collectPageErrors(page);
  await openApp(page, { panes: '2', path: 'wasm+gpu' });
  await expect(page.getByTestId(ids.dropZone)).toBeAttached();
  await expect(page.getByRole('button', { name: /open image/i })).toBeVisible();
  await expect(page.getByTestId(ids.imageInput)).toHaveAttribute('accept', 'image/*,video/*');
  await expect(page.getByTestId(ids.samplePicker)).toBeVisible();
  await expect(page.getByTestId(ids.webcamStart)).toBeVisible();
  await expect(page.getByTestId(ids.addPane)).toBeVisible();
  await expect(panes(page)).toHaveCount(2);
  for (let i = 0; i < 2; i++) {
    const p = pane(page, i);
    for (const id of [
      ids.modelPicker,
      ids.pathPicker,
      ids.pathBadge,
      ids.scoreThreshold,
      ids.topK,
      ids.nmsIou,
      ids.nmsKind,
      ids.removePane,
      ids.exportJson,
      ids.exportPng,
      ids.paneStatus,
    ]) {
      await expect(p.getByTestId(id), `pane ${i} ${id}`).toBeAttached();
    }
    await expect(p.getByTestId(ids.pathPicker)).toHaveValue('wasm+gpu');
    const paths = await p
      .getByTestId(ids.pathPicker)
      .locator('option')
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(paths).toEqual(expect.arrayContaining(['webgpu', 'wasm+gpu', 'wasm']));
    const kinds = await p
      .getByTestId(ids.nmsKind)
      .locator('option')
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(kinds).toEqual(expect.arrayContaining(['fast', 'greedy']));
  }
  await expect(page.getByTestId(ids.metricsTable)).toBeVisible();
  const state = await getState(page);
  expect(state.panes).toHaveLength(2);
  expect(state.panes.every((p) => p.path === 'wasm+gpu')).toBe(true);
  // Chromium with --enable-unsafe-webgpu on SwiftShader: WebGPU is there, on a fallback adapter.
  expect(state.webgpu).toBe(true);
  expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
});
