import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { dropAndWait, ensureInstances, getState, ids, openApp, pane, sampleFile, screenshot, testModel, withoutClassNames } from './helpers';
import { FIXTURE_PATHS } from './paths';

/**
 * Keyboard and screen readers (issue 19, item 9), checked on the accessibility tree
 * (`ariaSnapshot`, accessible names) and by pressing keys: the class-names dialog (focus,
 * Tab kept inside, Escape, focus given back), no hidden "Choose File" tab stops, named
 * remove-pane buttons, instance rows reachable by keyboard with their details on focus, and
 * a live region with each pane's status and count.
 */

const YOLO_SEG_FILE = path.join(FIXTURE_PATHS.repoRoot, 'models/yoloseg/test/yoloseg-tiny-320-nc3.onnx');

/** What has focus, in words: tag, type, test id and accessible name (Playwright's aria snapshot of it). */
async function focused(page: Page): Promise<{ tag: string; type: string; testId: string; inDialog: boolean; aria: string }> {
  const info = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return {
      tag: el?.tagName.toLowerCase() ?? '',
      type: el?.getAttribute('type') ?? '',
      testId: el?.getAttribute('data-testid') ?? '',
      inDialog: !!el?.closest('[role="dialog"]'),
    };
  });
  const aria = info.tag === 'body' ? '' : roleAndName(await page.locator('*:focus').ariaSnapshot());
  return { ...info, aria };
}

/** `button "Remove pane 1"` from an aria snapshot's first line (`- button "Remove pane 1": ×`), without children or values. */
function roleAndName(snapshot: string): string {
  const line = snapshot.split('\n')[0] ?? '';
  const m = line.match(/^- ([\w-]+)(?: "((?:[^"\\]|\\.)*)")?/);
  return m ? (m[2] !== undefined ? `${m[1]} "${m[2]}"` : m[1]!) : line;
}

test('the class-names dialog takes focus, keeps Tab inside, closes on Escape (skip) and gives focus back', async ({ page }) => {
  await openApp(page, { path: 'wasm', model: testModel().id });
  const addPane = page.getByTestId(ids.addPane);
  await addPane.focus();
  await page
    .getByTestId('model-drop-input')
    .setInputFiles({ name: 'tiny seg.onnx', mimeType: 'application/octet-stream', buffer: withoutClassNames(readFileSync(YOLO_SEG_FILE)) });

  const dialog = page.getByRole('dialog', { name: 'Class names for tiny seg' });
  await expect(dialog).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole('textbox', { name: 'Class names' })).toBeFocused();
  await expect(dialog).toMatchAriaSnapshot(`
    - dialog "Class names for tiny seg":
      - heading "Class names for tiny seg" [level=2]
      - textbox "Class names"
      - button "Load .txt / .yaml"
      - button "Skip (class 0…)"
      - button "OK"
  `);
  await screenshot(page, 'a11y-class-names-dialog');

  // Tab and Shift+Tab go round the dialog's four stops, never to the page behind.
  const forward: string[] = [];
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    expect(f.inDialog, `Tab ${i + 1} went to ${JSON.stringify(f)}`).toBe(true);
    forward.push(f.aria);
  }
  expect(forward.slice(0, 4)).toEqual(['button "Load .txt / .yaml"', 'button "Skip (class 0…)"', 'button "OK"', 'textbox "Class names"']);
  // From Skip back past the field, which wraps to the last button.
  for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+Tab');
  expect((await focused(page)).aria).toBe('button "OK"');

  // Escape is Skip: placeholder names, the dialog gone, focus back on the button it came from.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(addPane).toBeFocused();
  await expect.poll(async () => (await getState(page)).savedModels.map((m) => m.classes)).toEqual([3]);
});

