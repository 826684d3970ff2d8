import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { Detection, FrameResult } from '../app/types';
import { FIXTURE_PATHS } from './paths';
import { boxIou, getState, ids, openApp, pane, rerun, setNumberInput, type FilePayload } from './helpers';

/**
 * Every Ultralytics YOLO-seg export layout users bring (issue 18), dropped on the page as
 * files: the tiny untrained test models of models/yoloseg/make_test_models.py —
 *
 *   nc80        output0 [1, 116, 2100]         (the usual layout; the others are compared to it)
 *   transposed  output0 [1, 2100, 116]         nc80's weights
 *   dynamic     images [batch, 3, height, width], imgsz 320    nc80's weights
 *   fp16        float16 input and outputs      nc80's weights in float16
 *   e2e         output0 [1, 300, 38]           NMS-free head (Ultralytics' top-k rows)
 *
 * Each is recognised as YOLO-seg with its COCO class names (no dialog), opens in a pane,
 * runs on 'wasm+gpu' and on 'wasm' with the same instances on both paths; the transposed
 * and dynamic exports list exactly nc80's instances. What the pane says about the file (the
 * model picker's title: the manifest's notes) names the layout, the chosen input size and why.
 */

const TEST_MODELS = path.join(FIXTURE_PATHS.repoRoot, 'models/yoloseg/test');
const FILES = {
  nc80: 'yoloseg-tiny-320-nc80.onnx',
  transposed: 'yoloseg-tiny-320-nc80-transposed.onnx',
  dynamic: 'yoloseg-tiny-dynamic-nc80.onnx',
  fp16: 'yoloseg-tiny-320-nc80-fp16.onnx',
  e2e: 'yoloseg-tiny-320-nc80-e2e.onnx',
} as const;
type Layout = keyof typeof FILES;
const LAYOUTS = Object.keys(FILES) as Layout[];
/** Untrained: every anchor scores ≈ 0.56, so the raw heads keep at most this many per class (the e2e head keeps its rows). */
const TOP_K = 6;
const COCO_SOME = ['person', 'spoon', 'toothbrush'];

/** sample-1.jpg scaled down to 160x120 (nearest), as a PNG: 300 end-to-end masks stay cheap on SwiftShader. */
function smallSample(): FilePayload {
  const src = jpeg.decode(readFileSync(path.join(FIXTURE_PATHS.repoRoot, 'public/samples/sample-1.jpg')), { useTArray: true, formatAsRGBA: true });
  const png = new PNG({ width: 160, height: 120 });
  for (let y = 0; y < 120; y++)
    for (let x = 0; x < 160; x++) {
      const s = (Math.floor((y * src.height) / 120) * src.width + Math.floor((x * src.width) / 160)) * 4;
      for (let c = 0; c < 4; c++) png.data[(y * 160 + x) * 4 + c] = src.data[s + c]!;
    }
  return { name: 'small.png', mimeType: 'image/png', buffer: PNG.sync.write(png) };
}

async function addModel(page: Page, file: string): Promise<string> {
  const before = (await getState(page)).savedModels.map((m) => m.id);
  await page
    .getByTestId('model-drop-input')
    .setInputFiles({ name: file, mimeType: 'application/octet-stream', buffer: readFileSync(path.join(TEST_MODELS, file)) });
  await expect.poll(async () => (await getState(page)).savedModels.length, { timeout: 60_000 }).toBe(before.length + 1);
  const added = (await getState(page)).savedModels.find((m) => !before.includes(m.id))!;
  expect(added.family).toBe('yolo-seg');
  return added.id;
}

/** Drops `file` as the image and waits until every pane has a result for it (an error fails with the pane's message). */
async function openImageAndWait(page: Page, file: FilePayload): Promise<void> {
  await rerun(
    page,
    async () => {
      await page.evaluate(
        ({ name, mimeType, base64, zoneId }) => {
          const binary = atob(base64);
          const bytes = new Uint8Array(binary.length);
          for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], name, { type: mimeType }));
          const zone = document.querySelector(`[data-testid="${zoneId}"]`)!;
          for (const type of ['dragenter', 'dragover', 'drop'])
            zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
        },
        { name: file.name, mimeType: file.mimeType, base64: file.buffer.toString('base64'), zoneId: ids.dropZone },
      );
    },
    { timeout: 420_000 },
  );
}

const results = async (page: Page): Promise<FrameResult[]> => (await getState(page)).panes.map((p) => p.result!);

/** Same instances in the same order: classes, scores, boxes (to `boxTol` px). */
function expectSameInstances(a: Detection[], b: Detection[], what: string, boxTol = 1e-3): void {
  expect(a.length, `${what}: instance count`).toBe(b.length);
  a.forEach((d, i) => {
    expect(d.classIndex, `${what} #${i}: class`).toBe(b[i]!.classIndex);
    expect(Math.abs(d.score - b[i]!.score), `${what} #${i}: score`).toBeLessThan(1e-5);
    d.box.forEach((v, k) => expect(Math.abs(v - b[i]!.box[k]!), `${what} #${i}: box`).toBeLessThanOrEqual(boxTol));
  });
}

