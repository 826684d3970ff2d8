import { test, expect } from '@playwright/test';
import { dropAndWait, ensureInstances, getState, ids, testModel, openApp, sampleFile } from './helpers';

/**
 * Camera permission refused (the `camera-denied` project: a fake camera exists but the
 * prompt is not auto-accepted and no permission is granted, so getUserMedia rejects with
 * NotAllowedError): a clear notice, and images still work.
 */

test('camera denied: an error notice, no webcam source, and images still work', async ({ page }) => {
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
  await page.getByTestId(ids.webcamStart).click();
  const notice = page.locator(`[data-testid="${ids.notice}"][data-kind="error"]`);
  await expect(notice.filter({ hasText: /camera/i }).filter({ hasText: /denied|blocked|not allowed|permission/i })).toBeVisible();
  const state = await getState(page);
  expect(state.source.webcamActive).toBe(false);
  await dropAndWait(page, sampleFile(0), 180_000);
  await ensureInstances(page, 0, 1);
});
