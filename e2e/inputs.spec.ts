import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page } from '@playwright/test';
import { armDoneWatch, getState, ids, openApp, pane, sampleFile, screenshot, testModel, waitForPanesDone, type FilePayload } from './helpers';

/**
 * Inputs taken or refused truthfully (issue 19, item 7; app/App.tsx, app/ui/NumberSetting.tsx,
 * app/ui/Pane.tsx): several files dropped at once, an image address dropped or pasted (served
 * from another origin with and without CORS), numbers typed out of range, and the path
 * picker without WebGPU.
 */

/**
 * Another origin than the app's (http://127.0.0.1:<free port>, which the dev server's
 * security policy lets the page reach), so the browser applies CORS to what it serves:
 * /open/… with `Access-Control-Allow-Origin: *`, /closed/… without, …/missing.jpg a 404.
 * A real server, because a response made by page.route is not held to CORS.
 */
let server: Server;
let otherOrigin = '';

test.beforeAll(async () => {
  const jpeg = sampleFile(0).buffer;
  server = createServer((req, res) => {
    const cors = req.url?.startsWith('/open/') ? { 'access-control-allow-origin': '*' } : {};
    if (req.url?.endsWith('missing.jpg')) res.writeHead(404, { ...cors, 'content-type': 'text/plain' }).end('not found');
    else res.writeHead(200, { ...cors, 'content-type': 'image/jpeg' }).end(jpeg);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  otherOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function notice(page: Page, kind: 'info' | 'error') {
  return page.locator(`[data-testid="${ids.notice}"][data-kind="${kind}"]`);
}

/** Drops several files at once, as a multi-file selection dragged from a file manager. */
async function dropFiles(page: Page, files: FilePayload[]): Promise<void> {
  await page.evaluate(
    ({ files, zoneId }) => {
      const transfer = new DataTransfer();
      for (const f of files) {
        const binary = atob(f.base64);
        const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], f.name, { type: f.mimeType }));
      }
      const zone = document.querySelector(`[data-testid="${zoneId}"]`)!;
      for (const type of ['dragenter', 'dragover', 'drop'])
        zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
    },
    { files: files.map((f) => ({ name: f.name, mimeType: f.mimeType, base64: f.buffer.toString('base64') })), zoneId: ids.dropZone },
  );
}

/** Drops an address, as dragging an image or a link from another page does (text/uri-list). */
async function dropAddress(page: Page, address: string): Promise<void> {
  await page.evaluate(
    ({ address, zoneId }) => {
      const transfer = new DataTransfer();
      transfer.setData('text/uri-list', address);
      transfer.setData('text/plain', address);
      const zone = document.querySelector(`[data-testid="${zoneId}"]`)!;
      for (const type of ['dragenter', 'dragover', 'drop'])
        zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
    },
    { address, zoneId: ids.dropZone },
  );
}

/** Pastes text (a copied image address) on the page, outside any field. */
async function pasteText(page: Page, text: string): Promise<void> {
  await page.evaluate((text) => {
    const transfer = new DataTransfer();
    transfer.setData('text/plain', text);
    document.body.dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: transfer }));
  }, text);
}

test('several files dropped at once: the first is opened and the others are named as ignored', async ({ page }) => {
  await openApp(page, { path: 'wasm', model: testModel().id });
  const first = sampleFile(0);
  const second = { ...sampleFile(1), name: 'second-photo.jpg' };
  await armDoneWatch(page);
  await dropFiles(page, [first, second]);
  // Read at once: an info notice fades after a few seconds (its text stays in the notice log).
  const info = notice(page, 'info').filter({ hasText: 'ignored' });
  await expect(info).toContainText('2 files were dropped', { timeout: 5000 });
  await expect(info).toContainText(`opened “${first.name}”`);
  await expect(info).toContainText('“second-photo.jpg”');
  await waitForPanesDone(page, { timeout: 180_000 });
  expect((await getState(page)).source.name).toBe(first.name);
});

