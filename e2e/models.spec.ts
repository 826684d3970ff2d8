import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect } from '@playwright/test';
import {
  dropAndWait, dropFile, ensureInstances, getState, ids, openApp, pane, rerun, sampleFile, testModel,
} from './helpers';
import { FIXTURE_PATHS } from './paths';

/** A model the user drops (an ONNX in YOLACT's public layout) joins the pickers and runs. */

test('a dropped YOLACT ONNX becomes a model in the pickers and runs in pane 1', async ({ page }) => {
  const bundled = testModel();
  await openApp(page, { path: 'wasm+gpu', model: bundled.id });
  await dropAndWait(page, sampleFile(0), 180_000);
  const onnx = readFileSync(path.join(FIXTURE_PATHS.repoRoot, bundled.url));
  await rerun(page, () => dropFile(page, { name: 'my yolact.onnx', mimeType: 'application/octet-stream', buffer: onnx }), {
    timeout: 180_000,
  });
  await expect(page.locator(`[data-testid="${ids.notice}"][data-kind="info"]`).filter({ hasText: /Model added/i })).toBeVisible();
  const state = await getState(page);
  const id = state.panes[0]!.modelId;
  expect(id).not.toBe(bundled.id);
  expect(id).toMatch(/my.yolact/);
  await expect(pane(page, 0).getByTestId(ids.modelPicker)).toHaveValue(id);
  const options = await pane(page, 0).getByTestId(ids.modelPicker).locator('option').evaluateAll((os) =>
    os.map((o) => (o as HTMLOptionElement).value),
  );
  expect(options).toEqual(expect.arrayContaining([id, bundled.id]));
  // The same weights as the bundled model: the same instances.
  await ensureInstances(page, 0, 1);
  const before = (await getState(page)).panes[0]!;
  const dropped = before.result!.detections;
  await rerun(page, () => pane(page, 0).getByTestId(ids.modelPicker).selectOption(bundled.id).then(() => undefined), {
    timeout: 180_000,
  });
  const again = await getState(page);
  if (again.panes[0]!.settings.scoreThreshold === before.settings.scoreThreshold) {
    expect(again.panes[0]!.result!.detections.map((d) => d.classIndex)).toEqual(dropped.map((d) => d.classIndex));
  }
});
