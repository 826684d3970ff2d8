import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { armDoneWatch, collectPageErrors, dropAndWait, dropFile, getState, ids, openApp, pane, sampleFile, testModel, waitForPanesDone } from './helpers';
import { FIXTURE_PATHS } from './paths';

/**
 * Failures inside the app that must stay where they happen: a render exception in one
 * pane, a stray promise rejection, a GPU error in a frame, a pane removed or a model
 * deleted while a run is in flight, images opened during a model load, the webcam asked
 * for during an evaluation. Each test failed on the app before its fix.
 */

const errorNotices = (page: Page) => page.locator(`[data-testid="${ids.notice}"][data-kind="error"]`);

/**
 * GPU read-backs (mapAsync) can be held: while `window.__holdReadBacks` is true every
 * mapAsync waits, so a run is reliably in flight; false lets them all go on.
 */
async function holdableReadBacks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __holdReadBacks: boolean };
    w.__holdReadBacks = false;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the patch calls it with `this` (real.apply(this, args))
    const real = GPUBuffer.prototype.mapAsync;
    GPUBuffer.prototype.mapAsync = async function (this: GPUBuffer, ...args: Parameters<GPUBuffer['mapAsync']>) {
      while (w.__holdReadBacks) await new Promise((r) => setTimeout(r, 50));
      return real.apply(this, args);
    };
  });
}

const holdReadBacks = (page: Page, hold: boolean) => page.evaluate((h) => ((window as unknown as { __holdReadBacks: boolean }).__holdReadBacks = h), hold);

test('a render exception in one pane shows in that pane, can be reset, and the other pane goes on', async ({ page }) => {
  const errors = collectPageErrors(page);
  await openApp(page, { path: 'wasm+gpu', model: testModel().id, panes: '2' });
  await dropAndWait(page, sampleFile(0), 180_000);
  // A malformed result reaches pane 1's render (a detection that is not one).
  await page.evaluate(() => {
    const store = (window as unknown as { __segarena: { store: { setState(f: (s: { panes: Array<{ result: unknown }> }) => unknown): void } } }).__segarena
      .store;
    store.setState((s) => ({
      panes: s.panes.map((p, i) => (i === 0 ? { ...p, result: { ...(p.result as object), detections: [null] } } : p)),
    }));
  });
  await expect(pane(page, 0).getByTestId('pane-error')).toBeVisible();
  await expect(pane(page, 0).getByTestId('pane-error')).toContainText(/could not be drawn/);
  await expect(errorNotices(page).filter({ hasText: /Pane 1 could not be drawn/ })).toBeVisible();
  // The page is not blank: pane 2 and the source bar are there, and pane 2 still segments.
  await expect(pane(page, 1).getByTestId(ids.modelPicker)).toBeVisible();
  await armDoneWatch(page);
  await dropFile(page, sampleFile(1));
  await waitForPanesDone(page, { panes: [1], timeout: 180_000 });
  // Reset brings pane 1 back with its model, and it runs again.
  await armDoneWatch(page);
  await pane(page, 0).getByTestId('pane-reset').click();
  await waitForPanesDone(page, { panes: [0], timeout: 180_000 });
  await expect(pane(page, 0).getByTestId(ids.modelPicker)).toHaveValue(testModel().id);
  expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
});

test('a stray promise rejection becomes a notice and the app keeps running', async ({ page }) => {
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
  await page.evaluate(() => {
    void Promise.reject(new Error('stray failure in the background'));
  });
  await expect(errorNotices(page).filter({ hasText: /stray failure in the background/ })).toBeVisible();
  await dropAndWait(page, sampleFile(0), 180_000);
});

test('a GPU error in a frame is the pane\'s error, not "0 instances"', async ({ page }) => {
  // The bit-mask buffer is asked for at a size no GPU gives: a validation error, the buffer invalid.
  await page.addInitScript(() => {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the patch calls it with `this` (real.call(this, …))
    const real = GPUDevice.prototype.createBuffer;
    GPUDevice.prototype.createBuffer = function (this: GPUDevice, desc: GPUBufferDescriptor) {
      if (desc.label?.endsWith('.maskBits')) return real.call(this, { ...desc, size: this.limits.maxBufferSize + 256 });
      return real.call(this, desc);
    };
  });
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
  await dropFile(page, sampleFile(0));
  await expect(pane(page, 0).getByTestId(ids.paneStatus)).toHaveAttribute('data-state', 'error', { timeout: 180_000 });
  await expect(errorNotices(page).filter({ hasText: /GPU validation error/ })).toBeVisible();
  // The pane waits for the user instead of failing again; the CPU path still works.
  await armDoneWatch(page);
  await pane(page, 0).getByTestId(ids.pathPicker).selectOption('wasm');
  await waitForPanesDone(page, { timeout: 180_000 });
  expect((await getState(page)).panes[0]!.activePath).toBe('wasm');
});

