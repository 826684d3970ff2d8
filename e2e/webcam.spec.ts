import { existsSync, readFileSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { getState, ids, LOW_SCORE_THRESHOLD, openApp, pane, screenshot, setNumberInput, testModel } from './helpers';
import { FIXTURE_PATHS } from './paths';

/**
 * The webcam source, with Chromium's fake camera playing the global setup's y4m (640x480
 * synthetic scenes). Runs in the `webcam` project only (its browser has the fake-capture flags).
 */

test('webcam: frames are segmented live, fps shown, and stop stops', async ({ page }) => {
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
  const picker = page.getByTestId(ids.cameraPicker);
  await page.getByTestId(ids.webcamStart).click();

  const p0 = pane(page, 0);
  // Several frames go through the pane while the camera runs.
  await expect.poll(async () => (await getState(page)).panes[0]!.frames, { timeout: 120_000 }).toBeGreaterThanOrEqual(3);
  const state = await getState(page);
  expect(state.source.kind).toBe('webcam');
  expect(state.source.webcamActive).toBe(true);
  expect([state.source.width, state.source.height]).toEqual([640, 480]);
  expect(state.panes[0]!.result!.imageWidth).toBe(640);
  await expect(p0.getByTestId(ids.paneStatus)).toHaveAttribute('data-state', 'running');
  await expect.poll(async () => (await getState(page)).panes[0]!.fps, { timeout: 60_000 }).toBeGreaterThan(0);
  await expect(p0.getByTestId(ids.fps)).toContainText(/\d/);
  await expect(p0.getByTestId(ids.fps)).not.toHaveText(/^\s*0(\.0+)?\s*(fps)?\s*$/i);
  // Device list filled once permission is granted.
  await expect.poll(() => picker.locator('option').count()).toBeGreaterThan(0);

  // Results keep coming for new frames.
  const frameIds = new Set<number>();
  for (let i = 0; i < 6; i++) {
    const s = await getState(page);
    frameIds.add(s.panes[0]!.resultFrameId);
    await page.waitForTimeout(700);
  }
  expect(frameIds.size, 'results of several frames').toBeGreaterThan(1);

  // With the emoji scenes of models/dataset/make_y4m.py (ground truth beside the y4m) and a
  // trained model, objects are found in at least one frame.
  if (existsSync(FIXTURE_PATHS.webcamTruth)) {
    const truth = JSON.parse(readFileSync(FIXTURE_PATHS.webcamTruth, 'utf8')) as unknown;
    expect(truth).toBeTruthy();
    // The candidate threshold, so that a weakly trained model shows something too; the
    // change reaches the running loop without a restart.
    await setNumberInput(p0.getByTestId(ids.scoreThreshold), LOW_SCORE_THRESHOLD);
    await expect.poll(async () => (await getState(page)).panes[0]!.settings.scoreThreshold).toBeCloseTo(LOW_SCORE_THRESHOLD, 3);
    await expect
      .poll(async () => (await getState(page)).panes[0]!.result?.detections.length ?? 0, { timeout: 60_000 })
      .toBeGreaterThan(0);
  }
  await screenshot(page, 'webcam-pane');

  await page.getByTestId(ids.webcamStop).click();
  await expect.poll(async () => (await getState(page)).source.webcamActive).toBe(false);
  await expect(p0.getByTestId(ids.paneStatus)).not.toHaveAttribute('data-state', 'running');
  const framesAtStop = (await getState(page)).panes[0]!.frames;
  await page.waitForTimeout(2000);
  expect((await getState(page)).panes[0]!.frames, 'no frames after stop').toBeLessThanOrEqual(framesAtStop + 1);
});
