import { describe, expect, it } from 'vitest';
import type { PaneEvaluation, PaneState } from '../state/store';
import type { FrameResult, RecordedAccuracy } from '../types';
import {
  describePlot,
  dominates,
  linearScale,
  niceStep,
  paneFigures,
  paretoFront,
  plotLabels,
  plotLayout,
  shortModelName,
  stepDecimals,
  zeroBasedAxis,
  type PaneFigures,
} from './pareto';

function fig(index: number, timeMs: number | null, ap: number | null, over: Partial<PaneFigures> = {}): PaneFigures {
  return {
    key: index + 10,
    index,
    modelId: `m${index}`,
    modelName: `Model ${index}`,
    path: 'wasm',
    timeMs,
    ap,
    apSource: ap === null ? null : 'recorded',
    apDetail: ap === null ? 'no accuracy' : 'recorded on 300 val images',
    ...over,
  };
}

const indices = (ps: PaneFigures[]) => ps.map((p) => p.index);

describe('paretoFront', () => {
  it('is empty for no points and keeps a single point', () => {
    expect(paretoFront([])).toEqual([]);
    expect(indices(paretoFront([fig(0, 120, 0.3)]))).toEqual([0]);
  });

  it('drops a point beaten in both time and AP, keeps the trade-offs, fastest first', () => {
    const points = [fig(0, 300, 0.4), fig(1, 100, 0.2), fig(2, 350, 0.35), fig(3, 200, 0.3)];
    // 2 is slower and less accurate than 0; 1, 3, 0 trade speed for accuracy.
    expect(indices(paretoFront(points))).toEqual([1, 3, 0]);
  });

  it('drops a point equal in one figure and worse in the other', () => {
    expect(indices(paretoFront([fig(0, 100, 0.3), fig(1, 100, 0.2)]))).toEqual([0]);
    expect(indices(paretoFront([fig(0, 100, 0.3), fig(1, 150, 0.3)]))).toEqual([0]);
  });

  it('keeps both of two equal points (neither beats the other), in input order', () => {
    expect(indices(paretoFront([fig(0, 100, 0.3), fig(1, 100, 0.3), fig(2, 90, 0.1)]))).toEqual([2, 0, 1]);
  });

  it('leaves out points without an AP or without a time: they neither join nor beat the front', () => {
    const points = [fig(0, 50, null), fig(1, 200, 0.3), fig(2, null, 0.9), fig(3, 100, 0.2)];
    expect(indices(paretoFront(points))).toEqual([3, 1]);
    expect(paretoFront([fig(0, 50, null), fig(1, null, 0.5)])).toEqual([]);
  });

  it('one point beating all others is the whole front', () => {
    expect(indices(paretoFront([fig(0, 400, 0.1), fig(1, 50, 0.5), fig(2, 60, 0.4), fig(3, 50, 0.45)]))).toEqual([1]);
  });

  it('dominates: at least as good in both, better in one', () => {
    expect(dominates({ timeMs: 1, ap: 0.5 }, { timeMs: 2, ap: 0.4 })).toBe(true);
    expect(dominates({ timeMs: 1, ap: 0.5 }, { timeMs: 1, ap: 0.4 })).toBe(true);
    expect(dominates({ timeMs: 1, ap: 0.5 }, { timeMs: 1, ap: 0.5 })).toBe(false);
    expect(dominates({ timeMs: 1, ap: 0.3 }, { timeMs: 2, ap: 0.4 })).toBe(false);
  });
});