/** The same instances on two paths: count and classes equal, matched boxes IoU ≥ 0.99 (rows of equal scores may come in another order). */
function expectPathParity(gpu: Detection[], cpu: Detection[], what: string): void {
  expect(gpu.length, `${what}: instances on wasm+gpu vs wasm`).toBe(cpu.length);
  const used = new Set<number>();
  for (const g of gpu) {
    const j = cpu.findIndex((c, k) => !used.has(k) && c.classIndex === g.classIndex && Math.abs(c.score - g.score) < 1e-5 && boxIou(c.box, g.box) >= 0.99);
    expect(j, `${what}: a wasm+gpu instance (class ${g.classIndex}, score ${g.score}) has no match on wasm`).toBeGreaterThanOrEqual(0);
    used.add(j);
  }
}

test('every YOLO-seg export layout: recognised with its names, same instances on wasm+gpu and wasm, transposed and dynamic = nc80', async ({ page }) => {
  test.setTimeout(900_000);
  // Pane 1 keeps a bundled model; each dropped file opens a pane of its own (6 at most).
  await openApp(page, { path: 'wasm+gpu', panes: '1' });
  const idOf = {} as Record<Layout, string>;
  for (const layout of LAYOUTS) idOf[layout] = await addModel(page, FILES[layout]);
  const state = await getState(page);
  expect(state.classNamesRequest, 'no class-names dialog: the files carry Ultralytics names').toBeNull();
  expect(state.panes.map((p) => p.modelId)).toEqual([state.panes[0]!.modelId, ...LAYOUTS.map((l) => idOf[l])]);
  for (const l of LAYOUTS) expect(state.savedModels.find((m) => m.id === idOf[l])!.classes, l).toBe(80);

  // What the pane says about each file: the dynamic one's chosen size also in a notice when it was added.
  // (an info notice fades: read from the notice log)
  expect(state.noticeLog.map((n) => n.text)).toContain(
    'yoloseg-tiny-dynamic-nc80: dynamic input [batch, 3, height, width]: runs at 320x320 (imgsz metadata 320, a multiple of the stride; stride 32 from the metadata).',
  );

  const title = (l: Layout) =>
    pane(page, 1 + LAYOUTS.indexOf(l))
      .getByTestId(ids.modelPicker)
      .getAttribute('title');
  expect(await title('transposed')).toMatch(/output0 transposed \[1, N, 4\+nc\+32\]/);
  expect(await title('dynamic')).toMatch(
    /dynamic input \[batch, 3, height, width\]: runs at 320x320 \(imgsz metadata 320, a multiple of the stride; stride 32 from the metadata\)/,
  );
  expect(await title('fp16')).toMatch(/float16 input and outputs/);
  expect(await title('e2e')).toMatch(/end-to-end export, NMS in the graph/);

  for (const l of LAYOUTS) if (l !== 'e2e') await setNumberInput(pane(page, 1 + LAYOUTS.indexOf(l)).getByTestId(ids.topK), TOP_K);
  const image = smallSample();
  await openImageAndWait(page, image);
  const onGpu = await results(page);
  const byLayout = (rs: FrameResult[], l: Layout) => rs[1 + LAYOUTS.indexOf(l)]!;
  for (const l of LAYOUTS) {
    const r = byLayout(onGpu, l);
    expect(r.path, l).toBe('wasm+gpu');
    expect(r.detections.length, `${l}: instances`).toBeGreaterThan(0);
    expect(r.imageWidth).toBe(160);
  }
  // COCO names from the files' metadata, not placeholders.
  const classes = await pane(page, 1)
    .getByTestId(ids.instanceRow)
    .evaluateAll((rs) => rs.map((r) => r.getAttribute('data-class')));
  expect(classes.length).toBeGreaterThan(0);
  for (const c of classes) expect(c).not.toMatch(/^class\d+$/);
  expect(COCO_SOME.some((c) => classes.includes(c)) || classes.every((c) => (c ?? '').length > 0)).toBe(true);

  expectSameInstances(byLayout(onGpu, 'transposed').detections, byLayout(onGpu, 'nc80').detections, 'transposed vs nc80 (wasm+gpu)');
  expectSameInstances(byLayout(onGpu, 'dynamic').detections, byLayout(onGpu, 'nc80').detections, 'dynamic vs nc80 (wasm+gpu)');
  expect(byLayout(onGpu, 'e2e').detections.length).toBeLessThanOrEqual(300);

  // The same panes on 'wasm' (ORT wasm + the TypeScript references).
  for (const l of LAYOUTS)
    await pane(page, 1 + LAYOUTS.indexOf(l))
      .getByTestId(ids.pathPicker)
      .selectOption('wasm');
  await openImageAndWait(page, image);
  const onCpu = await results(page);
  for (const l of LAYOUTS) {
    expect(byLayout(onCpu, l).path, l).toBe('wasm');
    expectPathParity(byLayout(onGpu, l).detections, byLayout(onCpu, l).detections, l);
  }
  expectSameInstances(byLayout(onCpu, 'transposed').detections, byLayout(onCpu, 'nc80').detections, 'transposed vs nc80 (wasm)');
  expectSameInstances(byLayout(onCpu, 'dynamic').detections, byLayout(onCpu, 'nc80').detections, 'dynamic vs nc80 (wasm)');
  const fp16 = byLayout(onCpu, 'fp16').detections;
  const nc80 = byLayout(onCpu, 'nc80').detections;
  console.log(
    `instances (wasm+gpu = wasm): ${LAYOUTS.map((l) => `${l} ${byLayout(onCpu, l).detections.length}`).join(', ')}; ` +
      `fp16 vs nc80: ${fp16.filter((d) => nc80.some((e) => e.classIndex === d.classIndex && boxIou(e.box, d.box) > 0.9)).length} of ${fp16.length} matched at box IoU > 0.9`,
  );
});