test('Tab goes through the page without hidden "Choose File" stops; remove-pane buttons are named', async ({ page }) => {
  await openApp(page, { path: 'wasm', model: testModel().id, panes: '2' });
  const stops: Array<Awaited<ReturnType<typeof focused>>> = [];
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (stops.length > 0 && f.aria === stops[0]!.aria && f.testId === stops[0]!.testId) break; // round the page once
    stops.push(f);
  }
  const names = stops.map((s) => s.aria);
  expect(names, 'the visible buttons are tab stops').toContain('button "Open image or video"');
  expect(
    stops.filter((s) => s.type === 'file'),
    `file inputs among the stops: ${names.join(' | ')}`,
  ).toEqual([]);
  expect(names.some((n) => /choose file/i.test(n))).toBe(false);
  expect(names).toContain('button "Remove pane 1"');
  expect(names).toContain('button "Remove pane 2"');
  // Nor in the accessibility tree at all.
  expect(await page.locator('body').ariaSnapshot()).not.toMatch(/choose file/i);
  await expect(pane(page, 1).getByRole('button', { name: 'Remove pane 2' })).toHaveAttribute('data-testid', ids.removePane);
});

test('instance rows take focus and show their details; the pane status and count are a live region', async ({ page }) => {
  await openApp(page, { path: 'wasm', model: testModel().id });
  const p = pane(page, 0);
  const live = p.getByTestId('pane-live');
  await expect(live).toHaveAttribute('aria-live', 'polite');
  await dropAndWait(page, sampleFile(0), 180_000);
  await ensureInstances(page, 0, 2);
  const count = (await getState(page)).panes[0]!.result!.detections.length;
  await expect(live).toHaveText(`Pane 1: done, ${count} instances`);
  // The live region holds the status and count only, not the whole pane.
  expect(await p.getAttribute('aria-live')).toBeNull();

  const rows = p.getByTestId(ids.instanceRow);
  const details = p.getByTestId(ids.instanceDetails);
  await expect(details).toContainText('Hover or focus an instance');
  const first = rows.nth(0);
  await first.focus();
  await expect(first).toBeFocused();
  const cls = (await first.getAttribute('data-class'))!;
  const score = (await first.getAttribute('data-score'))!;
  await expect(details).toContainText(cls);
  await expect(details).toContainText('score');
  await expect(first).toHaveClass(/hot/);
  // Its accessible name gives the same facts to a screen reader.
  expect(await first.ariaSnapshot()).toContain(`listitem "${cls}, score ${score}, box`);
  expect((await getState(page)).panes[0]!.highlight).toBe(0);
  await screenshot(page, 'a11y-instance-focus');

  // The arrow keys move along the list, the details follow.
  await page.keyboard.press('ArrowDown');
  await expect(rows.nth(1)).toBeFocused();
  await expect.poll(async () => (await getState(page)).panes[0]!.highlight).toBe(Number(await rows.nth(1).getAttribute('data-index')));
  await expect(details).toContainText((await rows.nth(1).getAttribute('data-class'))!);

  // Enter pins the focused row's details (as a click does), Enter again unpins.
  await page.keyboard.press('Enter');
  await expect(details).toHaveAttribute('data-pinned', '1');
  await page.keyboard.press('Enter');
  await expect(details).toHaveAttribute('data-pinned', '0');
  await page.keyboard.press('ArrowUp');
  await expect(first).toBeFocused();
  await expect(details).toContainText(cls);

  // Focus leaving the list clears the details.
  await p.getByTestId(ids.modelPicker).focus();
  await expect(details).toContainText('Hover or focus an instance');
  expect((await getState(page)).panes[0]!.highlight).toBeNull();

  // A setting change: the live region follows the pane through running to the new count.
  await p.getByRole('spinbutton', { name: 'NMS IoU' }).fill('0.35');
  await expect(live).toHaveText(/^Pane 1: (running|done, \d+ instances?)$/);
  await expect(p.getByTestId(ids.paneStatus)).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  const after = (await getState(page)).panes[0]!.result!.detections.length;
  await expect(live).toHaveText(`Pane 1: done, ${after} ${after === 1 ? 'instance' : 'instances'}`);
});
