import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { FrameResult } from '../app/types';
import { FIXTURE_PATHS } from './paths';
import { dropAndWait, getState, ids, openApp, pane, sampleFile, smallestModel } from './helpers';

/**
 * Public Mask R-CNN exports dropped into the app (app/families/maskRcnn/exported.ts): the
 * tiny graphs of models/maskrcnn/make_public_test_models.py with the exact I/O of a
 * torchvision `maskrcnn_resnet50_fpn` export (input [3, H, W], boxes / labels int64 COCO ids /
 * scores / masks [N, 1, H, W] pasted) and of the ONNX-zoo MaskRCNN-10 (numeric output names,
 * masks [N, 1, 28, 28]). Their outputs are constants laid out on the input (640x640,
 * letterboxed): person (0.95) and dog (0.80) are kept; a COCO gap id / an out-of-range label
 * (0.70) and a 0.03 row are dropped. No class-names dialog; the pane says that the in-graph
 * NMS / RoIAlign run on the CPU; the model is still there after a reload.
 */

const TEST_MODELS = path.join(FIXTURE_PATHS.repoRoot, 'models/maskrcnn/test');
const BOXES = { person: [0.1, 0.1, 0.5, 0.6], dog: [0.55, 0.2, 0.9, 0.8] } as const;
const INPUT = 640;

async function addModelFile(page: Page, name: string, buffer: Buffer): Promise<void> {
  await page.getByTestId('model-drop-input').setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
}

/** Waits until pane `index` shows a result of model `modelId` for the current frame. */
async function waitForModelResult(page: Page, index: number, modelId: string, timeout = 180_000): Promise<void> {
  await page.waitForFunction(
    ({ index, modelId }) => {
      const s = (
        window as unknown as {
          __segarena: {
            getState(): { source: { frameId: number }; panes: Array<{ modelId: string; status: string; resultFrameId: number; result: unknown }> };
          };
        }
      ).__segarena.getState();
      const p = s.panes[index];
      return (
        !!p &&
        p.modelId === modelId &&
        (p.status === 'done' || p.status === 'error') &&
        p.resultFrameId === s.source.frameId &&
        (p.result !== null || p.status === 'error')
      );
    },
    { index, modelId },
    { timeout },
  );
}

/** A box given as fractions of the 640x640 letterboxed input → image pixels (clamped). */
function expectedBox(frac: readonly number[], width: number, height: number): number[] {
  const r = Math.min(INPUT / width, INPUT / height);
  const padX = Math.max(0, Math.round((INPUT - Math.round(width * r)) / 2 - 0.1));
  const padY = Math.max(0, Math.round((INPUT - Math.round(height * r)) / 2 - 0.1));
  return frac.map((f, k) => {
    const v = k % 2 === 0 ? (f * INPUT - padX) / r : (f * INPUT - padY) / r;
    return Math.min(Math.max(v, 0), k % 2 === 0 ? width : height);
  });
}

function checkResult(result: FrameResult, classes: string[], width: number, height: number): void {
  expect(result.detections.map((d) => classes[d.classIndex])).toEqual(['person', 'dog']);
  expect(result.detections.map((d) => d.score)).toEqual([expect.closeTo(0.95, 5), expect.closeTo(0.8, 5)]);
  result.detections.forEach((d, n) => {
    const want = expectedBox(n === 0 ? BOXES.person : BOXES.dog, width, height);
    d.box.forEach((v, k) => expect(Math.abs(v - want[k]!)).toBeLessThan(1.5));
    expect(d.maskArea).toBeGreaterThan(100);
  });
}

