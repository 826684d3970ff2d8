import { test, expect, type Page } from '@playwright/test';
import {
  armDoneWatch,
  dropAndWait,
  getState,
  ids,
  instanceCount,
  jpegSize,
  testModel,
  openApp,
  pane,
  readInstances,
  rerun,
  sampleFile,
  sampleNames,
  setNumberInput,
  waitForPanesDone,
  collectPageErrors,
  ensureInstances,
  pasteFile,
  type Instance,
} from './helpers';

/**
 * One pane on still images, on the 'wasm+gpu' path (ORT wasm EP + our WGSL
 * post-processing; fast on SwiftShader). One page for the whole file: each test brings its
 * own image or setting and waits for a fresh result.
 */

let page: Page;
let pageErrors: string[];

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  pageErrors = collectPageErrors(page);
  await openApp(page, { path: 'wasm+gpu', model: testModel().id });
});

test.afterAll(async () => {
  await page?.close();
});

function classNameOf(classIndex: number): string {
  return testModel().classes[classIndex]!;
}

/** Checks what the instance list says against the image and the model's classes. */
async function checkInstances(instances: Instance[], image: { width: number; height: number }) {
  const model = testModel();
  const threshold = (await getState(page)).panes[0]!.settings.scoreThreshold;
  expect(instances.length, 'instances found').toBeGreaterThan(0);
  expect(await instanceCount(pane(page, 0))).toBe(instances.length);
  for (const inst of instances) {
    expect(model.classes, 'class name from the manifest').toContain(inst.cls);
    expect(inst.score).toBeGreaterThanOrEqual(threshold - 0.005); // data-score is rounded to 0.xx
    expect(inst.score).toBeLessThanOrEqual(1);
    const [x1, y1, x2, y2] = inst.box;
    expect(x1).toBeGreaterThanOrEqual(0);
    expect(y1).toBeGreaterThanOrEqual(0);
    expect(x2).toBeLessThanOrEqual(image.width + 0.5);
    expect(y2).toBeLessThanOrEqual(image.height + 0.5);
    expect(x2).toBeGreaterThan(x1);
    expect(y2).toBeGreaterThan(y1);
  }
  const scores = instances.map((i) => i.score);
  expect(scores, 'rows sorted by score').toEqual([...scores].sort((a, b) => b - a));
}

test('a dropped image is segmented: rows, count, classes, boxes in image pixels', async () => {
  const file = sampleFile(0);
  const size = jpegSize(file.buffer);
  await dropAndWait(page, file);
  // Should the app run the pane again (e.g. after a GPU device loss and recovery), read
  // rows and state once it is done again; the notices say why.
  await expect
    .poll(
      async () => {
        const s = await getState(page);
        return s.panes[0]!.status === 'done' ? 'done' : `${s.panes[0]!.status} ${JSON.stringify(s.notices)}`;
      },
      { timeout: 120_000 },
    )
    .toBe('done');
  const instances = await readInstances(pane(page, 0));
  await checkInstances(instances, size);

  const state = await getState(page);
  expect(state.source.kind).toBe('image');
  expect(state.source.width).toBe(size.width);
  expect(state.source.height).toBe(size.height);
  const p0 = state.panes[0]!;
  expect(p0.status).toBe('done');
  expect(p0.activePath).toBe('wasm+gpu');
  expect(p0.result?.imageWidth).toBe(size.width);
  expect(p0.result?.detections.length).toBe(instances.length);
  // The hook's detections and the rows agree (class, box to within rounding).
  const model = testModel();
  p0.result!.detections.forEach((d, i) => {
    expect(model.classes[d.classIndex]).toBe(instances[i]!.cls);
    d.box.forEach((v, k) => expect(Math.abs(v - instances[i]!.box[k]!)).toBeLessThan(1.01));
    expect(d.maskArea, 'mask pixels').toBeGreaterThan(0);
  });
  await expect(pane(page, 0).getByTestId(ids.pathBadge)).toContainText('wasm+gpu');
  await expect(pane(page, 0).getByTestId(ids.stageTimings)).toContainText(/\d/);
  expect(pageErrors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
});

test('an image opened with the file input is segmented', async () => {
  const file = sampleFile(1);
  const size = jpegSize(file.buffer);
  await expect(page.getByRole('button', { name: /open image/i })).toBeVisible();
  await armDoneWatch(page);
  await page.getByTestId(ids.imageInput).setInputFiles(file);
  await waitForPanesDone(page);
  const state = await getState(page);
  expect(state.source.name).toContain(file.name);
  expect(state.source.width).toBe(size.width);
  await ensureInstances(page, 0, 1);
  await checkInstances(await readInstances(pane(page, 0)), size);
});

test('a pasted image is segmented', async () => {
  const file = sampleFile(2);
  await armDoneWatch(page);
  await pasteFile(page, file);
  await waitForPanesDone(page);
  const state = await getState(page);
  expect(state.source.kind).toBe('image');
  expect(state.source.width).toBe(jpegSize(file.buffer).width);
  expect(state.source.height).toBe(jpegSize(file.buffer).height);
  expect(state.panes[0]!.result).not.toBeNull();
});

test('the sample picker lists the samples and runs the chosen one', async () => {
  const picker = page.getByTestId(ids.samplePicker);
  const options = await picker.locator('option').evaluateAll((os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, text: o.textContent ?? '' })));
  const names = sampleNames();
  for (const name of names) {
    expect(
      options.some((o) => o.value.includes(name) || o.text.includes(name.replace(/\.jpe?g$/i, ''))),
      `sample ${name} listed`,
    ).toBe(true);
  }
  const target = names[names.length - 1]!;
  const option = options.find((o) => o.value.includes(target) || o.text.includes(target.replace(/\.jpe?g$/i, '')))!;
  await rerun(page, () => picker.selectOption(option.value).then(() => undefined));
  const state = await getState(page);
  expect(state.source.name).toContain(target.replace(/\.jpe?g$/i, ''));
  await ensureInstances(page, 0, 1);
});

