import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { collectPageErrors, dropFile, getState, ids, openApp, pane, setNumberInput, testModel } from './helpers';
import { FIXTURE_PATHS } from './paths';

/**
 * The GPU device lost twice while the webcam streams (Chromium's fake camera): each time
 * the app says so, re-acquires a device and the panes go on, with their models, paths and
 * settings and the user's dropped model kept. A third loss within a minute is one too
 * many: the panes stay on the CPU and the page says how to try the GPU again.
 */

const framesOf = async (page: Page, index: number) => (await getState(page)).panes[index]!.frames;

async function loseAndRecover(page: Page, nth: number): Promise<void> {
  const before = await framesOf(page, 0);
  await page.evaluate(() => (window as unknown as { __segarena: { loseDevice(): void } }).__segarena.loseDevice());
  // The log, not the screen: the "recovered" info fades, and the nth loss must bring the nth one.
  await expect.poll(async () => (await getState(page)).noticeLog.filter((n) => /GPU device was recovered/.test(n.text)).length, { timeout: 60_000 }).toBe(nth);
  // Frames keep coming after the recovery, on the GPU path again.
  await expect.poll(() => framesOf(page, 0), { timeout: 180_000, message: `frames after loss ${nth}` }).toBeGreaterThan(before + 1);
  await expect.poll(() => framesOf(page, 1), { timeout: 180_000 }).toBeGreaterThan(0);
  const s = await getState(page);
  expect(s.panes.map((p) => p.activePath)).toEqual(['wasm+gpu', 'wasm+gpu']);
}

test('device lost twice mid-stream: panes, models and settings survive; a third loss keeps them on the CPU', async ({ page }) => {
  const errors = collectPageErrors(page);
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
  // What the user set up: a dropped model (it opens in a new pane 2), other settings in pane 1.
  const onnx = readFileSync(path.join(FIXTURE_PATHS.repoRoot, testModel().url));
  await dropFile(page, { name: 'kept model.onnx', mimeType: 'application/octet-stream', buffer: onnx });
  await expect.poll(async () => (await getState(page)).panes[1]?.modelId, { timeout: 180_000 }).toMatch(/kept.model/);
  await setNumberInput(pane(page, 0).getByTestId(ids.scoreThreshold), 0.3);
  await pane(page, 0).getByTestId(ids.nmsKind).selectOption('greedy');
  const setUp = await getState(page);
  const kept = setUp.panes.map((p) => ({ modelId: p.modelId, path: p.path, settings: p.settings }));

  await page.getByTestId(ids.webcamStart).click();
  await expect.poll(() => framesOf(page, 0), { timeout: 180_000 }).toBeGreaterThan(1);
  await loseAndRecover(page, 1);
  await loseAndRecover(page, 2);

  const after = await getState(page);
  expect(after.source.webcamActive).toBe(true);
  expect(after.panes.map((p) => ({ modelId: p.modelId, path: p.path, settings: p.settings }))).toEqual(kept);
  expect(after.savedModels.map((m) => m.id)).toEqual(setUp.savedModels.map((m) => m.id));

  // Third loss within the minute: no more re-acquiring; the panes run on, on the CPU.
  const before = await framesOf(page, 0);
  await page.evaluate(() => (window as unknown as { __segarena: { loseDevice(): void } }).__segarena.loseDevice());
  await expect(page.getByTestId(ids.notice).filter({ hasText: /lost 3 times in a minute.*stay on the CPU/ })).toBeVisible();
  await expect.poll(() => framesOf(page, 0), { timeout: 180_000 }).toBeGreaterThan(before + 1);
  expect((await getState(page)).panes.map((p) => p.activePath)).toEqual(['wasm', 'wasm']);
  await page.getByTestId(ids.webcamStop).click();
  expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
});