test('a torchvision Mask R-CNN export runs next to a bundled model (wasm+gpu and wasm), says NMS runs on the CPU, survives a reload', async ({ page }) => {
  test.setTimeout(420_000);
  const bundled = smallestModel();
  await openApp(page, { path: 'wasm+gpu', model: bundled.id });
  await dropAndWait(page, sampleFile(0), 240_000);

  await addModelFile(page, 'maskrcnn_resnet50_fpn.onnx', readFileSync(path.join(TEST_MODELS, 'maskrcnn-torchvision-tiny.onnx')));
  await expect(page.locator(`[data-testid="${ids.notice}"][data-kind="info"]`).filter({ hasText: /Model added/ })).toBeVisible({ timeout: 60_000 });
  // COCO names come from the labels: no dialog.
  await expect(page.getByTestId('class-names-dialog')).toHaveCount(0);
  // It opens in a new pane 2; pane 1 keeps the bundled model.
  const state = await getState(page);
  const id = state.panes[1]!.modelId;
  expect(id).not.toBe(bundled.id);
  expect(state.savedModels.map((m) => m.id)).toEqual([id]);
  expect(state.savedModels[0]!.family).toBe('maskrcnn');
  await waitForModelResult(page, 1, id);
  await waitForModelResult(page, 0, bundled.id);

  const after = await getState(page);
  const dropped = after.panes[1]!;
  expect(dropped.status).toBe('done');
  expect(dropped.result!.path).toBe('wasm+gpu');
  const { width, height } = after.source;
  checkResult(dropped.result!, COCO, width, height);
  expect(after.panes[0]!.status).toBe('done');
  // Drawn: one instance row per detection, with its class; the CPU note in the pane.
  const rows = pane(page, 1).getByTestId(ids.instanceRow);
  await expect(rows).toHaveCount(2);
  expect(await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-class')))).toEqual(['person', 'dog']);
  await expect(pane(page, 1).getByTestId('model-cpu-note')).toHaveText('NMS and RoIAlign inside this model run on the CPU in ORT');
  await expect(pane(page, 0).getByTestId('model-cpu-note')).toHaveCount(0);
  await page.screenshot({ path: path.join(test.info().outputDir, 'maskrcnn-torchvision.png'), fullPage: true });

  // The same model on 'wasm' (the TypeScript reference chain) in the first pane: the same instances.
  await pane(page, 0).getByTestId(ids.modelPicker).selectOption(id);
  await pane(page, 0).getByTestId(ids.pathPicker).selectOption('wasm');
  await waitForModelResult(page, 0, id);
  const both = await getState(page);
  const [gpu, cpu] = [both.panes[1]!.result!, both.panes[0]!.result!];
  expect(cpu.path).toBe('wasm');
  expect(cpu.detections.map((d) => [d.classIndex, d.maskArea])).toEqual(gpu.detections.map((d) => [d.classIndex, d.maskArea]));

  // After a reload it is still listed and runs.
  await page.reload();
  await openApp(page, { path: 'wasm', model: id });
  await expect(page.getByTestId('saved-model-row')).toHaveCount(1);
  await dropAndWait(page, sampleFile(0), 240_000);
  await waitForModelResult(page, 0, id);
  const reloaded = await getState(page);
  expect(reloaded.panes[0]!.status).toBe('done');
  checkResult(reloaded.panes[0]!.result!, COCO, reloaded.source.width, reloaded.source.height);
  await expect(pane(page, 0).getByTestId('model-cpu-note')).toBeVisible();
});

test('an ONNX-zoo MaskRCNN-10 layout (numeric output names, 28x28 masks) is recognised and pasted, on wasm+gpu and webgpu', async ({ page }) => {
  test.setTimeout(420_000);
  await openApp(page, { path: 'wasm+gpu' });
  // It opens in a new pane 2 (webgpu there); pane 1 picks it too (wasm+gpu).
  await addModelFile(page, 'MaskRCNN-10.onnx', readFileSync(path.join(TEST_MODELS, 'maskrcnn-zoo-tiny.onnx')));
  await expect(page.locator(`[data-testid="${ids.notice}"][data-kind="info"]`).filter({ hasText: /Model added/ })).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('class-names-dialog')).toHaveCount(0);
  const id = (await getState(page)).panes[1]!.modelId;
  await pane(page, 0).getByTestId(ids.modelPicker).selectOption(id);
  await pane(page, 1).getByTestId(ids.pathPicker).selectOption('webgpu');
  await dropAndWait(page, sampleFile(1), 300_000);
  for (let i = 0; i < 2; i++) await waitForModelResult(page, i, id, 300_000);
  const state = await getState(page);
  const { width, height } = state.source;
  for (const p of state.panes) {
    expect(p.status, p.message).toBe('done');
    checkResult(p.result!, COCO, width, height);
  }
  const [a, b] = state.panes.map((p) => p.result!) as [FrameResult, FrameResult];
  expect([a.path, b.path]).toEqual(['wasm+gpu', 'webgpu']);
  // The same pasted masks whichever way the labels arrived (float32 upload vs ORT's int64 buffer).
  expect(b.detections.map((d) => d.maskArea)).toEqual(a.detections.map((d) => d.maskArea));
  for (let i = 0; i < 2; i++) await expect(pane(page, i).getByTestId('model-cpu-note')).toBeVisible();
  await page.screenshot({ path: path.join(test.info().outputDir, 'maskrcnn-zoo.png'), fullPage: true });
});

test('a near-miss detection export is refused with a message naming the Mask R-CNN outputs', async ({ page }) => {
  await openApp(page, { path: 'wasm' });
  // The zoo-like file with its mask output's second dimension (1) changed to 2 in the
  // graph's declared output shape: the recognition must refuse it, naming what was expected.
  const bytes = Buffer.from(readFileSync(path.join(TEST_MODELS, 'maskrcnn-zoo-tiny.onnx')));
  const broken = withMaskChannels(bytes, 2);
  await addModelFile(page, 'almost.onnx', broken);
  const notice = page.locator(`[data-testid="${ids.notice}"][data-kind="error"]`).filter({ hasText: 'almost.onnx' });
  await expect(notice).toBeVisible({ timeout: 30_000 });
  await expect(notice).toContainText('Mask R-CNN');
  await expect(notice).toContainText('masks [N,1,H,W]');
  expect((await getState(page)).savedModels).toEqual([]);
});

/**
 * The bytes with output "6887"'s declared dims [N, 1, 28, 28] changed to [N, c, 28, 28]:
 * TensorShapeProto.Dimension {dim_value: 1} is `0a 02 08 01` right after the N dimension
 * (`0a 03 12 01 4e`, dim_param "N") of that output's ValueInfoProto.
 */
function withMaskChannels(bytes: Buffer, channels: number): Buffer {
  const name = Buffer.from('6887');
  const at = bytes.lastIndexOf(name);
  const pattern = Buffer.from([0x0a, 0x03, 0x12, 0x01, 0x4e, 0x0a, 0x02, 0x08, 0x01]);
  const dim = bytes.indexOf(pattern, at);
  if (at < 0 || dim < 0) throw new Error('mask output shape not found in the test model');
  const out = Buffer.from(bytes);
  out[dim + pattern.length - 1] = channels;
  return out;
}

/** The first 17 of COCO's 80 names, in id order (class index 16 = dog). */
const COCO = [
  'person',
  'bicycle',
  'car',
  'motorcycle',
  'airplane',
  'bus',
  'train',
  'truck',
  'boat',
  'traffic light',
  'fire hydrant',
  'stop sign',
  'parking meter',
  'bench',
  'bird',
  'cat',
  'dog',
];