test('a dropped image address loads when the site allows it (CORS) and says why not when it does not', async ({ page }) => {
  await openApp(page, { path: 'wasm', model: testModel().id });

  // With CORS headers: fetched and opened as the source, and the pane runs on it.
  await armDoneWatch(page);
  await dropAddress(page, `${otherOrigin}/open/street%20scene.jpg`);
  await waitForPanesDone(page, { timeout: 180_000 });
  const state = await getState(page);
  expect(state.source.name).toBe('street scene.jpg');
  expect(state.panes[0]!.result).not.toBeNull();

  // Without: the browser may not read it, and the user is told what to do instead.
  await dropAddress(page, `${otherOrigin}/closed/cat.jpg`);
  const refused = notice(page, 'error').filter({ hasText: 'closed/cat.jpg' });
  await expect(refused).toContainText('the site does not allow loading its images from another page');
  await expect(refused).toContainText('save the image and drop the file');

  // A plain http:// address elsewhere is refused by the page's security policy, and that is said.
  await dropAddress(page, 'http://images.segarena-e2e.test/open/plain.jpg');
  await expect(notice(page, 'error').filter({ hasText: 'plain.jpg' })).toContainText('only https:// image addresses');

  // A copied address pasted on the page takes the same way; an HTTP error is named.
  await pasteText(page, `${otherOrigin}/open/missing.jpg`);
  await expect(notice(page, 'error').filter({ hasText: 'missing.jpg' })).toContainText('answered 404');
  // Text that is no address is said to be so, not ignored.
  await dropAddress(page, 'just some words');
  await expect(notice(page, 'error').filter({ hasText: 'not an image address' })).toBeVisible();
  await screenshot(page, 'inputs-dropped-address');
  // The image opened first is still the source.
  expect((await getState(page)).source.name).toBe('street scene.jpg');
});

test('numbers typed out of range show the valid range and keep the value in effect', async ({ page }) => {
  await openApp(page, { path: 'wasm', model: testModel().id });
  const p = pane(page, 0);
  const before = (await getState(page)).panes[0]!.settings;

  const iou = p.getByRole('spinbutton', { name: 'NMS IoU' });
  await iou.fill('5');
  await expect(iou).toHaveAttribute('aria-invalid', 'true');
  await expect(p.getByTestId('nms-iou-range')).toBeVisible();
  await expect(p.getByTestId('nms-iou-range')).toHaveText(`must be 0–1 (${before.nmsIou} in use)`);
  await expect(iou).toHaveAccessibleDescription(`must be 0–1 (${before.nmsIou} in use)`);

  // top-k is per class, and says so.
  const topK = p.getByRole('spinbutton', { name: 'top-k per class' });
  await expect(topK).toHaveAttribute('data-testid', ids.topK);
  await topK.fill('0');
  await expect(topK).toHaveAttribute('aria-invalid', 'true');
  await expect(p.getByTestId('top-k-range')).toHaveText(`must be 1–1000 (${before.topK} in use)`);
  await screenshot(page, 'inputs-out-of-range');
  expect((await getState(page)).panes[0]!.settings.nmsIou).toBe(before.nmsIou);
  expect((await getState(page)).panes[0]!.settings.topK).toBe(before.topK);

  // Leaving the field shows the value in effect again; a valid value is taken.
  await topK.blur();
  await expect(topK).toHaveValue(String(before.topK));
  await expect(topK).toHaveAttribute('aria-invalid', 'false');
  await expect(p.getByTestId('top-k-range')).toHaveText('');
  await iou.fill('0.3');
  await expect(iou).toHaveAttribute('aria-invalid', 'false');
  await expect.poll(async () => (await getState(page)).panes[0]!.settings.nmsIou).toBe(0.3);
});

test('without WebGPU the two GPU paths are disabled with the reason', async ({ page }) => {
  await openApp(page, { nowebgpu: '1', model: testModel().id });
  const p = pane(page, 0);
  const picker = p.getByTestId(ids.pathPicker);
  await expect(picker).toHaveValue('wasm');
  for (const path of ['webgpu', 'wasm+gpu']) {
    const option = picker.locator(`option[value="${path}"]`);
    await expect(option).toBeDisabled();
    await expect(option).toHaveText(`${path} (needs WebGPU)`);
    await expect(option).toHaveAttribute('title', /needs WebGPU, which this browser does not offer/);
  }
  await expect(picker.locator('option[value="wasm"]')).toBeEnabled();
  await expect(picker).toMatchAriaSnapshot(`
    - combobox "Execution path":
      - option "webgpu (needs WebGPU)" [disabled]
      - option "wasm+gpu (needs WebGPU)" [disabled]
      - option "wasm" [selected]
  `);
  await expect(p.getByTestId('no-webgpu-note')).toHaveText(/No WebGPU in this browser: the webgpu and wasm\+gpu paths need it/);
  await screenshot(page, 'inputs-no-webgpu');
});
