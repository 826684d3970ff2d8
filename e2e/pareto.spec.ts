import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import type { RenderCounts } from '../app/state/renderCounts';
import { bundledManifests, dropAndWait, getState, ids, openApp, pane, rerun, sampleFile, screenshot, setNumberInput } from './helpers';
import { FIXTURE_PATHS } from './paths';

/**
 * Speed against accuracy (the plot under the comparison table, app/ui/ParetoPlot.tsx): three
 * panes with different bundled models on a dropped sample. Each pane is a point at its
 * measured total per frame (the table's "total ms") and the mask AP recorded for its model
 * (models/<family>/accuracy.json, read here from the files); the front flags agree with a
 * dominance check written here; the text alternative names the front; the plot follows a
 * re-run without re-rendering on every store write; the plot's PNG downloads, decodes and
 * shows the axes and points.
 */

const TIMEOUT = 300_000;
/** The smallest bundled models of three families/sizes (SwiftShader and wasm are slow): first ones present. */
const WANTED = ['yolact-384', 'yoloseg-416', 'yolact-550', 'maskrcnn-512', 'centermask-lite-512'];

interface Point {
  pane: number;
  model: string;
  path: string;
  timeMs: number;
  ap: number;
  apSource: string;
  front: boolean;
  cx: number;
  cy: number;
}

/** The recorded mask AP of each bundled model, from the accuracy.json files beside the manifests. */
function recordedMaskAp(): Map<string, number> {
  const out = new Map<string, number>();
  const root = path.join(FIXTURE_PATHS.repoRoot, 'models');
  for (const family of readdirSync(root)) {
    const file = path.join(root, family, 'accuracy.json');
    if (!existsSync(file)) continue;
    for (const [id, r] of Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, { maskAP: number }>)) out.set(id, r.maskAP);
  }
  return out;
}

async function readPoints(page: Page): Promise<Point[]> {
  return page.getByTestId('pareto-point').evaluateAll((gs) =>
    gs.map((g) => {
      const circle = g.querySelector('circle')!;
      return {
        pane: Number(g.getAttribute('data-pane-index')),
        model: g.getAttribute('data-model') ?? '',
        path: g.getAttribute('data-path') ?? '',
        timeMs: Number(g.getAttribute('data-time-ms')),
        ap: Number(g.getAttribute('data-ap')),
        apSource: g.getAttribute('data-ap-source') ?? '',
        front: g.getAttribute('data-front') === 'true',
        cx: Number(circle.getAttribute('cx')),
        cy: Number(circle.getAttribute('cy')),
      };
    }),
  );
}

/** Each pane's measured total per frame, from the store (what the table's "total ms" shows). */
async function totals(page: Page): Promise<number[]> {
  return (await getState(page)).panes.map((p) => p.result?.timings.total ?? NaN);
}

/** Pane i is beaten when another is at least as fast and as accurate, and better in one. */
function expectedFront(points: Array<{ timeMs: number; ap: number }>): boolean[] {
  return points.map((p, i) => !points.some((q, j) => j !== i && q.timeMs <= p.timeMs && q.ap >= p.ap && (q.timeMs < p.timeMs || q.ap > p.ap)));
}

let page: Page;
const models = (() => {
  const present = new Set(bundledManifests().map((m) => m.id));
  return WANTED.filter((id) => present.has(id)).slice(0, 3);
})();

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await openApp(page, { path: 'wasm', panes: String(models.length), model: models[0]! });
});

test.afterAll(async () => {
  await page?.close();
});