describe('axis maths', () => {
  it('niceStep: 1, 2 or 5 × 10^k, at most maxTicks intervals', () => {
    expect(niceStep(1, 10)).toBeCloseTo(0.1, 12);
    expect(niceStep(0.7, 5)).toBeCloseTo(0.2, 12);
    expect(niceStep(450, 5)).toBe(100);
    expect(niceStep(1200, 6)).toBe(200);
    expect(niceStep(1300, 6)).toBe(500);
    expect(niceStep(0, 5)).toBe(1);
    for (const span of [0.037, 0.45, 3, 77, 1234, 98765]) {
      const step = niceStep(span, 5);
      expect(span / step).toBeLessThanOrEqual(5 + 1e-9);
      const norm = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
      expect([1, 2, 5].some((f) => Math.abs(norm - f) < 1e-9)).toBe(true);
    }
  });

  it('stepDecimals: enough to write every tick exactly', () => {
    expect(stepDecimals(0.05)).toBe(2);
    expect(stepDecimals(0.1)).toBe(1);
    expect(stepDecimals(0.2)).toBe(1);
    expect(stepDecimals(200)).toBe(0);
  });

  it('zeroBasedAxis: from 0 to a round number above the data, ticks without float noise', () => {
    const t = zeroBasedAxis(312, { maxTicks: 6 });
    expect(t.ticks).toEqual([0, 100, 200, 300, 400]);
    expect(t.labels).toEqual(['0', '100', '200', '300', '400']);
    const ap = zeroBasedAxis(0.406, { maxTicks: 5, headroom: 0.12, cap: 1 });
    expect(ap.labels).toEqual(['0.0', '0.1', '0.2', '0.3', '0.4', '0.5']);
    expect(ap.ticks[3]).toBe(0.3); // not 0.30000000000000004
    const small = zeroBasedAxis(0.031, { maxTicks: 5, headroom: 0.12, cap: 1 });
    expect(small.max).toBeGreaterThan(0.031);
    expect(small.labels.at(-1)).toBe('0.04');
  });

  it('zeroBasedAxis: the AP axis stops at 1; no data gives the fallback', () => {
    expect(zeroBasedAxis(0.97, { cap: 1, headroom: 0.12 }).max).toBe(1);
    expect(zeroBasedAxis(0, { fallbackMax: 100 }).max).toBe(100);
    expect(zeroBasedAxis(Number.NaN, { fallbackMax: 1 }).max).toBe(1);
  });

  it('every axis covers its data and has at most maxTicks intervals', () => {
    for (const v of [0.5, 3.3, 9.9, 10, 57, 99, 101, 312, 999, 1234.5, 5000, 77777]) {
      const a = zeroBasedAxis(v, { maxTicks: 6 });
      expect(a.max).toBeGreaterThanOrEqual(v);
      expect(a.ticks.length - 1).toBeLessThanOrEqual(6);
      expect(a.ticks.length - 1).toBeGreaterThanOrEqual(2);
    }
  });

  it('linearScale maps the domain onto the range, y growing upwards', () => {
    const sx = linearScale(0, 400, 58, 580);
    expect(sx(0)).toBe(58);
    expect(sx(400)).toBe(580);
    expect(sx(200)).toBe(319);
    const sy = linearScale(0, 0.5, 294, 44);
    expect(sy(0.5)).toBe(44);
    expect(sy(0.25)).toBe(169);
    expect(linearScale(3, 3, 0, 10)(3)).toBe(5);
  });
});

