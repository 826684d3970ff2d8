import { test, expect } from '@playwright/test';
import { getState, ids, openApp, pane, testModel } from './helpers';

/**
 * Hover while the webcam runs (the `webcam` project: the fake camera plays emoji scenes
 * whose objects move a few pixels a frame). The highlighted instance follows its object
 * from frame to frame; before, every new frame dropped the highlight, so it never stuck.
 */

test('a hovered instance stays highlighted across webcam frames', async ({ page }) => {
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
  await page.getByTestId(ids.webcamStart).click();
  const p0 = pane(page, 0);
  await expect.poll(async () => (await getState(page)).panes[0]!.result?.detections.length ?? 0, { timeout: 180_000 }).toBeGreaterThan(0);
  // The pointer on the largest instance's box centre in the overlay, and left there.
  const s0 = await getState(page);
  const area = (b: number[]) => (b[2]! - b[0]!) * (b[3]! - b[1]!);
  const [x1, y1, x2, y2] = s0.panes[0]!.result!.detections.map((d) => d.box).sort((a, b) => area(b) - area(a))[0]!;
  const stage = (await p0.locator('.overlay-shapes').boundingBox())!;
  const scale = stage.width / s0.source.width;
  await page.mouse.move(stage.x + ((x1 + x2) / 2) * scale, stage.y + ((y1 + y2) / 2) * scale);
  await expect.poll(async () => (await getState(page)).panes[0]!.highlight, { timeout: 30_000 }).not.toBeNull();
  const at = (await getState(page)).panes[0]!.frames;
  // Three more frames with the pointer still on the row: the highlight is still there.
  await expect.poll(async () => (await getState(page)).panes[0]!.frames, { timeout: 180_000 }).toBeGreaterThanOrEqual(at + 3);
  const s = await getState(page);
  expect(s.panes[0]!.highlight).not.toBeNull();
  const d = s.panes[0]!.result!.detections[s.panes[0]!.highlight!];
  expect(d).toBeTruthy();
  await page.getByTestId(ids.webcamStop).click();
});