test('removing a pane while it runs raises no failure', async ({ page }) => {
  await holdableReadBacks(page);
  await openApp(page, { path: 'wasm+gpu', model: testModel().id, panes: '2' });
  await holdReadBacks(page, true);
  await dropFile(page, sampleFile(0));
  // Both panes' frames are in flight (the first read-back is held); pane 2 is removed under its run.
  await expect(pane(page, 1).getByTestId(ids.paneStatus)).toHaveAttribute('data-state', 'running');
  await page.waitForTimeout(3000);
  await pane(page, 1).getByTestId(ids.removePane).click();
  await expect(pane(page, 1)).toHaveCount(0);
  await holdReadBacks(page, false);
  await expect.poll(async () => (await getState(page)).panes[0]!.status, { timeout: 180_000 }).toBe('done');
  await page.waitForTimeout(3000);
  await expect(errorNotices(page)).toHaveCount(0);
});

test('deleting a saved model while a pane runs it switches the pane without a failure', async ({ page }) => {
  await holdableReadBacks(page);
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
  await dropAndWait(page, sampleFile(0), 180_000);
  const onnx = readFileSync(path.join(FIXTURE_PATHS.repoRoot, testModel().url));
  await dropFile(page, { name: 'to delete.onnx', mimeType: 'application/octet-stream', buffer: onnx });
  // It opens in a new pane 2.
  await expect.poll(async () => (await getState(page)).panes[1]?.modelId, { timeout: 180_000 }).toMatch(/to.delete/);
  await expect.poll(async () => (await getState(page)).panes[1]!.status, { timeout: 180_000 }).toBe('done');
  // A run on the dropped model, held at its read-back, and the model deleted under it.
  await holdReadBacks(page, true);
  await dropFile(page, sampleFile(1));
  await expect.poll(async () => (await getState(page)).panes[1]!.status, { timeout: 60_000 }).toBe('running');
  await page.waitForTimeout(3000);
  await page.locator('.saved-models > summary').click();
  await page.getByTestId('delete-saved-model').first().click();
  await page.getByTestId('delete-confirm-yes').click();
  await expect.poll(async () => (await getState(page)).panes[1]!.modelId, { timeout: 60_000 }).not.toMatch(/to.delete/);
  await holdReadBacks(page, false);
  await expect.poll(async () => (await getState(page)).panes[1]!.status, { timeout: 180_000 }).toBe('done');
  await page.waitForTimeout(3000);
  await expect(errorNotices(page)).toHaveCount(0);
});

test('images opened while a model loads: the pane runs on the last one', async ({ page }) => {
  const errors = collectPageErrors(page);
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
  await dropFile(page, sampleFile(0));
  await dropFile(page, sampleFile(1));
  await dropFile(page, sampleFile(2));
  await dropFile(page, sampleFile(3));
  const last = sampleFile(3).name;
  await expect
    .poll(
      async () => {
        const s = await getState(page);
        return s.panes[0]!.status === 'done' && s.panes[0]!.resultFrameId === s.source.frameId ? s.source.name : '';
      },
      { timeout: 180_000 },
    )
    .toBe(last);
  await expect(errorNotices(page)).toHaveCount(0);
  expect(errors.filter((e) => /detached|closed|InvalidState/i.test(e))).toEqual([]);
});

test('the webcam asked for during an evaluation says why it waits, and the evaluation ends', async ({ page }) => {
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
  await page.getByTestId('evaluate').click();
  await expect.poll(async () => (await getState(page)).evalRun !== null).toBe(true);
  // Dispatched: between images the main thread is busy, and an actionability wait for a stable
  // button can last until the info notice has faded (or the evaluation is over).
  await page.getByTestId(ids.webcamStart).dispatchEvent('click');
  await expect(page.getByTestId(ids.notice).filter({ hasText: /webcam can start once the evaluation is done/ })).toBeVisible();
  expect((await getState(page)).source.webcamActive).toBe(false);
  await page.getByTestId('evaluate-stop').click();
  await expect.poll(async () => (await getState(page)).evalRun, { timeout: 180_000 }).toBeNull();
  expect((await getState(page)).panes[0]!.evaluation).not.toBeNull();
});