test('before a frame: the empty plot says what to do', async () => {
  expect(models.length, `bundled models: ${models.join(', ')}`).toBeGreaterThanOrEqual(2);
  const plot = page.getByTestId('pareto-plot');
  await expect(plot).toBeVisible();
  await expect(page.getByTestId('pareto-point')).toHaveCount(0);
  await expect(page.getByTestId('pareto-empty')).toHaveText('Run a frame to place the panes');
  await expect(page.getByTestId('pareto-caption')).toHaveText('Run a frame to place the panes.');
  // The SVG's text alternative is the caption.
  const labelledBy = await page.getByTestId('pareto-svg').getAttribute('aria-labelledby');
  expect(await page.locator(`[id="${labelledBy}"]`).getAttribute('data-testid')).toBe('pareto-caption');
  await expect(page.getByRole('img', { name: 'Run a frame to place the panes.' })).toBeVisible();
});

test('one point per pane at its measured time and recorded AP; the front is right; the caption names it', async () => {
  test.setTimeout(2 * TIMEOUT);
  for (const [i, id] of models.entries()) if (i > 0) await pane(page, i).getByTestId(ids.modelPicker).selectOption(id);
  await dropAndWait(page, sampleFile(0), TIMEOUT);
  expect((await getState(page)).panes.map((p) => p.modelId)).toEqual(models);

  const recorded = recordedMaskAp();
  // The plot follows the store a few times a second: wait for it to show the stored totals.
  await expect
    .poll(async () => {
      const [points, t] = [await readPoints(page), await totals(page)];
      return points.length === models.length && points.every((p) => p.timeMs === t[p.pane]);
    })
    .toBe(true);
  const points = (await readPoints(page)).sort((a, b) => a.pane - b.pane);
  const t = await totals(page);
  const rows = page.getByTestId(ids.metricsTable).locator('tbody tr');
  for (const [i, id] of models.entries()) {
    const p = points[i]!;
    expect(p.pane).toBe(i);
    expect(p.model).toBe(id);
    expect(p.path).toBe('wasm');
    expect(p.timeMs).toBeGreaterThan(0);
    expect(p.timeMs).toBe(t[i]);
    // The table's "total ms" (last cell but one) is the same time.
    const cells = await rows.nth(i).locator('td').allInnerTexts();
    const shown = Number(cells[cells.length - 2]);
    expect(Math.abs(shown - p.timeMs), `pane ${i + 1}: table ${shown} ms vs plot ${p.timeMs} ms`).toBeLessThanOrEqual(Math.max(0.006, p.timeMs * 0.001));
    expect(recorded.has(id), `${id} has a record`).toBe(true);
    expect(p.ap).toBe(recorded.get(id));
    expect(p.apSource).toBe('recorded');
  }
  // Placed on the axes in the order of the figures: faster is left, more accurate is up.
  for (const a of points)
    for (const b of points) {
      if (a.timeMs < b.timeMs) expect(a.cx).toBeLessThan(b.cx);
      if (a.ap > b.ap) expect(a.cy).toBeLessThan(b.cy);
    }
  // Axes from 0 past the highest figure, in even steps.
  for (const [tick, top] of [
    ['pareto-x-tick', Math.max(...points.map((p) => p.timeMs))],
    ['pareto-y-tick', Math.max(...points.map((p) => p.ap))],
  ] as const) {
    const values = await page.getByTestId(tick).evaluateAll((ts) => ts.map((t) => Number(t.textContent))); // SVG text: no innerText
    expect(values[0]).toBe(0);
    expect(values.at(-1)!).toBeGreaterThanOrEqual(top);
    const step = values[1]! - values[0]!;
    values.forEach((v, i) => expect(v).toBeCloseTo(i * step, 9));
  }
  const front = expectedFront(points);
  expect(points.map((p) => p.front)).toEqual(front);
  expect(front.some(Boolean)).toBe(true);
  // Recorded APs: hollow markers (filled is for an AP evaluated here).
  for (const fill of await page.locator('[data-testid="pareto-point"] circle').evaluateAll((cs) => cs.map((c) => c.getAttribute('fill'))))
    expect(fill).toBe('#161b22');
  // More than one on the front: the staircase is drawn.
  await expect(page.getByTestId('pareto-front-line')).toHaveCount(front.filter(Boolean).length > 1 ? 1 : 0);
  await expect(page.getByTestId('pareto-empty')).toHaveCount(0);

  // The caption lists the front, fastest first, then the beaten points.
  const caption = await page.getByTestId('pareto-caption').innerText();
  const names = new Map(bundledManifests().map((m) => [m.id, m.name]));
  const frontText = caption.split('Beaten by')[0]!;
  const onFront = points.filter((_, i) => front[i]).sort((a, b) => a.timeMs - b.timeMs);
  let at = -1;
  for (const p of onFront) {
    const label = `${names.get(p.model)} · wasm: `;
    const where = frontText.indexOf(label);
    expect(where, `caption's front names ${label}: ${caption}`).toBeGreaterThan(at);
    at = where;
    expect(frontText).toContain(`mask AP ${p.ap.toFixed(3)} (recorded on`);
  }
  for (const p of points.filter((_, i) => !front[i])) expect(frontText).not.toContain(`${names.get(p.model)} · wasm: `);
  await expect(page.getByRole('img', { name: /^Pareto front/ })).toBeVisible();
  await page.getByTestId('pareto-plot').scrollIntoViewIfNeeded();
  await screenshot(page, 'pareto-three-panes');
  await page
    .getByTestId(ids.metricsTable)
    .locator('xpath=..')
    .screenshot({ path: path.join(FIXTURE_PATHS.screenshots, 'pareto-plot.png') });
});

