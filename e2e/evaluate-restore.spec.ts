import { test, expect, type Page } from '@playwright/test';
import { dropAndWait, getState, ids, openApp, pane, readInstances, sampleFile, screenshot, testModel } from './helpers';

/**
 * Evaluate leaves the user's work alone: what is on screen (an image, the webcam) is set
 * aside with a notice while the evaluation drives the panes, and comes back afterwards.
 * The evaluation's Stop and the webcam's Stop are told apart by name.
 * (App project: Chromium's default fake camera.)
 */

const EVAL_TIMEOUT = 300_000;

async function waitForEvaluationEnd(page: Page): Promise<void> {
  await expect.poll(async () => (await getState(page)).evalRun, { timeout: EVAL_TIMEOUT }).toBeNull();
}

test('an image on screen: set aside during Evaluate, then back and segmented as before', async ({ page }) => {
  test.setTimeout(EVAL_TIMEOUT + 120_000);
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
  // The user's own image (a sample's pixels under another name, so it is not one the evaluation opens).
  await dropAndWait(page, { ...sampleFile(1), name: 'my-photo.jpg' });
  const before = await readInstances(pane(page, 0));
  expect(before.length).toBeGreaterThan(0);

  await page.getByTestId('evaluate').click();
  await expect(
    page.getByTestId(ids.notice).filter({ hasText: '“my-photo.jpg” is set aside during the evaluation; it comes back when the evaluation ends.' }),
  ).toBeVisible();
  // Two stop buttons, two names.
  await expect(page.getByRole('button', { name: 'Stop evaluation' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Stop webcam' })).toHaveCount(1);
  await expect(page.getByRole('button', { name: '■ Stop', exact: true })).toHaveCount(0);
  await waitForEvaluationEnd(page);
  await expect(page.getByRole('button', { name: 'Stop evaluation' })).toHaveCount(0);

  // Back: the user's image, segmented again with the pane's own settings, the figures kept.
  await expect
    .poll(
      async () => {
        const s = await getState(page);
        return s.source.name === 'my-photo.jpg' && s.panes[0]!.status === 'done' && s.panes[0]!.resultFrameId === s.source.frameId;
      },
      { timeout: 120_000 },
    )
    .toBe(true);
  expect(await readInstances(pane(page, 0))).toEqual(before);
  const state = await getState(page);
  expect(state.panes[0]!.evaluation).toMatchObject({ source: 'samples' });
  await expect(pane(page, 0).getByTestId('pane-evaluation')).toBeVisible();
});

test('the webcam running: paused with a notice during Evaluate (stopped early), then running again', async ({ page }) => {
  test.setTimeout(EVAL_TIMEOUT + 120_000);
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
  await page.getByTestId(ids.webcamStart).click();
  await expect.poll(async () => (await getState(page)).panes[0]!.frames, { timeout: 120_000 }).toBeGreaterThan(0);

  await page.getByTestId('evaluate').click();
  await expect(
    page.getByTestId(ids.notice).filter({ hasText: 'The webcam is paused during the evaluation; it starts again when the evaluation ends.' }),
  ).toBeVisible();
  expect((await getState(page)).source.webcamActive).toBe(false);
  await expect(page.getByRole('button', { name: 'Stop webcam' })).toBeDisabled();
  await screenshot(page, 'evaluate-webcam-paused');
  // Its own Stop ends the evaluation after the image in progress. (Dispatched: the page's
  // main thread is busy between images, see evaluate.spec.ts.)
  await page.getByRole('button', { name: 'Stop evaluation' }).dispatchEvent('click');
  await waitForEvaluationEnd(page);

  // The webcam again: frames flow into the pane, and its Stop works.
  await expect.poll(async () => (await getState(page)).source.webcamActive, { timeout: 60_000 }).toBe(true);
  await expect.poll(async () => (await getState(page)).source.kind, { timeout: 60_000 }).toBe('webcam');
  await expect.poll(async () => (await getState(page)).panes[0]!.frames, { timeout: 120_000 }).toBeGreaterThan(0);
  await page.getByRole('button', { name: 'Stop webcam' }).click();
  await expect.poll(async () => (await getState(page)).source.webcamActive).toBe(false);
});
