import { test, expect } from '@playwright/test';
import { expectBoxesInside, getState, ids, openApp, pane, screenshot, setNumberInput } from './helpers';

/**
 * BlendMask beside B2Inst on the webcam (project `webcam`: the fake camera plays the global
 * setup's y4m of emoji scenes), on 'wasm+gpu': both panes keep segmenting the stream, each
 * result inside the 640x480 frame, B2Inst's with its (S_IoU, S_boundary), and stop stops.
 * Weak bundled weights: the threshold goes down to WEAK when a pane finds nothing.
 */

const BLENDMASK = 'blendmask-512';
const B2INST = 'b2inst-512';
const WEAK = 0.05;
const TIMEOUT = 300_000;

test('BlendMask and B2Inst side by side on the webcam: both panes segment live, stop stops', async ({ page }) => {
  test.setTimeout(2 * TIMEOUT);
  await openApp(page, { path: 'wasm+gpu', panes: '2', model: BLENDMASK });
  await pane(page, 1).getByTestId(ids.modelPicker).selectOption(B2INST);
  await expect.poll(async () => (await getState(page)).panes.map((p) => p.modelId)).toEqual([BLENDMASK, B2INST]);
  for (const i of [0, 1]) await setNumberInput(pane(page, i).getByTestId(ids.scoreThreshold), WEAK);
  await page.getByTestId(ids.webcamStart).click();
  for (const i of [0, 1]) await expect.poll(async () => (await getState(page)).panes[i]!.frames, { timeout: TIMEOUT }).toBeGreaterThanOrEqual(2);

  const state = await getState(page);
  expect(state.source.kind).toBe('webcam');
  for (const [i, p] of state.panes.entries()) {
    const result = p.result!;
    expect([result.imageWidth, result.imageHeight], `pane ${i + 1}`).toEqual([640, 480]);
    expect(p.status).not.toBe('error');
    expectBoxesInside(result.detections, 640, 480);
    for (const d of result.detections) {
      expect(d.maskArea).toBeGreaterThan(0);
      if (i === 1) expect(Object.keys(d.qualities ?? {})).toEqual(['S_IoU', 'S_boundary']);
    }
  }
  const counts = state.panes.map((p) => p.result!.detections.length);
  console.log(`webcam: BlendMask ${state.panes[0]!.frames} frames / ${counts[0]} instances, B2Inst ${state.panes[1]!.frames} frames / ${counts[1]} instances`);
  expect(counts[0]! + counts[1]!).toBeGreaterThan(0);
  await screenshot(page, 'blendmask-b2inst-webcam');

  await page.getByTestId(ids.webcamStop).click();
  await expect.poll(async () => (await getState(page)).source.webcamActive).toBe(false);
  const framesAtStop = (await getState(page)).panes.map((p) => p.frames);
  await page.waitForTimeout(2000);
  (await getState(page)).panes.forEach((p, i) => expect(p.frames, 'no frames after stop').toBeLessThanOrEqual(framesAtStop[i]! + 2));
});