test('a re-run moves its point; the plot commits for the new result, not for every store write', async () => {
  test.setTimeout(TIMEOUT);
  type Hook = { renderCounts(): RenderCounts; resetRenderCounts(): void };
  await page.evaluate(() => (window as unknown as { __segarena: Hook }).__segarena.resetRenderCounts());
  const before = (await readPoints(page)).find((p) => p.pane === 0)!;
  const threshold = (await getState(page)).panes[0]!.settings.scoreThreshold;
  await rerun(page, () => setNumberInput(pane(page, 0).getByTestId(ids.scoreThreshold), threshold > 0.5 ? 0.3 : 0.6), { panes: [0], timeout: TIMEOUT });
  const total = (await totals(page))[0]!;
  await expect.poll(async () => (await readPoints(page)).find((p) => p.pane === 0)!.timeMs).toBe(total);
  const counts = await page.evaluate(() => (window as unknown as { __segarena: Hook }).__segarena.renderCounts());
  const paneWrites = Object.values(counts.paneWrites).reduce((a, b) => a + b, 0);
  test.info().annotations.push({ type: 'renders', description: JSON.stringify({ renders: counts.renders, writes: counts.writes, paneWrites }) });
  // Several store writes (settings, running, the result); one new figure, so one commit at most
  // (none when the re-run took exactly as long as before).
  expect(paneWrites).toBeGreaterThanOrEqual(2);
  expect(counts.renders.ParetoPlot ?? 0).toBeLessThanOrEqual(total === before.timeMs ? 0 : 1);
  expect(counts.renders.MetricsTable ?? 0).toBe(0);
});

