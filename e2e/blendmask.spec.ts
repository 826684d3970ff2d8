import { test, expect } from '@playwright/test';
import type { Detection } from '../app/types';
import {
  boxIou,
  bundledManifests,
  dropAndWait,
  ensureWeakInstances,
  getState,
  ids,
  openApp,
  pane,
  rerun,
  sampleFile,
  screenshot,
  selectModel,
  setNumberInput,
} from './helpers';

/**
 * BlendMask and B2Inst (FCOS detector with bases and attentions → our FCOS decode, NMS, the
 * blender in WGSL; B2Inst: RoIAlign of the bases + boundary map → its scoring head ONNX →
 * rescoring by √(S_IoU·S_boundary)) side by side on one image: their stages in the panes and
 * the table, B2Inst's ranking control, its (S_IoU, S_boundary) on hover, its boundary basis
 * as an overlay; and the three paths giving the same instances.
 *
 * The bundled weights were trained on CPU for under an hour: when a pane finds nothing at the
 * default threshold, the threshold goes down to WEAK (the decode's candidate test follows it).
 */

const BLENDMASK = 'blendmask-512';
const B2INST = 'b2inst-512';
const WEAK = 0.05;
const TIMEOUT = 300_000;

/** Each instance of `a` matched to one of `b` by class and box IoU ≥ 0.99 (near-tied scores may swap ranks). */
function matchInstances(a: readonly Detection[], b: readonly Detection[]): Array<[Detection, Detection]> {
  const used = new Set<number>();
  const pairs: Array<[Detection, Detection]> = [];
  for (const d of a) {
    let best = -1;
    let bestIou = 0;
    b.forEach((e, j) => {
      if (used.has(j) || e.classIndex !== d.classIndex) return;
      const iou = boxIou(d.box, e.box);
      if (iou > bestIou) [best, bestIou] = [j, iou];
    });
    if (best < 0 || bestIou < 0.99) continue;
    used.add(best);
    pairs.push([d, b[best]!]);
  }
  return pairs;
}

