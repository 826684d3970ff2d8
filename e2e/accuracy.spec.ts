import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import type { ModelManifest } from '../app/types';
import { boxIou, bundledManifests, dropAndWait, ids, openApp, pane, sampleNames } from './helpers';
import { maskArea, maskIou, rleToMask, segmentationToMask, type CocoGroundTruth, type CocoResult } from './coco';
import { FIXTURE_PATHS } from './paths';

/**
 * Every bundled model against the samples' ground truth (public/samples/annotations.json),
 * through the whole app: drop the image, export the COCO results, decode the RLE masks
 * here and match them to the ground truth. Thresholds are well below a trained model's
 * recorded accuracy (models/<family>/accuracy.json) so that only a broken pipeline fails
 * them; a model whose record says it is not trained yet is skipped, with its figures.
 */

const ANNOTATIONS = path.join(FIXTURE_PATHS.samples, 'annotations.json');
const IMAGES_CHECKED = 3;
/** Ground-truth instances found with the right class and box IoU ≥ 0.5, over all images. */
const MIN_RECALL = 0.5;
/** Of those, the share whose mask IoU is ≥ 0.5. */
const MIN_MASK_OK = 0.8;
/**
 * The recorded mask AP50 below which a bundled model counts as not trained yet (YOLACT's
 * first checkpoints reached 0.06–0.25; the trained YOLACT and Mask R-CNN models 0.53–0.63):
 * with such a model a ground-truth check on 3 images would test the training, not the
 * pipeline, which each family's parity tests cover.
 */
const TRAINED_MASK_AP50 = 0.5;

/**
 * The accuracy `npm run eval -- --record` measured for the bundled ONNX files as they are now
 * (models/<family>/accuracy.json, keyed by model id, with each file's sha256: `onnxSha256`
 * for a one-file model, `partsSha256` by path for a model in parts). A missing or stale
 * record fails: whoever commits a model records what it reaches.
 */
function recordedAccuracy(model: { id: string; url: string }): { maskAP50: number; images: number; command: string } {
  const file = path.join(FIXTURE_PATHS.repoRoot, path.dirname(model.url), 'accuracy.json');
  const hint = `run: npm run eval -- --model ${path.dirname(model.url)}/${model.id}.json --record`;
  if (!existsSync(file)) throw new Error(`no ${file}: ${hint}`);
  type Entry = { onnxSha256: string; partsSha256?: Record<string, string>; maskAP50: number; images: number; command: string };
  const entry = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, Entry>)[model.id];
  if (!entry) throw new Error(`no recorded accuracy for ${model.id} in ${file}: ${hint}`);
  const sha256 = (url: string) =>
    createHash('sha256')
      .update(readFileSync(path.join(FIXTURE_PATHS.repoRoot, url)))
      .digest('hex');
  const files = entry.partsSha256 ?? { [model.url]: entry.onnxSha256 };
  for (const [url, digest] of Object.entries(files)) {
    if (sha256(url) !== digest) throw new Error(`${file} records another ${url} (sha256 differs): ${hint}`);
  }
  return entry;
}

async function exportResults(page: Page): Promise<CocoResult[]> {
  const download = page.waitForEvent('download');
  await pane(page, 0).getByTestId(ids.exportJson).click();
  return JSON.parse(readFileSync((await (await download).path())!, 'utf8')) as CocoResult[];
}

for (const model of bundledManifests()) {
  test(`${model.id}: detections match the samples ground truth (class, box IoU, mask IoU)`, async ({ page }) => {
    await checkAgainstGroundTruth(page, model);
  });
}

async function checkAgainstGroundTruth(page: Page, model: ModelManifest): Promise<void> {
  test.skip(!existsSync(ANNOTATIONS), 'no public/samples/annotations.json yet');
  const recorded = recordedAccuracy(model);
  test.skip(
    recorded.maskAP50 < TRAINED_MASK_AP50,
    `${model.id} is an early checkpoint: mask AP50 ${recorded.maskAP50.toFixed(3)} on ${recorded.images} val images ` +
      `(trained: ≥ ${TRAINED_MASK_AP50}, "${recorded.command}"); the ground-truth check waits for a trained model`,
  );
  test.setTimeout(360_000);
  await openApp(page, { path: 'wasm+gpu', model: model.id });
  const gt = JSON.parse(readFileSync(ANNOTATIONS, 'utf8')) as CocoGroundTruth;
  const catName = new Map(gt.categories.map((c) => [c.id, c.name]));
  const nameOfResult = (categoryId: number) => {
    const idx = model.categoryIds ? model.categoryIds.indexOf(categoryId) : categoryId - 1;
    return model.classes[idx];
  };

  let gtTotal = 0;
  let found = 0;
  const maskIous: number[] = [];
  const report: string[] = [];
  for (const name of sampleNames().slice(0, IMAGES_CHECKED)) {
    const image = gt.images.find((im) => im.file_name === name || path.basename(im.file_name) === name);
    if (!image) continue;
    const anns = gt.annotations.filter((a) => a.image_id === image.id && !a.iscrowd);
    const buffer = readFileSync(path.join(FIXTURE_PATHS.samples, name));
    await dropAndWait(page, { name, mimeType: 'image/jpeg', buffer }, 180_000);
    const results = await exportResults(page);
    const used = new Set<number>();
    for (const a of anns) {
      gtTotal++;
      const cls = catName.get(a.category_id);
      const gtBox = [a.bbox[0], a.bbox[1], a.bbox[0] + a.bbox[2], a.bbox[1] + a.bbox[3]];
      let best = -1;
      let bestIou = 0.5;
      results.forEach((r, j) => {
        if (used.has(j) || nameOfResult(r.category_id) !== cls) return;
        const iou = boxIou(gtBox, [r.bbox[0], r.bbox[1], r.bbox[0] + r.bbox[2], r.bbox[1] + r.bbox[3]]);
        if (iou >= bestIou) {
          bestIou = iou;
          best = j;
        }
      });
      if (best < 0) {
        report.push(`${name}: missed ${cls}`);
        continue;
      }
      used.add(best);
      found++;
      const gtMask = segmentationToMask(a.segmentation, image.height, image.width);
      if (typeof a.area === 'number' && !Array.isArray(a.segmentation)) {
        // Our RLE decode agrees with the generator's own pixel count.
        expect(Math.abs(maskArea(gtMask) - a.area)).toBeLessThanOrEqual(1);
      }
      const iou = maskIou(gtMask, rleToMask(results[best]!.segmentation));
      maskIous.push(iou);
      report.push(`${name}: ${cls} box IoU ${bestIou.toFixed(2)} mask IoU ${iou.toFixed(2)}`);
    }
  }
  console.log(report.join('\n'));
  expect(gtTotal, 'ground-truth instances on the checked samples').toBeGreaterThan(0);
  expect(found / gtTotal, `recall at box IoU 0.5 with the right class\n${report.join('\n')}`).toBeGreaterThanOrEqual(MIN_RECALL);
  const maskOk = maskIous.filter((x) => x >= 0.5).length / Math.max(1, maskIous.length);
  expect(maskOk, `matched instances with mask IoU ≥ 0.5\n${report.join('\n')}`).toBeGreaterThanOrEqual(MIN_MASK_OK);
}