test('hovering a row highlights the instance and shows its details', async () => {
  await dropAndWait(page, sampleFile(0));
  await ensureInstances(page, 0, 2);
  const rows = pane(page, 0).getByTestId(ids.instanceRow);
  const first = (await readInstances(pane(page, 0)))[0]!;
  await rows.first().hover();
  const details = pane(page, 0).getByTestId(ids.instanceDetails);
  await expect(details).toBeVisible();
  await expect(details).toContainText(first.cls);
  await expect.poll(async () => (await getState(page)).panes[0]!.highlight).toBe(0);
  if ((await rows.count()) > 1) {
    const second = (await readInstances(pane(page, 0)))[1]!;
    await rows.nth(1).hover();
    await expect.poll(async () => (await getState(page)).panes[0]!.highlight).toBe(1);
    await expect(details).toContainText(second.cls);
  }
});

test('hovering an instance on the canvas highlights it and shows its details', async () => {
  await dropAndWait(page, sampleFile(0));
  await ensureInstances(page, 0, 1);
  const p = pane(page, 0);
  const instances = await readInstances(p);
  const state = await getState(page);
  const { imageWidth, imageHeight } = state.panes[0]!.result!;
  // The smallest box: its centre is least likely to be under another instance.
  const area = (i: Instance) => (i.box[2] - i.box[0]) * (i.box[3] - i.box[1]);
  const target = [...instances].sort((a, b) => area(a) - area(b))[0]!;
  const canvas = p.getByTestId(ids.overlay).locator('canvas').last();
  // The page is shared by this file's tests: an earlier one may have left it scrolled past
  // the overlay (a click low on the page), and the mouse only reaches what is in view.
  await canvas.scrollIntoViewIfNeeded();
  const rect = (await canvas.boundingBox())!;
  expect(rect.width / rect.height).toBeCloseTo(imageWidth / imageHeight, 1);
  const cx = ((target.box[0] + target.box[2]) / 2) * (rect.width / imageWidth);
  const cy = ((target.box[1] + target.box[3]) / 2) * (rect.height / imageHeight);
  await page.mouse.move(rect.x + 2, rect.y + 2);
  await page.mouse.move(rect.x + cx, rect.y + cy, { steps: 4 });
  await expect.poll(async () => (await getState(page)).panes[0]!.highlight).not.toBeNull();
  const hi = (await getState(page)).panes[0]!.highlight!;
  const hovered = (await getState(page)).panes[0]!.result!.detections[hi]!;
  // The highlighted instance's box contains the pointer.
  const [x, y] = [(target.box[0] + target.box[2]) / 2, (target.box[1] + target.box[3]) / 2];
  expect(x >= hovered.box[0] - 1 && x <= hovered.box[2] + 1 && y >= hovered.box[1] - 1 && y <= hovered.box[3] + 1).toBe(true);
  await expect(p.getByTestId(ids.instanceDetails)).toContainText(classNameOf(hovered.classIndex));
  await page.mouse.move(rect.x + rect.width + 50, rect.y - 50);
});

