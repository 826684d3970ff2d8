import { test, expect } from '@playwright/test';
import { expectBoxesInside, getState, ids, openApp, pane, screenshot, setNumberInput } from './helpers';

/**
 * CenterMask on the webcam (project `webcam`: the fake camera plays the global setup's
 * y4m of emoji scenes), on the all-GPU `webgpu` path: ORT's WebGPU EP runs the detector and
 * the mask head, our kernels everything between them, one read-back a frame. Frames keep
 * being segmented, its own stages reach the pane, and the instances are the scene's
 * objects (boxes inside the 640x480 frame, classes of the scenes' emoji).
 *
 * The bundled weights are an early checkpoint (mask AP 0.17 on val): when nothing passes
 * the default threshold, the threshold goes down to WEAK, as in centermask.spec.ts.
 */

const CENTERMASK = 'centermask-lite-512';
const WEAK = 0.05;
const TIMEOUT = 300_000;

test('CenterMask on the webcam, webgpu path: frames segmented live, its stages in the pane, stop stops', async ({ page }) => {
  test.setTimeout(2 * TIMEOUT);
  await openApp(page, { path: 'webgpu', model: CENTERMASK });
  await page.getByTestId(ids.webcamStart).click();
  const p0 = pane(page, 0);
  await expect.poll(async () => (await getState(page)).panes[0]!.frames, { timeout: TIMEOUT }).toBeGreaterThanOrEqual(2);

  let state = await getState(page);
  expect(state.source.kind).toBe('webcam');
  expect(state.panes[0]!.activePath).toBe('webgpu');
  if ((state.panes[0]!.result?.detections.length ?? 0) === 0) {
    await setNumberInput(p0.getByTestId(ids.scoreThreshold), WEAK);
    await expect.poll(async () => (await getState(page)).panes[0]!.result?.detections.length ?? 0, { timeout: TIMEOUT }).toBeGreaterThan(0);
  }
  // (Two results already: with two frames in flight they come a moment apart, so waiting
  // for a third would only add a webgpu frame on SwiftShader, ~2 minutes.)

  state = await getState(page);
  const result = state.panes[0]!.result!;
  expect([result.imageWidth, result.imageHeight]).toEqual([640, 480]);
  expectBoxesInside(result.detections, 640, 480);
  for (const d of result.detections) expect(d.maskArea).toBeGreaterThan(0);
  // CenterMask's stages, timed on the GPU side, and one read-back a frame: the records and
  // mask bits, plus — where the overlay is in 'readback' mode, SwiftShader's default — the
  // W·H·4 overlay itself; never the RoI features (64 × 14 × 14 floats an instance).
  const timings = result.timings as unknown as Record<string, number | string | undefined>;
  for (const stage of ['decode', 'nms', 'roi', 'masks']) expect(typeof timings[stage], `stage ${stage}`).toBe('number');
  expect(result.bytesReadBack).toBeLessThan(640 * 480 * 4 + 64 * 1024);
  console.log(
    `CenterMask webcam (webgpu): ${state.panes[0]!.frames} frames, ${result.detections.length} instances: ` +
      result.detections
        .slice(0, 8)
        .map((d) => `${d.classIndex}@${d.score.toFixed(2)}`)
        .join(' ') +
      `; read back ${result.bytesReadBack} B`,
  );
  await screenshot(page, 'centermask-webcam');

  await page.getByTestId(ids.webcamStop).click();
  await expect.poll(async () => (await getState(page)).source.webcamActive).toBe(false);
  const framesAtStop = (await getState(page)).panes[0]!.frames;
  await page.waitForTimeout(2000);
  expect((await getState(page)).panes[0]!.frames, 'no frames after stop').toBeLessThanOrEqual(framesAtStop + 1);
});
