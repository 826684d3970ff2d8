import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { bundledManifests, getState, ids, openApp, pane, sampleNames } from './helpers';
import { FIXTURE_PATHS } from './paths';

/**
 * The in-browser evaluation: the Evaluate button runs every pane over the samples and
 * scores it against public/samples/annotations.json, and a COCO JSON dropped with its
 * images does the same on those. The figures are checked against `npm run eval` on the
 * same images (ORT wasm in Node + the TypeScript post-processing).
 *
 * Exactly, on PNG copies of the samples: JPEG decoders differ by a level here and there
 * (Chromium's libjpeg-turbo vs jpeg-js in Node), enough to move a borderline detection and
 * change AP on 4 images by ~0.03 (seen: 0.520 vs 0.493), so the exact check feeds both
 * sides the same pixels: jpeg-js's decode, written as PNG (lossless, untagged).
 */

const TIMEOUT = 300_000;
const ANNOTATIONS = path.join(FIXTURE_PATHS.samples, 'annotations.json');
const YOLACT = 'yolact-550';
const MASK_RCNN = 'maskrcnn-512';

interface NodeEval {
  images: number;
  mask: { summary: { ap: number; ap50: number } };
  box: { summary: { ap: number } };
}

/** `npm run eval` of a bundled model on a COCO set (≈10 s for YOLACT on the 4 samples, ≈20 s for Mask R-CNN). */
function nodeEvaluation(modelId: string, annotations = ANNOTATIONS, images = FIXTURE_PATHS.samples): NodeEval {
  const manifest = bundledManifests().find((m) => m.id === modelId)!;
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'segarena-eval-')), 'report.json');
  const manifestPath = path.join(FIXTURE_PATHS.repoRoot, path.dirname(manifest.url), `${modelId}.json`);
  execFileSync('npx', ['tsx', 'scripts/eval.ts', '--model', manifestPath, '--ann', annotations, '--images', images, '--out', out], {
    cwd: FIXTURE_PATHS.repoRoot,
    stdio: 'pipe',
  });
  return JSON.parse(readFileSync(out, 'utf8')) as NodeEval;
}

async function waitForEvaluation(page: Page, panes: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const s = (window as unknown as { __segarena: { getState(): { evalRun: unknown; panes: { evaluation: unknown }[] } } }).__segarena.getState();
      return s.evalRun === null && s.panes.slice(0, n).every((p) => p.evaluation !== null);
    },
    panes,
    { timeout: TIMEOUT, polling: 500 },
  );
}