test('hiding a class removes its rows and its shapes; showing it brings them back', async () => {
  await dropAndWait(page, sampleFile(0));
  await ensureInstances(page, 0, 2);
  const p = pane(page, 0);
  const before = await readInstances(p);
  const cls = before[0]!.cls;
  const toggle = p.locator(`[data-testid="${ids.classToggle}"][data-class="${cls}"]`);
  const overlayBefore = await p.getByTestId(ids.overlay).screenshot();
  await toggle.click();
  await expect.poll(async () => (await readInstances(p)).filter((i) => i.cls === cls).length).toBe(0);
  const after = await readInstances(p);
  expect(after.length).toBe(before.filter((i) => i.cls !== cls).length);
  await expect.poll(async () => (await getState(page)).panes[0]!.hiddenClasses.length).toBe(1);
  // The canvas changed too (mask, box and label of the hidden class are gone).
  await expect.poll(async () => (await p.getByTestId(ids.overlay).screenshot()).equals(overlayBefore), { timeout: 20_000 }).toBe(false);
  await toggle.click();
  await expect.poll(async () => (await readInstances(p)).length).toBe(before.length);
});

test('switching NMS between fast and greedy re-runs; greedy keeps at least what fast keeps', async () => {
  await dropAndWait(page, sampleFile(0));
  await ensureInstances(page, 0, 2);
  const p = pane(page, 0);
  const kind = p.getByTestId(ids.nmsKind);
  await expect(kind).toHaveValue('fast');
  const fast = await readInstances(p);

  await rerun(page, () => kind.selectOption('greedy').then(() => undefined));
  expect((await getState(page)).panes[0]!.settings.nmsKind).toBe('greedy');
  const greedy = await readInstances(p);
  // Fast NMS lets already-suppressed boxes suppress others, so per class its kept set is a
  // subset of greedy NMS's; with the same score threshold and cap, greedy keeps at least as many.
  expect(greedy.length).toBeGreaterThanOrEqual(fast.length);

  await rerun(page, () => kind.selectOption('fast').then(() => undefined));
  expect((await getState(page)).panes[0]!.settings.nmsKind).toBe('fast');
  const fastAgain = await readInstances(p);
  expect(fastAgain.map((i) => i.cls)).toEqual(fast.map((i) => i.cls));
});

test('raising the score threshold drops low-scoring instances', async () => {
  await dropAndWait(page, sampleFile(0));
  await ensureInstances(page, 0, 2);
  const p = pane(page, 0);
  const before = await readInstances(p);
  const threshold = (await getState(page)).panes[0]!.settings.scoreThreshold;
  const high = Math.min(0.95, Math.max(...before.map((i) => i.score)) - 0.01);
  await setNumberInput(p.getByTestId(ids.scoreThreshold), high);
  await expect.poll(async () => (await getState(page)).panes[0]!.settings.scoreThreshold).toBeCloseTo(high, 2);
  await expect.poll(async () => (await readInstances(p)).every((i) => i.score >= high - 0.005)).toBe(true);
  const after = await readInstances(p);
  // Rows show scores rounded to 0.xx: count within that rounding.
  expect(after.length).toBeGreaterThanOrEqual(before.filter((i) => i.score >= high + 0.006).length);
  expect(after.length).toBeLessThanOrEqual(before.filter((i) => i.score >= high - 0.006).length);
  expect(after.length).toBeGreaterThan(0);
  await setNumberInput(p.getByTestId(ids.scoreThreshold), threshold);
  await expect.poll(async () => (await readInstances(p)).length).toBe(before.length);
});
