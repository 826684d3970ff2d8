import { test, expect } from '@playwright/test';
import { getState, ids, openApp, testModel } from './helpers';

/**
 * Stop pressed while the camera is still starting (permission prompt or device pending)
 * must leave no live track: before the fix the stream granted afterwards stayed on, with
 * the Stop button disabled and no way to turn the camera off.
 */

test('Stop while getUserMedia is pending leaves no live camera track', async ({ page }) => {
  // A slow camera: getUserMedia resolves 1.5 s late; every stream it gives is kept for the check.
  await page.addInitScript(() => {
    const md = navigator.mediaDevices;
    const real = md.getUserMedia.bind(md);
    const given: MediaStream[] = [];
    (window as unknown as { __streams: MediaStream[] }).__streams = given;
    md.getUserMedia = async (constraints?: MediaStreamConstraints) => {
      await new Promise((r) => setTimeout(r, 1500));
      const stream = await real(constraints);
      given.push(stream);
      return stream;
    };
  });
  await openApp(page, { path: 'wasm', model: testModel().id });
  const start = page.getByTestId(ids.webcamStart);
  const stop = page.getByTestId(ids.webcamStop);

  await start.click();
  await stop.click(); // while the slow getUserMedia is still pending
  await expect.poll(() => page.evaluate(() => (window as unknown as { __streams: MediaStream[] }).__streams.length), { timeout: 15_000 }).toBe(1);

  const live = () =>
    page.evaluate(
      () => (window as unknown as { __streams: MediaStream[] }).__streams.flatMap((s) => s.getTracks()).filter((t) => t.readyState === 'live').length,
    );
  await expect.poll(live, { timeout: 30_000 }).toBe(0);
  expect((await getState(page)).source.webcamActive).toBe(false);
  await expect(start).toBeEnabled();
  // No error notice for a start the user cancelled.
  await expect(page.locator(`[data-testid="${ids.notice}"][data-kind="error"]`)).toHaveCount(0);

  // Picking another camera while starting: only the last start's stream stays live, and Stop turns it off.
  await start.click();
  await expect.poll(() => page.evaluate(() => (window as unknown as { __streams: MediaStream[] }).__streams.length), { timeout: 15_000 }).toBe(2);
  await expect.poll(async () => (await getState(page)).source.webcamActive).toBe(true);
  await expect.poll(live, { timeout: 30_000 }).toBe(1);
  await stop.click();
  await expect.poll(live, { timeout: 30_000 }).toBe(0);
});
