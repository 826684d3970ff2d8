import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { INFO_FADE_MS } from '../app/state/store';
import {
  armDoneWatch,
  collectPageErrors,
  dropAndWait,
  dropFile,
  getState,
  ids,
  openApp,
  pane,
  sampleFile,
  screenshot,
  testModel,
  waitForPanesDone,
  type FilePayload,
} from './helpers';
import { FIXTURE_PATHS } from './paths';

/**
 * Notices do not bury the panes (issue 19): a run of bad files leaves the panes on the first
 * screen (at most a few notices shown, "+N more" for the rest), a repeated error is one
 * notice with a count, an info fades while errors stay, and a device loss is one notice
 * that turns into "recovered".
 */

// A 1280×720 screen: there, the six notices of the old stack pushed the panes past its middle (about 400 px down).
test.use({ viewport: { width: 1280, height: 720 } });

const onnx = () => readFileSync(path.join(FIXTURE_PATHS.repoRoot, testModel().url));
const notesJpg: FilePayload = { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('This is not a JPEG, just some text.\n') };

/** Six bad files, each with its own error notice (each names its file). */
const sixBad = (): FilePayload[] => [
  notesJpg,
  { name: 'truncated.jpg', mimeType: 'image/jpeg', buffer: sampleFile(0).buffer.subarray(0, Math.floor(sampleFile(0).buffer.length / 2)) },
  { name: 'empty.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(0) },
  { name: 'readme.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') },
  { name: 'cut.onnx', mimeType: 'application/octet-stream', buffer: onnx().subarray(0, 1000) },
  { name: 'half.onnx', mimeType: 'application/octet-stream', buffer: onnx().subarray(0, 20_000) },
];

/** An SVG without a size: taken as an image, with an info notice about the size it was drawn at. */
const SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300"><rect width="400" height="300" fill="#8ab"/><circle cx="200" cy="150" r="90" fill="#c33"/></svg>';

const notices = (page: Page) => page.getByTestId(ids.notice);
const errors = (page: Page) => page.locator(`[data-testid="${ids.notice}"][data-kind="error"]`);
const infos = (page: Page) => page.locator(`[data-testid="${ids.notice}"][data-kind="info"]`);
const moreButton = (page: Page) => page.getByRole('button', { name: /^\+\d+ more/ });

async function expectPanesOnFirstScreen(page: Page): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  const box = await pane(page, 0).boundingBox();
  const viewport = page.viewportSize()!;
  expect(box, 'the first pane is laid out').not.toBeNull();
  console.log(`first pane's top: ${box!.y} of ${viewport.height}`);
  expect(box!.y, `first pane's top (viewport ${viewport.height} px high)`).toBeLessThan(viewport.height / 2);
}

test('notices: bounded stack, repeats counted, infos fade, errors stay, a device loss is one notice', async ({ page }) => {
  test.setTimeout(300_000);
  const pageErrors = collectPageErrors(page);
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
  await dropAndWait(page, sampleFile(0), 180_000);

  // Six bad files: each one's error shows as it comes.
  for (const bad of sixBad()) {
    await dropFile(page, bad);
    await expect(errors(page).filter({ hasText: bad.name }), bad.name).toBeVisible({ timeout: 30_000 });
    await expect(errors(page).filter({ hasText: bad.name })).toHaveAttribute('role', 'alert');
  }
  // The panes stay on the first screen; the older errors wait behind "+3 more".
  await expectPanesOnFirstScreen(page);
  await expect(errors(page)).toHaveCount(3);
  await expect(moreButton(page)).toHaveText(/\+3 more/);
  const shot = await screenshot(page, 'notices-after-six-bad-files');
  console.log(`screenshot: ${shot}`);

  // Expanded, all six are there, in an area of bounded height that starts at the oldest: the panes still start on the first screen.
  await moreButton(page).click();
  await expect(errors(page)).toHaveCount(6);
  await expect(errors(page).filter({ hasText: 'notes.jpg' })).toBeInViewport();
  await expectPanesOnFirstScreen(page);
  await screenshot(page, 'notices-after-six-bad-files-expanded');
  await page.getByRole('button', { name: 'Show fewer' }).click();
  await expect(errors(page)).toHaveCount(3);

  // The same bad file twice more: one notice for it, with its count.
  await dropFile(page, notesJpg);
  await expect(errors(page).filter({ hasText: 'notes.jpg' })).toContainText('×2');
  await dropFile(page, notesJpg);
  await expect(errors(page).filter({ hasText: 'notes.jpg' })).toContainText('×3');
  await screenshot(page, 'notices-repeat-count');
  await moreButton(page).click();
  await expect(errors(page)).toHaveCount(6);
  await expect(errors(page).filter({ hasText: 'notes.jpg' })).toHaveCount(1);
  await page.getByRole('button', { name: 'Show fewer' }).click();

  // An info (the SVG's size) does not fade while the pointer is on the notices...
  await moreButton(page).hover();
  await armDoneWatch(page);
  await dropFile(page, { name: 'drawing.svg', mimeType: 'image/svg+xml', buffer: Buffer.from(SVG) });
  const svgInfo = infos(page).filter({ hasText: 'drawing.svg' });
  await expect(svgInfo).toBeVisible();
  await expect(svgInfo).toHaveAttribute('role', 'status');
  await waitForPanesDone(page, { timeout: 180_000 });
  await page.waitForTimeout(INFO_FADE_MS + 2000);
  await expect(svgInfo).toBeVisible();
  // ...and fades by itself once the pointer is gone; the errors, older than it, stay.
  await pane(page, 0).hover({ position: { x: 10, y: 10 } });
  await expect(svgInfo).toHaveCount(0, { timeout: 60_000 });
  await expect(errors(page)).toHaveCount(3);
  await expect(moreButton(page)).toHaveText(/\+3 more/);
  expect((await getState(page)).noticeLog.filter((n) => /drawing\.svg/.test(n.text)).map((n) => n.kind)).toEqual(['info']);

  // Dismissing an error removes it (from the hidden ones too: one fewer behind "+N more").
  await errors(page).first().getByRole('button', { name: 'Dismiss' }).click();
  await expect(moreButton(page)).toHaveText(/\+2 more/);
  await expect(errors(page)).toHaveCount(3);

  // A device loss: one notice, which says "lost" and then "recovered" in the same place.
  await page.evaluate(() => (window as unknown as { __segarena: { loseDevice(): void } }).__segarena.loseDevice());
  const gpuNotices = notices(page).filter({ hasText: /The GPU device was (lost|recovered)/ });
  await expect(gpuNotices.filter({ hasText: /recovered/ })).toBeVisible();
  await expect(gpuNotices).toHaveCount(1);
  const log = (await getState(page)).noticeLog.filter((n) => /The GPU device was/.test(n.text));
  expect(log.map((n) => n.kind)).toEqual(['error', 'info']);
  expect(log[0]!.text).toMatch(/lost .*Recovering/);

  // The app still segments.
  await dropAndWait(page, sampleFile(0), 180_000);
  expect(pageErrors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
});
