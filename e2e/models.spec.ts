import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect } from '@playwright/test';
import { dropAndWait, dropFile, getState, ids, LOW_SCORE_THRESHOLD, openApp, pane, rerun, sampleFile, setScoreThreshold, testModel } from './helpers';
import { FIXTURE_PATHS } from './paths';

/** A model the user drops (an ONNX in YOLACT's public layout) joins the pickers and runs. */

test('a dropped YOLACT ONNX becomes a model in the pickers and runs in a new pane', async ({ page }) => {
  const bundled = testModel();
  await openApp(page, { path: 'wasm+gpu', model: bundled.id });
  await dropAndWait(page, sampleFile(0), 180_000);
  const onnx = readFileSync(path.join(FIXTURE_PATHS.repoRoot, bundled.url));
  // The dropped model opens in a second pane (pane 1 keeps the bundled model).
  await dropFile(page, { name: 'my yolact.onnx', mimeType: 'application/octet-stream', buffer: onnx });
  await expect(pane(page, 1).getByTestId(ids.paneStatus)).toHaveAttribute('data-state', 'done', { timeout: 180_000 });
  await expect(page.locator(`[data-testid="${ids.notice}"][data-kind="info"]`).filter({ hasText: /Model added/i })).toContainText('pane 2');
  const state = await getState(page);
  expect(state.panes[0]!.modelId).toBe(bundled.id);
  const id = state.panes[1]!.modelId;
  expect(id).not.toBe(bundled.id);
  expect(id).toMatch(/my.yolact/);
  await expect(pane(page, 1).getByTestId(ids.modelPicker)).toHaveValue(id);
  const options = await pane(page, 1)
    .getByTestId(ids.modelPicker)
    .locator('option')
    .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  expect(options).toEqual(expect.arrayContaining([id, bundled.id]));
  // The same weights as the bundled model: the same instances. Choosing a model resets
  // the pane's settings to that model's defaults, so both runs get the same threshold (the
  // candidate one, for instances whatever the model's quality) before they are compared.
  await setScoreThreshold(page, 1, LOW_SCORE_THRESHOLD);
  const before = (await getState(page)).panes[1]!;
  const dropped = before.result!.detections;
  expect(dropped.length, `instances of the dropped model at score ≥ ${LOW_SCORE_THRESHOLD}`).toBeGreaterThan(0);
  await rerun(
    page,
    () =>
      pane(page, 1)
        .getByTestId(ids.modelPicker)
        .selectOption(bundled.id)
        .then(() => undefined),
    {
      panes: [1],
      timeout: 180_000,
    },
  );
  await setScoreThreshold(page, 1, LOW_SCORE_THRESHOLD);
  const again = (await getState(page)).panes[1]!;
  expect(again.modelId).toBe(bundled.id);
  expect(again.settings).toEqual(before.settings);
  const bundledDets = again.result!.detections;
  expect(
    bundledDets.map((d) => d.classIndex),
    'classes, in score order',
  ).toEqual(dropped.map((d) => d.classIndex));
  bundledDets.forEach((d, i) => {
    d.box.forEach((v, j) => expect(Math.abs(v - dropped[i]!.box[j]!), `detection ${i} box[${j}]`).toBeLessThanOrEqual(1e-3));
  });
});
