import { test, expect, type Page } from '@playwright/test';
import type { RenderCounts } from '../app/state/renderCounts';
import { getState, ids, openApp, pane, screenshot, testModel, type AppSnapshot } from './helpers';

/**
 * React stays off the frame path (project `webcam`: the fake camera plays the y4m). Two
 * panes segment the webcam; over several frames the dev build's counters
 * (app/state/renderCounts.ts, through `window.__segarena`) say which components React
 * committed and how often the store was written. Counts, not times: a webcam frame is one
 * store write per pane, re-renders no Pane, no row of the table and not the table, and
 * commits each pane's result views (the Konva overlay, the instance list) at most once.
 * The figures (fps, stage times, instances, read-back) still reach the page each frame.
 */

/** Frames each pane runs between the two readings. */
const FRAMES = 4;

interface Reading {
  counts: RenderCounts;
  state: AppSnapshot;
  /** Store writes that changed a pane's set of classes (found or hidden): the class toggles' reason to re-render. */
  classSetChanges: number;
}

type Hook = {
  getState(): AppSnapshot;
  renderCounts(): RenderCounts;
  resetRenderCounts(): void;
  store: { subscribe(listener: (s: { panes: PaneLike[] }) => void): () => void; getState(): { panes: PaneLike[] } };
};
type PaneLike = { key: number; hiddenClasses: number[]; result: { detections: Array<{ classIndex: number }> } | null };
type Recorder = { classSetChanges: number };

/** Counts, in the page, the store writes that change a pane's class set (from now on). */
async function watchClassSets(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __segarena: Hook; __classSets: Recorder };
    const classSet = (p: PaneLike) =>
      [...new Set([...(p.result?.detections.map((d) => d.classIndex) ?? []), ...p.hiddenClasses])].sort((a, b) => a - b).join(',');
    const last = new Map(w.__segarena.store.getState().panes.map((p) => [p.key, classSet(p)] as const));
    w.__classSets = { classSetChanges: 0 };
    w.__segarena.store.subscribe((s) => {
      for (const p of s.panes) {
        const now = classSet(p);
        if (last.get(p.key) !== now) w.__classSets.classSetChanges++;
        last.set(p.key, now);
      }
    });
  });
}

/** The counters and the store, read in one step (no write can fall between them). */
async function read(page: Page, reset = false): Promise<Reading> {
  return page.evaluate((reset) => {
    const w = window as unknown as { __segarena: Hook; __classSets: Recorder };
    if (reset) {
      w.__segarena.resetRenderCounts();
      w.__classSets.classSetChanges = 0;
    }
    return { counts: w.__segarena.renderCounts(), state: w.__segarena.getState(), classSetChanges: w.__classSets.classSetChanges };
  }, reset);
}

test('a webcam frame is one store write per pane and re-renders no Pane, no table row', async ({ page }) => {
  await openApp(page, { path: 'wasm+gpu', model: testModel().id, panes: '2' });
  expect((await getState(page)).panes).toHaveLength(2);
  await page.getByTestId(ids.webcamStart).click();
  // Past the model loads and the first frames (status and layout settle).
  const framesOf = async () => (await getState(page)).panes.map((p) => p.frames);
  await expect.poll(async () => Math.min(...(await framesOf())), { timeout: 180_000 }).toBeGreaterThanOrEqual(2);

  await watchClassSets(page);
  const before = await read(page, true);
  await expect
    .poll(async () => Math.min(...(await framesOf()).map((f, i) => f - before.state.panes[i]!.frames)), { timeout: 180_000 })
    .toBeGreaterThanOrEqual(FRAMES);
  const after = await read(page);
  const { renders, paneWrites, writes } = after.counts;

  const frames = after.state.panes.map((p, i) => p.frames - before.state.panes[i]!.frames);
  const paneFrames = frames.reduce((a, b) => a + b, 0);
  const sourceFrames = after.state.source.frameId - before.state.source.frameId;
  const perFrame = Object.fromEntries(Object.entries(renders).map(([name, n]) => [name, +(n / paneFrames).toFixed(2)]));
  const report = { frames, sourceFrames, writes, paneWrites, renders, rendersPerPaneFrame: perFrame, classSetChanges: after.classSetChanges };
  console.log('render budget:', JSON.stringify(report));
  test.info().annotations.push({ type: 'render budget', description: JSON.stringify(report) });

  const keys = Object.keys(paneWrites)
    .map(Number)
    .sort((a, b) => a - b);
  // Pane keys in pane order: the store's panes are in key order here (added one after the other).
  expect(keys.length).toBeLessThanOrEqual(2);
  after.state.panes.forEach((_, i) => {
    // One write per pane per frame: the result, its figures and the frame it belongs to together.
    expect(paneWrites[keys[i]!] ?? 0, `store writes of pane ${i + 1} over ${frames[i]} frames`).toBe(frames[i]);
  });
  // Whole-store writes: one per pane result plus one per source frame (setFrame), nothing else.
  expect(writes).toBeLessThanOrEqual(paneFrames + sourceFrames);
  // The panes' own components and the table stay put; figures go straight to the DOM.
  for (const name of ['App', 'Pane', 'MetricsTable', 'MetricsRow', 'SourceBar', 'Notices']) {
    expect(renders[name] ?? 0, `${name} commits during ${paneFrames} pane frames`).toBe(0);
  }
  // The result views commit once per result at most (no forced second render for the draw time).
  expect(renders.Overlay ?? 0).toBeGreaterThan(0);
  expect(renders.Overlay ?? 0).toBeLessThanOrEqual(paneFrames);
  expect(renders.InstanceList ?? 0).toBeLessThanOrEqual(paneFrames);
  // The class toggles only when a pane's set of classes changed; the details line only on hover (none here).
  expect(renders.ClassToggles ?? 0).toBeLessThanOrEqual(after.classSetChanges);
  expect(renders.InstanceDetails ?? 0).toBe(0);

  // The figures still reach the page: each pane's fps, its draw time (Konva's drawing of the
  // last result) and the table's rows show numbers.
  for (const i of [0, 1]) {
    const p = pane(page, i);
    await expect(p.getByTestId(ids.fps)).toHaveText(/^\d/);
    await expect(p.locator('[data-testid="stage-timings"] [data-stage="draw"] dd')).toHaveText(/^\d/);
    await expect(p.getByTestId(ids.instanceCount)).toHaveText(/^\d+$/);
  }
  const rows = page.getByTestId('metrics-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1).locator('td[data-stage="draw"]')).toHaveText(/^\d/);
  expect(after.state.panes.every((p) => p.result && p.result.timings.draw !== undefined)).toBe(true);
  await screenshot(page, 'render-budget-webcam');

  await page.getByTestId(ids.webcamStop).click();
  // At rest, the pane's figures and the table's read as the store's.
  await expect.poll(async () => (await getState(page)).source.webcamActive).toBe(false);
  await page.waitForTimeout(500);
  const rest = await getState(page);
  for (const [i, p] of rest.panes.entries()) {
    const shown = p.result!.detections.filter((d) => !p.hiddenClasses.includes(d.classIndex)).length;
    await expect(pane(page, i).getByTestId(ids.instanceCount)).toHaveText(String(shown));
    await expect(rows.nth(i).locator('td').nth(4)).toHaveText(String(shown));
  }
});