test('Evaluate: every pane over the samples, near npm run eval (other JPEG decoder); figures in the table and panes', async ({ page }) => {
  test.setTimeout(2 * TIMEOUT);
  const ids_ = bundledManifests().map((m) => m.id);
  // Skips only in a checkout without these bundled models (a fork that drops a family); it
  // cannot hide a lost model here: app/models/recordedAccuracy.test.ts fails when either is missing.
  test.skip(!ids_.includes(YOLACT) || !ids_.includes(MASK_RCNN), 'needs the bundled YOLACT-550 and Mask R-CNN');
  await openApp(page, { path: 'wasm', panes: '2', model: YOLACT });
  await pane(page, 1).getByTestId(ids.modelPicker).selectOption(MASK_RCNN);
  await pane(page, 1).getByTestId(ids.pathPicker).selectOption('wasm+gpu');
  const shownThreshold = (await getState(page)).panes[1]!.settings.scoreThreshold;

  // Before any evaluation here: the bundled model's recorded figures (npm run eval --record).
  const records = JSON.parse(readFileSync(path.join(FIXTURE_PATHS.repoRoot, 'models', 'yolact', 'accuracy.json'), 'utf8')) as Record<
    string,
    { maskAP: number; images: number }
  >;
  await expect(pane(page, 0).getByTestId('recorded-accuracy')).toContainText(
    `Recorded on ${records[YOLACT]!.images} val images: mask AP ${records[YOLACT]!.maskAP.toFixed(3)}`,
  );

  await page.getByTestId('evaluate').click();
  await expect(page.getByTestId('evaluate')).toContainText('Evaluating');
  await waitForEvaluation(page, 2);

  const state = await getState(page);
  const [y, m] = [state.panes[0]!.evaluation!, state.panes[1]!.evaluation!];
  console.log(
    `in the browser: ${YOLACT} (wasm) mask AP ${y.maskAP.toFixed(4)} AP50 ${y.maskAP50.toFixed(4)} box AP ${y.boxAP.toFixed(4)}; ` +
      `${MASK_RCNN} (wasm+gpu) mask AP ${m.maskAP.toFixed(4)} AP50 ${m.maskAP50.toFixed(4)} box AP ${m.boxAP.toFixed(4)}`,
  );
  expect(y).toMatchObject({ source: 'samples', images: sampleNames().length, modelId: YOLACT, path: 'wasm', scoreThreshold: 0 });
  expect(m).toMatchObject({ source: 'samples', images: sampleNames().length, modelId: MASK_RCNN, path: 'wasm+gpu', nmsKind: 'greedy', scoreThreshold: 0.05 });
  // The panes draw at their own thresholds again afterwards.
  expect(state.panes[1]!.settings.scoreThreshold).toBe(shownThreshold);
  expect(state.evalRun).toBeNull();

  const nodeY = nodeEvaluation(YOLACT);
  const nodeM = nodeEvaluation(MASK_RCNN);
  console.log(`npm run eval: ${YOLACT} mask AP ${nodeY.mask.summary.ap.toFixed(4)}; ${MASK_RCNN} mask AP ${nodeM.mask.summary.ap.toFixed(4)}`);
  expect(nodeY.images).toBe(y.images);
  // Near, not equal: the browser decodes the JPEGs with another decoder (exact check below).
  expect(Math.abs(y.maskAP - nodeY.mask.summary.ap)).toBeLessThan(0.06);
  expect(Math.abs(m.maskAP - nodeM.mask.summary.ap)).toBeLessThan(0.06);
  // A trained model, not a broken wiring (ids, classes, masks): the samples are easy.
  expect(y.maskAP50).toBeGreaterThan(0.3);
  expect(m.maskAP50).toBeGreaterThan(0.3);

  // The table and the panes show the figures.
  const table = page.getByTestId(ids.metricsTable);
  await expect(table.getByTestId('eval-mask-ap').first()).toHaveText(y.maskAP.toFixed(3));
  await expect(table.getByTestId('eval-mask-ap').nth(1)).toHaveText(m.maskAP.toFixed(3));
  await expect(pane(page, 1).getByTestId('pane-evaluation')).toContainText(`mask AP ${m.maskAP.toFixed(3)}`);
  await page.getByTestId(ids.metricsTable).scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(FIXTURE_PATHS.screenshots, 'evaluate-samples.png'), fullPage: true });

  // A new model in a pane: its figures are gone (they were the old model's).
  await pane(page, 0).getByTestId(ids.modelPicker).selectOption('yolact-384');
  await expect.poll(async () => (await getState(page)).panes[0]!.evaluation).toBeNull();
});