describe('plotLayout', () => {
  it('places each point at its time and AP on the axes, marks the front, draws its staircase', () => {
    const layout = plotLayout([fig(0, 300, 0.4), fig(1, 100, 0.2), fig(2, 350, 0.35)]);
    const { area } = layout;
    expect(layout.x.ticks).toEqual([0, 100, 200, 300, 400]);
    const p1 = layout.points.find((p) => p.index === 1)!;
    expect(p1.cx).toBeCloseTo(area.left + (area.right - area.left) / 4, 9);
    expect(p1.cy).toBeCloseTo(area.bottom - (area.bottom - area.top) * (0.2 / layout.y.max), 9);
    expect(layout.points.map((p) => p.onFront)).toEqual([true, true, false]);
    const p0 = layout.points.find((p) => p.index === 0)!;
    expect(layout.frontPath).toEqual([
      [p1.cx, p1.cy],
      [p0.cx, p1.cy],
      [p0.cx, p0.cy],
    ]);
  });

  it('keeps labels inside the plot and apart when points are close', () => {
    const layout = plotLayout([fig(0, 400, 0.3, { modelName: 'A model with a long name' }), fig(1, 395, 0.3), fig(2, 398, 0.301)]);
    const boxes = layout.points.map((p) => {
      const w = p.label.length * 6.2;
      const x0 = p.labelAnchor === 'start' ? p.labelX : p.labelX - w;
      return { x0, x1: x0 + w, y0: p.labelY - 7, y1: p.labelY + 7 };
    });
    for (const b of boxes) {
      expect(b.x0).toBeGreaterThanOrEqual(0);
      expect(b.x1).toBeLessThanOrEqual(layout.width);
    }
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i]!, boxes[j]!];
        expect(a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1, `labels ${i} and ${j} overlap`).toBe(false);
      }
    // Near the right edge a long label goes left of its point; short ones still fit on the right.
    expect(layout.points.map((p) => p.labelAnchor)).toEqual(['end', 'start', 'start']);
  });

  it('a label clears the front line that leaves its point to the right', () => {
    // As seen: the fastest point on the front, far below the next; the staircase runs right from it.
    const layout = plotLayout([fig(1, 8582, 0.031, { modelName: 'YOLO-seg-416' }), fig(2, 18176, 0.406), fig(0, 19576, 0.325)]);
    const segments = layout.frontPath.slice(1).map((b, i) => {
      const a = layout.frontPath[i]!;
      return { x0: Math.min(a[0], b[0]), x1: Math.max(a[0], b[0]), y0: Math.min(a[1], b[1]), y1: Math.max(a[1], b[1]) };
    });
    expect(segments.length).toBe(2);
    for (const p of layout.points) {
      const w = p.label.length * 6.2;
      const box = { x0: p.labelAnchor === 'start' ? p.labelX : p.labelX - w, y0: p.labelY - 7 };
      for (const s of segments) {
        const hit = box.x0 < s.x1 && s.x0 < box.x0 + w && box.y0 < s.y1 && s.y0 < box.y0 + 14;
        expect(hit, `label ${p.label} crosses the front line`).toBe(false);
      }
    }
  });

  it('a label near the right edge goes above its point rather than across the front line on its left', () => {
    // As seen: YOLACT-384 beaten, right of the front's vertical line, too close to the edge for a label on its right.
    const layout = plotLayout([fig(1, 4024, 0.031), fig(2, 12073, 0.406), fig(0, 13376, 0.325, { modelName: 'YOLACT-384' })]);
    const p = layout.points.find((q) => q.index === 0)!;
    const frontX = layout.points.find((q) => q.index === 2)!.cx;
    const w = p.label.length * 6.2;
    const x0 = p.labelAnchor === 'start' ? p.labelX : p.labelX - w;
    expect(x0).toBeGreaterThan(frontX + 1);
    expect(x0 + w).toBeLessThanOrEqual(layout.width);
    expect(p.labelY).toBeLessThan(p.cy);
  });

  it('lists the panes it cannot place: no accuracy, no frame yet', () => {
    const layout = plotLayout([fig(0, 120, null), fig(1, null, 0.3), fig(2, 80, 0.25)]);
    expect(layout.points.map((p) => p.index)).toEqual([2]);
    expect(indices(layout.noAccuracy)).toEqual([0]);
    expect(indices(layout.noTime)).toEqual([1]);
    const text = describePlot(layout);
    expect(text).toContain('No accuracy for Model 0: Evaluate it.');
    expect(text).toContain('No frame yet: Model 1 · wasm.');
    expect(text).toContain('Pareto front');
    expect(text).toContain('Model 2 · wasm: 80.0 ms a frame, mask AP 0.250');
  });

  it('in words: the empty state, then the front fastest first and the points it beats', () => {
    expect(describePlot(plotLayout([]))).toBe('Run a frame to place the panes.');
    expect(describePlot(plotLayout([fig(0, null, 0.3), fig(1, null, null)]))).toBe('Run a frame to place the panes. No accuracy for Model 1: Evaluate it.');
    const text = describePlot(plotLayout([fig(0, 300, 0.4), fig(1, 100, 0.2), fig(2, 350, 0.35)]));
    expect(text.indexOf('Model 1')).toBeLessThan(text.indexOf('Model 0'));
    expect(text).toMatch(/Beaten by a point on the front: Model 2 · wasm: 350 ms a frame, mask AP 0\.350/);
  });
});

