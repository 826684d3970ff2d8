import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import type { ModelManifest, RecordedAccuracy } from '../app/types';
import { collectPageErrors, dropAndWait, ensureInstances, ids, openApp, pane, sampleFile } from './helpers';
import { FIXTURE_PATHS } from './paths';

/**
 * `?manifest=<url>` with bad manifests (app/models/manifestUrl.ts): each is refused with an
 * error notice that says why, and the app goes on as if it had not been given: the page is
 * not blank, the bundled YOLACT-550 keeps its name and recorded accuracy, and a sample image
 * is segmented. Manifests are served by `page.route` under /e2e-manifests/.
 */

const read = <T>(rel: string): T => JSON.parse(readFileSync(path.join(FIXTURE_PATHS.repoRoot, rel), 'utf8')) as T;
const bundled = read<ModelManifest>('models/yolact/yolact-550.json');
const record = read<Record<string, RecordedAccuracy>>('models/yolact/accuracy.json')['yolact-550']!;
/** A manifest of another model (the smaller YOLACT), to be spoilt by each case. */
const other = read<ModelManifest>('models/yolact/yolact-384.json');

interface Case {
  name: string;
  /** Served at /e2e-manifests/<file>; null: nothing is routed there (a missing file). */
  file: string;
  body: string | null;
  notice: RegExp;
}

const cases: Case[] = [
  { name: 'a missing URL', file: 'missing.json', body: null, notice: /missing\.json (could not be read: the server answered HTTP 404|was not found)/ },
  { name: 'malformed JSON', file: 'malformed.json', body: '{"id": "broken", "classes": [', notice: /malformed\.json is not valid JSON/ },
  {
    name: 'defaults: {}',
    file: 'no-defaults.json',
    body: JSON.stringify({ ...other, id: 'no-defaults', name: 'No defaults', defaults: {} }),
    notice: /no-defaults\.json is not a valid model manifest: defaults\.confThreshold: expected a number/,
  },
  {
    name: 'the id yolact-550',
    file: 'impostor.json',
    body: JSON.stringify({ ...other, id: 'yolact-550', name: 'Impostor 550' }),
    notice: /impostor\.json uses the id “yolact-550” of a bundled model/,
  },
];

async function routeManifests(page: Page): Promise<void> {
  await page.route('**/e2e-manifests/**', async (route) => {
    const file = new URL(route.request().url()).pathname.split('/').at(-1);
    const served =
      cases.find((c) => c.file === file)?.body ?? (file === 'valid.json' ? JSON.stringify({ ...other, id: 'from-url', name: 'From a URL' }) : null);
    if (served === null) return route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' });
    return route.fulfill({ status: 200, contentType: 'application/json', body: served });
  });
}

const errorNotices = (page: Page) => page.locator(`[data-testid="${ids.notice}"][data-kind="error"]`);

for (const c of cases) {
  test(`?manifest= with ${c.name}: a clear notice, and the app works on`, async ({ page }) => {
    const errors = collectPageErrors(page);
    if (c.body !== null) await routeManifests(page);
    await openApp(page, { path: 'wasm', manifest: `/e2e-manifests/${c.file}` });

    await expect(errorNotices(page).filter({ hasText: c.notice })).toHaveCount(1);
    await expect(errorNotices(page).first()).toContainText('Model failed to load: The model manifest /e2e-manifests/');

    // Not blank: the pane and its picker are there, with the bundled model under its own name.
    const first = pane(page, 0);
    await expect(first).toBeVisible();
    const picker = first.getByTestId(ids.modelPicker);
    await expect(picker).toHaveValue('yolact-550');
    await expect(picker.locator('option[value="yolact-550"]')).toHaveText(bundled.name);
    await expect(picker.locator('option', { hasText: 'Impostor' })).toHaveCount(0);
    await expect(first.getByTestId('recorded-accuracy')).toContainText(`mask AP ${record.maskAP.toFixed(3)}`);

    await dropAndWait(page, sampleFile(0), 180_000);
    await ensureInstances(page, 0, 1);
    expect(
      errors.filter((e) => e.startsWith('pageerror')),
      'uncaught page errors',
    ).toEqual([]);
  });
}

test('?manifest= with a valid manifest of its own id adds it, without an error', async ({ page }) => {
  await routeManifests(page);
  await openApp(page, { path: 'wasm', manifest: '/e2e-manifests/valid.json' });
  const picker = pane(page, 0).getByTestId(ids.modelPicker);
  await expect(picker).toHaveValue('from-url');
  await expect(picker.locator('option[value="yolact-550"]')).toHaveText(bundled.name);
  await expect(errorNotices(page)).toHaveCount(0);
  // Another id, the same bytes as the bundled yolact-384: its recorded figures follow the sha256.
  const small = read<Record<string, RecordedAccuracy>>('models/yolact/accuracy.json')['yolact-384']!;
  await expect(pane(page, 0).getByTestId('recorded-accuracy')).toContainText(`mask AP ${small.maskAP.toFixed(3)}`);
});