test('a COCO JSON dropped with its images: the same AP as npm run eval on the same pixels; a bad JSON gets a message; Stop', async ({ page }) => {
  test.setTimeout(2 * TIMEOUT);
  // As above: a checkout without the bundled YOLACT-550; recordedAccuracy.test.ts requires it here.
  test.skip(!bundledManifests().some((m) => m.id === YOLACT), 'needs the bundled YOLACT-550');
  // PNG copies of the samples (jpeg-js's pixels), and their ground truth renamed to match.
  const dir = mkdtempSync(path.join(tmpdir(), 'segarena-png-'));
  const gt = JSON.parse(readFileSync(ANNOTATIONS, 'utf8')) as { images: { id: number; file_name: string }[]; annotations: { image_id: number }[] };
  const files: { name: string; mimeType: string; base64: string }[] = [];
  for (const im of gt.images) {
    const rgba = jpeg.decode(readFileSync(path.join(FIXTURE_PATHS.samples, im.file_name)), { useTArray: true, formatAsRGBA: true });
    const png = new PNG({ width: rgba.width, height: rgba.height });
    png.data = Buffer.from(rgba.data);
    im.file_name = im.file_name.replace(/\.jpe?g$/i, '.png');
    const bytes = PNG.sync.write(png);
    writeFileSync(path.join(dir, im.file_name), bytes);
    files.push({ name: im.file_name, mimeType: 'image/png', base64: bytes.toString('base64') });
  }
  // The browser gets all but the last image's file; Node evaluates the same images.
  const dropped = files.slice(0, -1);
  const kept = new Set(gt.images.slice(0, -1).map((im) => im.id));
  const subset = { ...gt, images: gt.images.filter((im) => kept.has(im.id)), annotations: gt.annotations.filter((a) => kept.has(a.image_id)) };
  writeFileSync(path.join(dir, 'subset.json'), JSON.stringify(subset));
  const nodeY = nodeEvaluation(YOLACT, path.join(dir, 'subset.json'), dir);

  await openApp(page, { path: 'wasm', model: YOLACT });
  const json = Buffer.from(JSON.stringify(gt));
  await dropFiles(page, [{ name: 'samples-png.json', mimeType: 'application/json', base64: json.toString('base64') }, ...dropped]);
  await waitForEvaluation(page, 1);
  const state = await getState(page);
  const e = state.panes[0]!.evaluation!;
  console.log(`dropped PNGs: in the browser mask AP ${e.maskAP.toFixed(4)}, npm run eval ${nodeY.mask.summary.ap.toFixed(4)}`);
  expect(e).toMatchObject({ source: 'samples-png.json', images: dropped.length, of: dropped.length, modelId: YOLACT, path: 'wasm' });
  expect(nodeY.images).toBe(dropped.length);
  expect(e.maskAP).toBeCloseTo(nodeY.mask.summary.ap, 6);
  expect(e.maskAP50).toBeCloseTo(nodeY.mask.summary.ap50, 6);
  expect(e.boxAP).toBeCloseTo(nodeY.box.summary.ap, 6);
  // The log: the info was shown when the evaluation started, and may have faded since.
  expect(state.noticeLog.map((n) => n.text)).toContain(
    `1 of the ${gt.images.length} images samples-png.json names were not dropped with it; evaluating the ${dropped.length} that were.`,
  );

  // Not COCO ground truth: a message, and the evaluation shown stays.
  await dropFiles(page, [{ name: 'broken.json', mimeType: 'application/json', base64: Buffer.from('{"images": 3}').toString('base64') }]);
  await expect(page.getByTestId(ids.notice).filter({ hasText: 'broken.json' })).toContainText('Not a COCO instances file');
  expect((await getState(page)).panes[0]!.evaluation).toEqual(e);

  // Stop: the image in progress finishes, the images done so far are scored. (A dispatched
  // click: the page's main thread is busy with inference between images, so Playwright's
  // actionability wait for a stable button would only land after the last image.)
  await page.getByTestId('evaluate').click();
  await page.getByTestId('evaluate-stop').dispatchEvent('click');
  await waitForEvaluation(page, 1);
  await expect(page.getByTestId('evaluate-stop')).toHaveCount(0);
  const stopped = (await getState(page)).panes[0]!.evaluation!;
  expect(stopped).toMatchObject({ source: 'samples', of: gt.images.length });
  expect(stopped.images).toBeGreaterThanOrEqual(1);
  expect(stopped.images).toBeLessThan(gt.images.length);
  await expect(pane(page, 0).getByTestId('pane-evaluation')).toContainText(`samples (${stopped.images} of ${gt.images.length} images)`);
});

/** Drops several files at once on the drop zone, as a multi-file drag from a file manager. */
async function dropFiles(page: Page, files: { name: string; mimeType: string; base64: string }[]): Promise<void> {
  await page.evaluate(
    ({ files, zoneId }) => {
      const transfer = new DataTransfer();
      for (const f of files) {
        const binary = atob(f.base64);
        const bytes = new Uint8Array(binary.length);
        for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
        transfer.items.add(new File([bytes], f.name, { type: f.mimeType }));
      }
      const zone = document.querySelector(`[data-testid="${zoneId}"]`)!;
      for (const type of ['dragenter', 'dragover', 'drop'])
        zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
    },
    { files, zoneId: ids.dropZone },
  );
}