describe('labels', () => {
  it('short model names on the plot, full ones where two models would read the same', () => {
    expect(shortModelName('YOLACT-384 (emoji-COCO, MobileNetV2-lite FPN, faster)')).toBe('YOLACT-384');
    expect(shortModelName('my model')).toBe('my model');
    const rcnn = (id: string, how: string) => ({ modelId: id, modelName: `Mask R-CNN 512 (emoji-COCO, ${how})`, path: 'wasm' });
    const yolact = { modelId: 'y', modelName: 'YOLACT-384 (emoji-COCO)', path: 'wasm+gpu' };
    expect(plotLabels([yolact, rcnn('a', 'RoIAlign'), rcnn('p', 'RoIPool'), { ...yolact, path: 'wasm' }])).toEqual([
      'YOLACT-384 · wasm+gpu',
      'Mask R-CNN 512 (emoji-COCO, RoIAlign) · wasm',
      'Mask R-CNN 512 (emoji-COCO, RoIPool) · wasm',
      'YOLACT-384 · wasm',
    ]);
  });
});

describe('paneFigures', () => {
  const result = { timings: { total: 123.5 } } as unknown as FrameResult;
  const record = { maskAP: 0.325, images: 300, split: 'val' } as RecordedAccuracy;
  const evaluation = { modelId: 'y', maskAP: 0.41, images: 4, source: 'samples', path: 'wasm' } as PaneEvaluation;
  const pane = (over: Partial<PaneState>) =>
    ({ key: 7, modelId: 'y', path: 'wasm+gpu', activePath: 'wasm', result, evaluation: null, ...over }) as unknown as PaneState;
  const sources = { modelName: (id: string) => `name of ${id}`, recorded: (id: string) => (id === 'y' ? record : undefined) };

  it('the recorded AP of a bundled model; the measured total; the path that ran', () => {
    expect(paneFigures(pane({}), 2, sources)).toMatchObject({
      key: 7,
      index: 2,
      modelName: 'name of y',
      path: 'wasm',
      timeMs: 123.5,
      ap: 0.325,
      apSource: 'recorded',
      apDetail: 'recorded on 300 val images',
    });
  });

  it('the in-browser evaluation wins over the record; not one of another model, nor an n/a figure', () => {
    expect(paneFigures(pane({ evaluation }), 0, sources)).toMatchObject({
      ap: 0.41,
      apSource: 'evaluated',
      apDetail: 'evaluated here on samples, 4 images, wasm',
    });
    expect(paneFigures(pane({ evaluation: { ...evaluation, modelId: 'z' } }), 0, sources)).toMatchObject({ ap: 0.325, apSource: 'recorded' });
    expect(paneFigures(pane({ evaluation: { ...evaluation, maskAP: -1 } }), 0, sources)).toMatchObject({ ap: 0.325, apSource: 'recorded' });
  });

  it('no record and no evaluation: no AP; no result: no time', () => {
    expect(paneFigures(pane({ modelId: 'dropped' }), 0, sources)).toMatchObject({ ap: null, apSource: null });
    expect(paneFigures(pane({ result: null }), 0, sources)).toMatchObject({ timeMs: null, ap: 0.325 });
  });
});
