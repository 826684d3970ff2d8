import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect } from '@playwright/test';
import { collectPageErrors, getState, ids, instanceCount, pane, screenshot } from './helpers';
import { FIXTURE_PATHS } from './paths';

/**
 * The first screen as a user gets it: the plain address (no `autostart=0`, which openApp
 * adds for the other specs). The first sample is segmented at once, one sentence under the
 * top bar says where the panes run and why, and "What am I looking at?" opens the help.
 */

const FIRST_SAMPLE = (JSON.parse(readFileSync(path.join(FIXTURE_PATHS.samples, 'annotations.json'), 'utf8')) as { images: { file_name: string }[] }).images[0]!
  .file_name;

test('a fresh load segments the first sample, says in one sentence where it runs, and links the help', async ({ page }) => {
  const errors = collectPageErrors(page);
  await page.goto('/');
  await expect(page).toHaveTitle('SegArena');

  // Segmented without a click: the first sample, the pane done, objects found.
  const status = pane(page, 0).getByTestId(ids.paneStatus);
  await expect(status).toHaveAttribute('data-state', 'done', { timeout: 170_000 });
  const state = await getState(page);
  expect(state.source).toMatchObject({ kind: 'image', name: FIRST_SAMPLE });
  expect(state.panes[0]!.resultFrameId).toBe(state.source.frameId);
  await expect(page.getByTestId(ids.samplePicker)).toHaveValue(FIRST_SAMPLE);
  expect(await instanceCount(pane(page, 0))).toBeGreaterThan(0);
  await expect(pane(page, 0).getByTestId(ids.instanceRow).first()).toBeVisible();

  // Where it runs, in plain words, in one place; the software GPU is no jargon notice any more.
  const sentence = page.getByTestId('runs-on');
  if (!state.webgpu) await expect(sentence).toHaveText(/^Running on your CPU: this browser offers no WebGPU/);
  else if (state.fallbackAdapter) {
    await expect(sentence).toHaveText(
      'Running on your CPU: this browser’s GPU is a software emulation, so the model runs in WebAssembly and only the post-processing uses the (emulated) GPU.',
    );
  } else await expect(sentence).toHaveText(/^Running on your GPU \(WebGPU\)/);
  // No jargon notice either (the log holds notices that have faded too).
  expect(state.noticeLog.filter((n) => /software emulation|ORT wasm/.test(n.text))).toEqual([]);
  await screenshot(page, 'first-screen');

  // The help: a dialog named by its title, with the pane, the paths, the timings and AP explained.
  await page.getByRole('button', { name: 'What am I looking at?' }).click();
  const help = page.getByRole('dialog', { name: 'What am I looking at?' });
  await expect(help).toBeVisible();
  for (const part of ['A pane', 'The three paths', 'wasm+gpu', 'Timings', 'AP figures']) await expect(help).toContainText(part);
  await screenshot(page, 'first-screen-help');
  await page.keyboard.press('Escape');
  await expect(help).toHaveCount(0);
  expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
});