test('Export plot PNG: segarena-pareto.png, the plot at twice its size, axes and points drawn', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-pareto-png').click()]);
  expect(download.suggestedFilename()).toBe('segarena-pareto.png');
  const bytes = readFileSync((await download.path())!);
  // Kept beside the screenshots, to be looked at.
  mkdirSync(FIXTURE_PATHS.screenshots, { recursive: true });
  writeFileSync(path.join(FIXTURE_PATHS.screenshots, 'pareto-export.png'), bytes);
  const png = PNG.sync.read(bytes);
  const svg = page.getByTestId('pareto-svg');
  expect(png.width).toBe(2 * Number(await svg.getAttribute('width')));
  expect(png.height).toBe(2 * Number(await svg.getAttribute('height')));
  const px = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 4));
  // The background is the panel's colour, opaque.
  expect(px(2, 2)).toEqual([0x16, 0x1b, 0x22, 255]);
  let differing = 0;
  let accent = 0;
  for (let y = 0; y < png.height; y++)
    for (let x = 0; x < png.width; x++) {
      const [r, g, b] = px(x, y);
      if (Math.abs(r! - 0x16) + Math.abs(g! - 0x1b) + Math.abs(b! - 0x22) > 24) differing++;
      if (Math.abs(r! - 0x4f) + Math.abs(g! - 0xa3) + Math.abs(b! - 0xff) < 40) accent++;
    }
  test.info().annotations.push({ type: 'png', description: `${png.width}x${png.height}: ${differing} drawn pixels, ${accent} of the front's colour` });
  // Not blank: grid, axes, text and markers cover a few percent of the plot.
  expect(differing).toBeGreaterThan(0.02 * png.width * png.height);
  // The front's markers (and legend) are there, in the front's colour, each a ring ≥ 2 px wide at 2x.
  const onFront = (await readPoints(page)).filter((p) => p.front).length;
  expect(accent).toBeGreaterThan(onFront * 40);
  // A front marker's ring is at its point (2x): somewhere on the circle of radius 5 around it.
  const p = (await readPoints(page)).find((q) => q.front)!;
  const ring = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => {
    const a = (k * Math.PI) / 4;
    const [r, g, b] = px(Math.round(2 * (p.cx + 5 * Math.cos(a))), Math.round(2 * (p.cy + 5 * Math.sin(a))));
    return Math.abs(r! - 0x4f) + Math.abs(g! - 0xa3) + Math.abs(b! - 0xff) < 60;
  });
  expect(ring.filter(Boolean).length, `front marker ring at (${p.cx}, ${p.cy})`).toBeGreaterThanOrEqual(6);
});

test('after Evaluate: the point moves to the AP evaluated here, filled, and the caption says where it was measured', async () => {
  test.setTimeout(2 * TIMEOUT);
  // One pane left (the smallest model): the evaluation runs every pane over the samples.
  while ((await page.getByTestId(ids.pane).count()) > 1) await pane(page, 1).getByTestId(ids.removePane).click();
  await expect(page.getByTestId('pareto-point')).toHaveCount(1);
  await page.getByTestId('evaluate').click();
  await page.waitForFunction(
    () => {
      const s = (
        window as unknown as { __segarena: { getState(): { evalRun: unknown; panes: { evaluation: unknown; status: string }[] } } }
      ).__segarena.getState();
      return s.evalRun === null && s.panes.every((p) => p.evaluation !== null && p.status === 'done');
    },
    null,
    { timeout: 2 * TIMEOUT - 30_000, polling: 500 },
  );
  const state = await getState(page);
  const evaluation = state.panes[0]!.evaluation!;
  expect(evaluation.maskAP).toBeGreaterThanOrEqual(0);
  await expect
    .poll(async () => {
      const [p] = await readPoints(page);
      return p && { ap: p.ap, source: p.apSource, time: p.timeMs };
    })
    .toEqual({ ap: evaluation.maskAP, source: 'evaluated', time: state.panes[0]!.result!.timings.total });
  // Filled in the front's colour (a single point is the front), not hollow.
  await expect(page.locator('[data-testid="pareto-point"] circle')).toHaveAttribute('fill', '#4fa3ff');
  await expect(page.getByTestId('pareto-caption')).toContainText(
    `mask AP ${evaluation.maskAP.toFixed(3)} (evaluated here on samples, ${evaluation.images} images, wasm)`,
  );
  await page.getByTestId('pareto-plot').scrollIntoViewIfNeeded();
  await page
    .getByTestId(ids.metricsTable)
    .locator('xpath=..')
    .screenshot({ path: path.join(FIXTURE_PATHS.screenshots, 'pareto-evaluated.png') });
});
