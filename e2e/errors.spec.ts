import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { collectPageErrors, dropAndWait, dropFile, ensureInstances, ids, mainModel, testModel, openApp, sampleFile } from './helpers';
import { FIXTURE_PATHS } from './paths';

/** Bad inputs get a clear error notice, and the app keeps working afterwards. */

let page: Page;
let pageErrors: string[];

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  pageErrors = collectPageErrors(page);
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
});

test.afterAll(async () => {
  await page?.close();
});

async function expectErrorThenRecovery(bad: { name: string; mimeType: string; buffer: Buffer }, text?: RegExp) {
  await page.evaluate(() => {
    // Forget earlier notices' elements: the new one must appear for this file.
    document.querySelectorAll('[data-testid="notice"][data-kind="error"]').forEach((n) => n.setAttribute('data-e2e-old', '1'));
  });
  await dropFile(page, bad);
  const notice = page.locator(`[data-testid="${ids.notice}"][data-kind="error"]:not([data-e2e-old])`).last();
  await expect(notice).toBeVisible();
  await expect(notice).toHaveAttribute('role', 'alert');
  if (text) await expect(notice).toContainText(text);
  // The page still works: a good image is segmented.
  await dropAndWait(page, sampleFile(0), 180_000);
  await ensureInstances(page, 0, 1);
  expect(pageErrors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
}

test('a text file named .jpg gives an error notice; a good image still works after', async () => {
  await expectErrorThenRecovery(
    { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('This is not a JPEG, just some text.\n') },
    /not an image|could not be (read|decoded)|corrupt/i,
  );
});

test('a truncated JPEG gives an error notice; a good image still works after', async () => {
  const good = sampleFile(0).buffer;
  await expectErrorThenRecovery({
    name: 'truncated.jpg',
    mimeType: 'image/jpeg',
    buffer: good.subarray(0, Math.floor(good.length / 2)),
  });
});

test('a non-image file type (text/plain) gives an error notice', async () => {
  await expectErrorThenRecovery({ name: 'readme.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
});

test('a truncated ONNX file gives "Model failed to load"; images still work', async () => {
  const onnx = readFileSync(path.join(FIXTURE_PATHS.repoRoot, testModel().url));
  await expectErrorThenRecovery({ name: 'broken.onnx', mimeType: 'application/octet-stream', buffer: onnx.subarray(0, 20_000) }, /Model failed to load/i);
  // The pane kept its model.
  await expect(page.getByTestId(ids.modelPicker).first()).toHaveValue(testModel().id);
});

test('an unknown model id in the URL falls back to a bundled model', async ({ browser }) => {
  const p = await browser.newPage();
  try {
    await openApp(p, { path: 'wasm+gpu', model: 'no-such-model' });
    // The registry's first model: the largest bundled one.
    await expect(p.getByTestId(ids.modelPicker).first()).toHaveValue(mainModel().id);
  } finally {
    await p.close();
  }
});
