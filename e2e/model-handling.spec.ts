import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { dropAndWait, getState, ids, openApp, pane, panes, rerun, sampleFile, screenshot, setNumberInput, testModel } from './helpers';
import { FIXTURE_PATHS } from './paths';

/**
 * Model handling that says what it does (issue 19): a dropped model opens in a new pane and
 * the notice names it; deleting a saved model a pane runs asks first, in the menu row, and
 * the notice names the pane that switched; a cached remote model is in the pickers without
 * its ?manifest= link; the panes (count, models, paths, settings) come back after a reload.
 */

const bundled = testModel();
const onnx = readFileSync(path.join(FIXTURE_PATHS.repoRoot, bundled.url));

const info = (page: Page) => page.locator(`[data-testid="${ids.notice}"][data-kind="info"]`);

/** The pane layout as the user sees it: each pane's model picker, path picker and NMS kind. */
async function shownLayout(page: Page): Promise<string[][]> {
  const out: string[][] = [];
  for (let i = 0; i < (await panes(page).count()); i++) {
    const p = pane(page, i);
    out.push([
      await p.getByTestId(ids.modelPicker).inputValue(),
      await p.getByTestId(ids.pathPicker).inputValue(),
      await p.getByTestId(ids.nmsKind).inputValue(),
      await p.getByTestId(ids.scoreThreshold).inputValue(),
    ]);
  }
  return out;
}