test('BlendMask beside B2Inst on wasm+gpu: both segment, their stages, the ranking control, S_IoU / S_boundary on hover, the boundary basis overlay', async ({
  page,
}) => {
  test.setTimeout(3 * TIMEOUT);
  expect(bundledManifests().map((m) => m.id)).toEqual(expect.arrayContaining([BLENDMASK, B2INST]));
  await openApp(page, { path: 'wasm+gpu', panes: '2', model: BLENDMASK });
  await dropAndWait(page, sampleFile(0), TIMEOUT);
  await selectModel(page, 1, B2INST, TIMEOUT);
  for (const i of [0, 1]) await ensureWeakInstances(page, i, WEAK, TIMEOUT);

  const state = await getState(page);
  expect(state.panes.map((p) => p.modelId)).toEqual([BLENDMASK, B2INST]);
  expect(state.panes.map((p) => p.activePath)).toEqual(['wasm+gpu', 'wasm+gpu']);
  const [blend, b2] = [state.panes[0]!.result!, state.panes[1]!.result!];
  // BlendMask: one ONNX part, then decode, NMS and the blender + paste ('masks'); no heads.
  for (const key of ['inference', 'decode', 'nms', 'masks'] as const) expect(blend.timings[key], `BlendMask ${key}`).toBeGreaterThan(0);
  expect(blend.timings.heads).toBeUndefined();
  // B2Inst: also the scoring inputs ('roi') and the scoring head ('heads').
  for (const key of ['inference', 'decode', 'nms', 'roi', 'heads', 'masks'] as const) expect(b2.timings[key], `B2Inst ${key}`).toBeGreaterThan(0);
  // The CPU scoring head needs its input back on 'wasm+gpu': M·(2 + 5)·56² f32, counted.
  expect(b2.bytesReadBack).toBeGreaterThan(4 * 7 * 56 * 56);
  const rows = page.getByTestId(ids.metricsTable).getByTestId('metrics-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1).locator('td[data-stage="heads"]')).toHaveText(/^\d/);
  await expect(rows.nth(0).locator('td[data-stage="heads"]')).toHaveText('–');

  // Per-instance qualities: B2Inst's only, in (0, 1) (sigmoid outputs).
  expect(blend.detections.every((d) => d.qualities === undefined)).toBe(true);
  for (const d of b2.detections) {
    expect(Object.keys(d.qualities ?? {})).toEqual(['S_IoU', 'S_boundary']);
    for (const v of Object.values(d.qualities!)) expect(v > 0 && v < 1).toBe(true);
  }
  const p1 = pane(page, 1);
  await p1.getByTestId(ids.instanceRow).first().hover();
  await expect(p1.getByTestId('instance-qualities')).toHaveText(/· S_IoU 0\.\d{3} · S_boundary 0\.\d{3}/);
  await expect(p1.getByTestId(ids.instanceRow).first()).toHaveAttribute('data-qualities', /^S_IoU=0\.\d{3},S_boundary=0\.\d{3}$/);

  // The ranking control: B2Inst only; by default the boundary-aware score. Ranking by the
  // class score gives the same boxes; each boundary-aware score is that class score · √(S_IoU · S_boundary).
  await expect(pane(page, 0).getByTestId(ids.ranking)).toHaveCount(0);
  const ranking = p1.getByTestId(ids.ranking);
  await expect(ranking).toHaveValue('quality');
  await expect(ranking.locator('option')).toHaveText(['boundary-aware score', 'class score']);
  await rerun(page, async () => void (await ranking.selectOption('class')), { panes: [1], timeout: TIMEOUT });
  const plain = (await getState(page)).panes[1]!.result!.detections;
  const pairs = matchInstances(b2.detections, plain);
  console.log(`B2Inst: ${b2.detections.length} instances ranked by the boundary-aware score, ${plain.length} by the class score, ${pairs.length} matched`);
  expect(pairs.length).toBeGreaterThan(0);
  for (const [q, c] of pairs) expect(Math.abs(q.score - c.score * Math.sqrt(q.qualities!.S_IoU! * q.qualities!.S_boundary!))).toBeLessThan(2e-3);
  await rerun(page, async () => void (await ranking.selectOption('quality')), { panes: [1], timeout: TIMEOUT });

  // The boundary basis: a toggle on B2Inst's pane only; drawn over the frame with a caption.
  await expect(pane(page, 0).getByTestId('show-auxiliary-map')).toHaveCount(0);
  await rerun(page, () => p1.getByTestId('show-auxiliary-map').check(), { panes: [1], timeout: TIMEOUT });
  await expect(p1.getByTestId('auxiliary-map-note')).toHaveText(/^boundary basis 128×128 · \d+\.\d% of cells ≥ 0\.5$/);
  const shown = (await getState(page)).panes[1]!.result!;
  expect(shown.auxiliaryMap).toBeDefined();
  await screenshot(page, 'blendmask-beside-b2inst');
  await rerun(page, () => p1.getByTestId('show-auxiliary-map').uncheck(), { panes: [1], timeout: TIMEOUT });
  await expect(p1.getByTestId('auxiliary-map-note')).toHaveCount(0);
  expect((await getState(page)).panes.map((p) => p.status)).not.toContain('error');
});

test('B2Inst on webgpu, wasm+gpu and wasm: the same instances, scores and qualities', async ({ page }) => {
  test.setTimeout(4 * TIMEOUT);
  await openApp(page, { path: 'wasm+gpu', panes: '3', model: B2INST });
  await pane(page, 1).getByTestId(ids.pathPicker).selectOption('wasm');
  await pane(page, 2).getByTestId(ids.pathPicker).selectOption('webgpu');
  // A low threshold on all three, so that the comparison has many instances (near-tied scores included).
  for (const i of [0, 1, 2]) await setNumberInput(pane(page, i).getByTestId(ids.scoreThreshold), WEAK);
  await expect.poll(async () => (await getState(page)).panes.map((p) => p.settings.scoreThreshold)).toEqual([WEAK, WEAK, WEAK]);
  await dropAndWait(page, sampleFile(1), 2 * TIMEOUT);
  const state = await getState(page);
  expect(state.panes.map((p) => p.activePath)).toEqual(['wasm+gpu', 'wasm', 'webgpu']);
  const [gpu, cpu, webgpu] = state.panes.map((p) => p.result!);
  expect(cpu!.bytesReadBack).toBe(0);
  expect(gpu!.detections.length).toBeGreaterThanOrEqual(5);
  for (const [name, other] of [
    ['wasm', cpu!],
    ['webgpu', webgpu!],
  ] as const) {
    const pairs = matchInstances(gpu!.detections, other.detections);
    let maxArea = 0;
    for (const [a, b] of pairs) {
      expect(Math.abs(a.score - b.score), `${name} score`).toBeLessThanOrEqual(2e-3);
      for (const k of ['S_IoU', 'S_boundary']) expect(Math.abs(a.qualities![k]! - b.qualities![k]!), `${name} ${k}`).toBeLessThanOrEqual(2e-3);
      maxArea = Math.max(maxArea, Math.abs(a.maskArea - b.maskArea) / Math.max(1, b.maskArea));
    }
    const summary = `B2Inst wasm+gpu ${gpu!.detections.length} vs ${name} ${other.detections.length} instances, ${pairs.length} matched, max rel. mask-area diff ${maxArea.toFixed(4)}`;
    console.log(summary);
    test.info().annotations.push({ type: 'parity', description: summary });
    expect(other.detections.length).toBe(gpu!.detections.length);
    expect(pairs.length).toBeGreaterThanOrEqual(gpu!.detections.length - 2);
    expect(maxArea).toBeLessThanOrEqual(0.02);
  }
});
