import { readFileSync } from 'node:fs';
import { test, expect, type Page } from '@playwright/test';
import { dropAndWait, getState, ids, openApp, sampleFile, screenshot, testModel } from './helpers';
import { parseCsv } from '../test/csv';

/**
 * The comparison table's "Export CSV": two panes on a sample image, evaluated on the
 * samples, then the downloaded file is read back and compared cell for cell with what the
 * table shows (a missing figure, "–" or "n/a" on screen, is an empty field in the file).
 */

/** The table as the user reads it: header texts, then each row's cell texts. */
async function tableCells(page: Page): Promise<string[][]> {
  const table = page.getByTestId(ids.metricsTable);
  const header = (await table.locator('thead th').allInnerTexts()).map((t) => t.trim());
  const rows = await table
    .locator('tbody tr')
    .evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td as HTMLElement).innerText.trim())));
  return [header, ...rows];
}

test('Export CSV downloads the comparison table: a header row and one row per pane, the same figures', async ({ page }) => {
  test.setTimeout(600_000);
  await openApp(page, { path: 'wasm+gpu', panes: '2', model: testModel().id });
  await page.locator(`[data-testid="${ids.pane}"][data-pane-index="1"]`).getByTestId(ids.pathPicker).selectOption('wasm');
  await dropAndWait(page, sampleFile(0));

  // The evaluation adds its AP columns; the panes then run again at their own settings.
  await page.getByTestId('evaluate').click();
  await page.waitForFunction(
    () => {
      const s = (
        window as unknown as { __segarena: { getState(): { evalRun: unknown; panes: { evaluation: unknown; status: string }[] } } }
      ).__segarena.getState();
      return s.evalRun === null && s.panes.every((p) => p.evaluation !== null && p.status === 'done');
    },
    null,
    { timeout: 480_000, polling: 500 },
  );
  const state = await getState(page);
  expect(state.panes.every((p) => p.result !== null && p.resultFrameId === state.source.frameId)).toBe(true);

  const shown = await tableCells(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-metrics-csv').click()]);
  expect(download.suggestedFilename()).toBe('segarena-metrics.csv');
  const text = readFileSync((await download.path())!, 'utf8');
  expect(await tableCells(page)).toEqual(shown); // nothing changed under the export

  const rows = parseCsv(text);
  const expected = shown.map((r) => r.map((cell) => (cell === '–' || cell === 'n/a' ? '' : cell)));
  expect(rows).toEqual(expected);
  // What the file must hold, not only what the table happens to show.
  expect(rows).toHaveLength(3);
  expect(rows[0]).toEqual(expect.arrayContaining(['model', 'path', 'instances', 'fps', 'mask AP', 'box AP', 'inference ms', 'total ms']));
  const col = (name: string) => rows[0]!.indexOf(name);
  expect(rows.slice(1).map((r) => r[col('path')])).toEqual(['wasm+gpu', 'wasm']);
  expect(rows.slice(1).map((r) => r[col('mask AP')])).toEqual(state.panes.map((p) => p.evaluation!.maskAP.toFixed(3)));
  for (const r of rows.slice(1)) expect(Number(r[col('inference ms')])).toBeGreaterThan(0);
  await screenshot(page, 'metrics-csv');
});