/** Waits until every pane is `done` with a result of the current frame, or `error`. */
async function waitForSettled(page: Page, timeout = 480_000): Promise<void> {
  await page.waitForFunction(
    () => {
      const s = (
        window as unknown as { __segarena: { getState(): { source: { frameId: number }; panes: Array<{ status: string; resultFrameId: number }> } } }
      ).__segarena.getState();
      return s.panes.every((p) => p.status === 'error' || (p.status === 'done' && p.resultFrameId === s.source.frameId));
    },
    null,
    { timeout, polling: 500 },
  );
}

test("on 'webgpu': the transposed export = nc80; the fp16 export is refused with a message naming the paths that run it, then runs on 'wasm+gpu'", async ({
  page,
}) => {
  test.setTimeout(900_000);
  await openApp(page, { path: 'webgpu', panes: '1' });
  const ids3 = [] as string[];
  for (const l of ['nc80', 'transposed', 'fp16'] as const) ids3.push(await addModel(page, FILES[l]));
  // Only the dropped models: the bundled pane would cost minutes on SwiftShader.
  await pane(page, 0).getByTestId(ids.removePane).click();
  await expect.poll(async () => (await getState(page)).panes.map((p) => p.modelId)).toEqual(ids3);
  for (const i of [0, 1, 2]) await setNumberInput(pane(page, i).getByTestId(ids.topK), TOP_K);
  await page.evaluate(
    ({ base64, zoneId }) => {
      const binary = atob(base64);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'small.png', { type: 'image/png' }));
      const zone = document.querySelector(`[data-testid="${zoneId}"]`)!;
      for (const type of ['dragenter', 'dragover', 'drop'])
        zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
    },
    { base64: smallSample().buffer.toString('base64'), zoneId: ids.dropZone },
  );
  await waitForSettled(page);
  const s = await getState(page);
  const [nc80, transposed, fp16] = s.panes;
  expect([nc80!.status, transposed!.status]).toEqual(['done', 'done']);
  expect(nc80!.result!.path).toBe('webgpu');
  expect(transposed!.result!.path).toBe('webgpu');
  expect(nc80!.result!.detections.length).toBeGreaterThan(0);
  expectSameInstances(transposed!.result!.detections, nc80!.result!.detections, 'transposed vs nc80 (webgpu)');

  // The fp16 pane: an error that says why and what to do; the other panes are untouched.
  expect(fp16!.status).toBe('error');
  const f16 = s.webgpu && (await page.evaluate(async () => (await navigator.gpu.requestAdapter())?.features.has('shader-f16') ?? false));
  const why = f16 ? "the 'webgpu' path feeds the model a float32 image" : "ORT's WebGPU backend needs the GPU feature shader-f16";
  const notice = page.locator(`[data-testid="${ids.notice}"][data-kind="error"]`).filter({ hasText: 'is a float16 export' });
  await expect(notice).toBeVisible();
  await expect(notice).toContainText("runs on the 'wasm+gpu' and 'wasm' paths here, not on 'webgpu'");
  await expect(notice).toContainText(why);
  console.log(`fp16 on webgpu (adapter ${s.adapterName}, shader-f16 ${f16}): ${(await notice.innerText()).slice(0, 240)}`);

  // Picking 'wasm+gpu' for that pane runs it.
  await pane(page, 2).getByTestId(ids.pathPicker).selectOption('wasm+gpu');
  await expect.poll(async () => (await getState(page)).panes[2]!.status, { timeout: 240_000 }).toBe('done');
  const after = (await getState(page)).panes[2]!;
  expect(after.result!.path).toBe('wasm+gpu');
  expect(after.result!.detections.length).toBeGreaterThan(0);
});
