import { test, expect } from '@playwright/test';
import { hugeClassCountYolact } from '../app/families/hostileOnnx';
import { collectPageErrors, dropAndWait, dropFile, ensureInstances, getState, ids, openApp, sampleFile, testModel } from './helpers';
import { MAX_CLASSES } from '../app/families/detect';

/**
 * A hostile ONNX header (issue 14) dropped on the app: a YOLACT layout whose conf claims
 * [1, 100, 100000001] (100,000,000 classes), which used to exhaust the tab's heap. Now it
 * gets the app's own refusal as a notice, and the app goes on segmenting.
 */

test('a dropped ONNX claiming 100,000,000 classes gets a notice; the app still segments an image', async ({ page }) => {
  const pageErrors = collectPageErrors(page);
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
  const before = (await getState(page)).panes.map((p) => p.modelId);

  await dropFile(page, { name: 'hostile.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(hugeClassCountYolact()) });
  const notice = page.locator(`[data-testid="${ids.notice}"][data-kind="error"]`).filter({ hasText: 'hostile.onnx' });
  await expect(notice).toBeVisible({ timeout: 30_000 });
  await expect(notice).toContainText('Model failed to load');
  await expect(notice).toContainText(`YOLACT output “conf” [1, 100, 100000001]: 100000000 classes; SegArena runs at most ${MAX_CLASSES}`);

  // Nothing was added or switched, and a good image is still segmented.
  const after = await getState(page);
  expect(after.panes.map((p) => p.modelId)).toEqual(before);
  expect(after.savedModels).toEqual([]);
  await dropAndWait(page, sampleFile(0), 180_000);
  await ensureInstances(page, 0, 1);
  expect(pageErrors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
});