test('a dropped model opens in a new pane; the layout survives a reload; deleting it asks first and names the pane', async ({ page }) => {
  test.setTimeout(420_000);
  await openApp(page, { path: 'wasm', model: bundled.id });
  await dropAndWait(page, sampleFile(0), 180_000);

  // Dropped: a second pane runs it, the first keeps the bundled model, and the notice says so.
  await page.getByTestId('model-drop-input').setInputFiles({ name: 'my copy.onnx', mimeType: 'application/octet-stream', buffer: onnx });
  await expect(pane(page, 1).getByTestId(ids.paneStatus)).toHaveAttribute('data-state', 'done', { timeout: 180_000 });
  await expect(panes(page)).toHaveCount(2);
  const id = await pane(page, 1).getByTestId(ids.modelPicker).inputValue();
  expect(id).toMatch(/my.copy/);
  await expect(pane(page, 0).getByTestId(ids.modelPicker)).toHaveValue(bundled.id);
  await expect(info(page).filter({ hasText: 'Model added' })).toContainText('It runs in a new pane, pane 2.');

  // Pane 1's settings changed, then a reload without any URL parameter: the same panes.
  await rerun(
    page,
    () =>
      pane(page, 0)
        .getByTestId(ids.nmsKind)
        .selectOption('greedy')
        .then(() => undefined),
    { panes: [0], timeout: 180_000 },
  );
  await rerun(page, () => setNumberInput(pane(page, 0).getByTestId(ids.scoreThreshold), 0.3), { panes: [0], timeout: 180_000 });
  const before = await shownLayout(page);
  expect(before[0]!.slice(2)).toEqual(['greedy', '0.3']);
  await openApp(page);
  await expect(panes(page)).toHaveCount(2);
  expect(await shownLayout(page)).toEqual(before);
  await screenshot(page, 'model-handling-restored');

  // Delete asks first, in the row: which pane runs the model and what it switches to (without
  // ?model= now, the default model: the picker's first).
  const name = (await getState(page)).savedModels.find((m) => m.id === id)!.name;
  const firstOption = pane(page, 1).getByTestId(ids.modelPicker).locator('option').first();
  const [fallbackId, fallbackName] = [await firstOption.getAttribute('value'), await firstOption.textContent()];
  const escape = (t: string | null) => (t ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await page.locator('.saved-models > summary').click();
  const row = page.locator(`[data-testid="saved-model-row"][data-model-id="${id}"]`);
  await row.getByTestId('delete-saved-model').click();
  const confirm = row.getByTestId('delete-confirm');
  await expect(confirm).toHaveText(new RegExp(`^Delete\\? Pane 2 uses it: it will switch to ${escape(fallbackName)}\\.`));
  await screenshot(page, 'model-handling-delete-confirm');
  // Cancel keeps it, in the list and in its pane.
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toHaveCount(0);
  await expect(row).toHaveCount(1);
  await expect(pane(page, 1).getByTestId(ids.modelPicker)).toHaveValue(id);
  // Delete for real: pane 2 switches, and the notice says so.
  await row.getByTestId('delete-saved-model').click();
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(row).toHaveCount(0);
  await expect(pane(page, 1).getByTestId(ids.modelPicker)).toHaveValue(fallbackId!);
  await expect(info(page).filter({ hasText: 'Deleted the saved model' })).toContainText(`Deleted the saved model ${name}. Pane 2 now runs ${fallbackName}.`);
  await expect(pane(page, 0).getByTestId(ids.modelPicker)).toHaveValue(bundled.id);

  // And the layout saved after the delete is the one a reload brings back.
  await openApp(page);
  expect((await shownLayout(page)).map((p) => p[0])).toEqual([bundled.id, fallbackId]);
});

test('with six panes open, a dropped model takes the last one, and the notice says what it replaced', async ({ page }) => {
  await openApp(page, { path: 'wasm', model: bundled.id, panes: '6' });
  await page.getByTestId('model-drop-input').setInputFiles({ name: 'sixth.onnx', mimeType: 'application/octet-stream', buffer: onnx });
  await expect(info(page).filter({ hasText: 'Model added' })).toContainText(`It runs in pane 6, in place of ${bundled.name} (6 panes is the most`);
  await expect(panes(page)).toHaveCount(6);
  await expect(pane(page, 5).getByTestId(ids.modelPicker)).toHaveValue(/sixth/);
  for (let i = 0; i < 5; i++) await expect(pane(page, i).getByTestId(ids.modelPicker)).toHaveValue(bundled.id);
});

test('a saved layout naming a model that is gone: the default model, and a notice naming the pane', async ({ page }) => {
  // Stored before the app's own scripts run (a page already open would save its own
  // layout over it, 400 ms after a change or when it is left).
  await page.addInitScript(
    ({ model }) => {
      const settings = { scoreThreshold: 0.2, topK: 100, nmsIou: 0.5, nmsKind: 'greedy', maxDetections: 50 };
      localStorage.setItem(
        'segarena.layout',
        JSON.stringify({
          version: 1,
          panes: [
            { modelId: model, path: 'wasm', settings, hiddenClasses: [] },
            { modelId: 'a-deleted-model', path: 'wasm', settings, hiddenClasses: [1] },
          ],
        }),
      );
    },
    { model: bundled.id },
  );
  await openApp(page);
  await expect(panes(page)).toHaveCount(2);
  await expect(info(page).filter({ hasText: 'saved pane layout' })).toContainText(`pane 2's model “a-deleted-model” is no longer available: it runs`);
  // Pane 1 as saved; pane 2 on the default model, with that model's settings and no hidden classes.
  const s = await getState(page);
  expect([s.panes[0]!.modelId, s.panes[0]!.settings.nmsKind, s.panes[0]!.settings.maxDetections]).toEqual([bundled.id, 'greedy', 50]);
  expect(s.panes[1]!.modelId).not.toBe('a-deleted-model');
  expect(s.panes[1]!.settings.maxDetections).not.toBe(50);
  expect(s.panes[1]!.hiddenClasses).toEqual([]);
  await expect(pane(page, 1).getByTestId(ids.modelPicker)).toHaveValue(s.panes[1]!.modelId);
});

// ---------------------------------------------------------------------------------------
// A cached remote model, served by a local "model host" as in catalog.spec.ts.

let server: Server;
let origin = '';
const modelRequests: string[] = [];

test.describe('a cached remote model', () => {
  test.beforeAll(async () => {
    const sha256 = createHash('sha256').update(onnx).digest('hex');
    server = createServer((req, res) => {
      res.setHeader('access-control-allow-origin', '*');
      const url = new URL(req.url ?? '/', origin);
      if (url.pathname === '/manifest.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...bundled, id: 'remote-handling', name: 'Remote handling', url: `${origin}/model.onnx`, bytes: onnx.length, sha256 }));
      } else if (url.pathname === '/model.onnx') {
        modelRequests.push(url.pathname);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(onnx.length) });
        res.end(onnx);
      } else res.writeHead(404).end('not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  test.afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  test('is in the pickers after a reload without ?manifest=, and runs from the cache', async ({ page }) => {
    test.setTimeout(300_000);
    await openApp(page, { path: 'wasm', manifest: `${origin}/manifest.json` });
    await dropAndWait(page, sampleFile(0), 180_000);
    expect(modelRequests).toHaveLength(1);

    // No ?manifest= now: the model is listed under "Manage models" and in the pane's picker.
    await openApp(page, { path: 'wasm' });
    await page.getByTestId('catalog-panel').locator('summary').click();
    await expect(page.getByTestId('cached-model-row')).toHaveCount(1);
    const picker = pane(page, 0).getByTestId(ids.modelPicker);
    await expect(picker.locator('option[value="remote-handling"]')).toHaveText('Remote handling');
    await picker.selectOption('remote-handling');
    await dropAndWait(page, sampleFile(0), 180_000);
    const s = await getState(page);
    expect(s.panes[0]!.modelId).toBe('remote-handling');
    expect(s.panes[0]!.status).toBe('done');
    expect(s.panes[0]!.result).not.toBeNull();
    // From Cache Storage: no second request to the host.
    expect(modelRequests).toHaveLength(1);
  });
});
