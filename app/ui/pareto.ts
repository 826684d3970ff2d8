/**
 * Speed against accuracy, as the comparison table's plot draws it (ParetoPlot.tsx): each
 * pane's model as a point at its measured time a frame on this device (x) and its mask AP
 * (y), the Pareto front through the points nothing beats, the axes and the labels. All of
 * it is plain data computed here, without a DOM, so that the maths is unit-tested
 * (pareto.test.ts) and the component only draws what this module laid out.
 */
import type { PaneState } from '../state/store';
import type { RecordedAccuracy } from '../types';

/** Where a point's AP comes from: `npm run eval --record` (accuracy.json) or the user's Evaluate. */
export type ApSource = 'recorded' | 'evaluated';

/** What the plot knows of one pane. */
export interface PaneFigures {
  /** The pane's stable key and its position (0-based) among the panes. */
  key: number;
  index: number;
  modelId: string;
  modelName: string;
  /** The path that ran (the pane's active path, else the one asked for). */
  path: string;
  /** The pane's measured total per frame (ms), as the table's "total ms"; null before its first result. */
  timeMs: number | null;
  /** Mask AP (COCO, IoU .50:.95), null when the model has none. */
  ap: number | null;
  apSource: ApSource | null;
  /** Where the AP was measured, in words ("recorded on 300 val images"). */
  apDetail: string;
}

export interface FigureSources {
  modelName(id: string): string;
  /** The model's valid accuracy.json record (registry.recordedAccuracy: checked by sha256), if any. */
  recorded(id: string): RecordedAccuracy | undefined;
}

/**
 * A pane's point. The AP is the pane's own in-browser evaluation when it has one for this
 * model (the user asked for it, on the path and data they chose), else the model's recorded
 * val AP; a figure of −1 (no ground truth of that kind) counts as none.
 */
export function paneFigures(pane: PaneState, index: number, sources: FigureSources): PaneFigures {
  const total = pane.result?.timings.total;
  const timeMs = total !== undefined && Number.isFinite(total) && total >= 0 ? total : null;
  const base = { key: pane.key, index, modelId: pane.modelId, modelName: sources.modelName(pane.modelId), path: pane.activePath ?? pane.path, timeMs };
  const e = pane.evaluation;
  if (e && e.modelId === pane.modelId && e.maskAP >= 0) {
    const images = e.images === 1 ? '1 image' : `${e.images} images`;
    return { ...base, ap: e.maskAP, apSource: 'evaluated', apDetail: `evaluated here on ${e.source}, ${images}, ${e.path}` };
  }
  const r = sources.recorded(pane.modelId);
  if (r && r.maskAP >= 0) return { ...base, ap: r.maskAP, apSource: 'recorded', apDetail: `recorded on ${r.images} ${r.split} images` };
  return { ...base, ap: null, apSource: null, apDetail: 'no accuracy' };
}

/** A point the plot can place: a time and an AP, both finite. */
export function placeable(p: Pick<PaneFigures, 'timeMs' | 'ap'>): p is { timeMs: number; ap: number } {
  return p.timeMs !== null && Number.isFinite(p.timeMs) && p.ap !== null && Number.isFinite(p.ap);
}

/** Whether `a` beats `b`: at least as fast and as accurate, and strictly better in one of the two. */
export function dominates(a: { timeMs: number; ap: number }, b: { timeMs: number; ap: number }): boolean {
  return a.timeMs <= b.timeMs && a.ap >= b.ap && (a.timeMs < b.timeMs || a.ap > b.ap);
}

/**
 * The Pareto front: the placeable points that no other point beats (lower time is better,
 * higher AP is better). Two equal points do not beat each other: both stay. Points without
 * a time or an AP take no part. Sorted fastest first (equal times: more accurate first,
 * then in input order), the order of the front's staircase.
 */
export function paretoFront<T extends Pick<PaneFigures, 'timeMs' | 'ap'>>(points: readonly T[]): T[] {
  const placed = points.filter(placeable) as Array<T & { timeMs: number; ap: number }>;
  const front = placed.filter((p) => !placed.some((q) => q !== p && dominates(q, p)));
  return front
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.timeMs - b.p.timeMs || b.p.ap - a.p.ap || a.i - b.i)
    .map(({ p }) => p);
}

// ---- axes

/** A tick step of 1, 2 or 5 × 10^k that cuts `span` into at most `maxTicks` intervals. */
export function niceStep(span: number, maxTicks: number): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, maxTicks);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  // 1.0000000002 after the division is 1: a small tolerance keeps 0.1 a step of 0.1.
  const factor = norm <= 1 + 1e-9 ? 1 : norm <= 2 + 1e-9 ? 2 : norm <= 5 + 1e-9 ? 5 : 10;
  return factor * magnitude;
}

/** Decimals that show every multiple of `step` exactly (0.05 → 2, 0.1 → 1, 200 → 0). */
export function stepDecimals(step: number): number {
  let d = 0;
  while (d < 6 && Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) > 1e-6) d++;
  return d;
}

export interface Axis {
  min: number;
  max: number;
  step: number;
  /** The tick values, min to max inclusive, multiples of `step` (no float noise). */
  ticks: number[];
  /** Each tick as the axis writes it. */
  labels: string[];
}

/**
 * An axis from 0 to a round number above `dataMax` (times and APs are ≥ 0, and a speed or
 * accuracy axis cut above 0 exaggerates differences): `headroom` leaves room above the
 * highest point, `cap` bounds the top (1 for AP). Nothing to show: 0 to `fallbackMax`.
 */
export function zeroBasedAxis(dataMax: number, options: { maxTicks?: number; headroom?: number; cap?: number; fallbackMax?: number } = {}): Axis {
  const { maxTicks = 5, headroom = 0.08, cap = Infinity, fallbackMax = 1 } = options;
  const wanted = Number.isFinite(dataMax) && dataMax > 0 ? Math.min(dataMax * (1 + headroom), cap) : fallbackMax;
  let step = niceStep(wanted, maxTicks);
  let max = Math.ceil(wanted / step - 1e-9) * step;
  // Rounding up can add one interval too many: take the next step then.
  if (Math.round(max / step) > maxTicks) {
    step = niceStep(max, maxTicks - 1);
    max = Math.ceil(wanted / step - 1e-9) * step;
  }
  const decimals = stepDecimals(step);
  const ticks: number[] = [];
  for (let i = 0; i * step <= max + step * 1e-9; i++) ticks.push(Number((i * step).toFixed(decimals)));
  return { min: 0, max: ticks[ticks.length - 1]!, step, ticks, labels: ticks.map((t) => t.toFixed(decimals)) };
}

/** A linear map of [d0, d1] onto [r0, r1] (r1 < r0 for a y axis that grows upwards). */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0;
  return (v) => (span === 0 ? (r0 + r1) / 2 : r0 + ((v - d0) / span) * (r1 - r0));
}

// ---- layout

export const PLOT_SIZE = { width: 600, height: 340 };
/** Room for the title and legend (top), tick labels and axis titles (left, bottom). */
const MARGIN = { top: 44, right: 20, bottom: 46, left: 58 };
const LABEL_FONT_PX = 11;
/** An estimate of a label's width from its length (the layout runs without a DOM). */
const CHAR_WIDTH_PX = 6.2;
const LABEL_HEIGHT_PX = 14;
const POINT_RADIUS_PX = 5;

export interface PlacedPoint extends PaneFigures {
  timeMs: number;
  ap: number;
  cx: number;
  cy: number;
  onFront: boolean;
  label: string;
  /** Label anchor and side: right of the point, or left when it would leave the plot. */
  labelX: number;
  labelY: number;
  labelAnchor: 'start' | 'end';
}

export interface PlotLayout {
  width: number;
  height: number;
  /** The plotting area (inside the axes). */
  area: { left: number; top: number; right: number; bottom: number };
  x: Axis & { positions: number[] };
  y: Axis & { positions: number[] };
  points: PlacedPoint[];
  /** The front's staircase, fastest first: from each front point across to the next one's time, then up to it. */
  frontPath: Array<[number, number]>;
  /** Panes with a time but no AP, and panes with an AP but no frame yet: named under the plot. */
  noAccuracy: PaneFigures[];
  noTime: PaneFigures[];
  pointRadius: number;
  labelFontPx: number;
}

/** A pane in words: its model and the path it ran on. */
export function pointLabel(p: Pick<PaneFigures, 'modelName' | 'path'>): string {
  return `${p.modelName} · ${p.path}`;
}

/** A model's name without its trailing parenthesis ("YOLACT-384 (emoji-COCO, …)" → "YOLACT-384"): the plot's labels. */
export function shortModelName(name: string): string {
  return name.replace(/\s*\([^()]*\)\s*$/, '') || name;
}

/**
 * The labels on the plot: short model names, except where two different models would read
 * the same (Mask R-CNN 512 with RoIAlign or RoIPool): those keep their full names.
 */
export function plotLabels(points: ReadonlyArray<Pick<PaneFigures, 'modelId' | 'modelName' | 'path'>>): string[] {
  const models = new Map<string, Set<string>>();
  for (const p of points) {
    const short = shortModelName(p.modelName);
    models.set(short, (models.get(short) ?? new Set()).add(p.modelId));
  }
  return points.map((p) => {
    const short = shortModelName(p.modelName);
    return pointLabel({ modelName: models.get(short)!.size > 1 ? p.modelName : short, path: p.path });
  });
}

interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/** Everything the plot draws, in its own pixels (`size`), from the panes' figures. */
export function plotLayout(figures: readonly PaneFigures[], size = PLOT_SIZE): PlotLayout {
  const area = { left: MARGIN.left, top: MARGIN.top, right: size.width - MARGIN.right, bottom: size.height - MARGIN.bottom };
  const placed = figures.filter(placeable) as Array<PaneFigures & { timeMs: number; ap: number }>;
  const xAxis = zeroBasedAxis(Math.max(0, ...placed.map((p) => p.timeMs)), { maxTicks: 6, fallbackMax: 100 });
  const yAxis = zeroBasedAxis(Math.max(0, ...placed.map((p) => p.ap)), { maxTicks: 5, headroom: 0.12, cap: 1, fallbackMax: 1 });
  const sx = linearScale(xAxis.min, xAxis.max, area.left, area.right);
  const sy = linearScale(yAxis.min, yAxis.max, area.bottom, area.top);
  const front = new Set(paretoFront(placed));

  const labels = plotLabels(placed);
  const points: PlacedPoint[] = placed.map((p, i) => {
    const cx = sx(p.timeMs);
    const cy = sy(p.ap);
    return { ...p, cx, cy, onFront: front.has(p), label: labels[i]!, labelX: cx, labelY: cy, labelAnchor: 'start' as const };
  });

  const frontPoints = points.filter((p) => p.onFront).sort((a, b) => a.timeMs - b.timeMs || b.ap - a.ap || a.index - b.index);
  const frontPath: Array<[number, number]> = [];
  frontPoints.forEach((p, i) => {
    if (i > 0) frontPath.push([p.cx, frontPoints[i - 1]!.cy]);
    frontPath.push([p.cx, p.cy]);
  });

  // Labels: the first of a few places around the point (right, above right, below right,
  // the same on the left, then above or below: centred, or against the plot's right edge)
  // that stays inside the plot and clears the markers, the
  // front's line and the labels already placed (highest point first); else the place that
  // overlaps least.
  const obstacles: Box[] = points.map((p) => ({
    x0: p.cx - POINT_RADIUS_PX,
    x1: p.cx + POINT_RADIUS_PX,
    y0: p.cy - POINT_RADIUS_PX,
    y1: p.cy + POINT_RADIUS_PX,
  }));
  for (let i = 1; i < frontPath.length; i++) {
    const [[ax, ay], [bx, by]] = [frontPath[i - 1]!, frontPath[i]!];
    obstacles.push({ x0: Math.min(ax, bx) - 1, x1: Math.max(ax, bx) + 1, y0: Math.min(ay, by) - 1, y1: Math.max(ay, by) + 1 });
  }
  const gap = POINT_RADIUS_PX + 3;
  for (const p of [...points].sort((a, b) => a.cy - b.cy || a.index - b.index)) {
    const w = p.label.length * CHAR_WIDTH_PX;
    const h = LABEL_HEIGHT_PX;
    // Above or below the point: centred on it, or ending at the plot's right edge (a point near it).
    const centred = Math.max(p.cx - w / 2, 2);
    const atEdge = size.width - 2 - w;
    const candidates: Array<Box & { anchor: 'start' | 'end' }> = [
      { x0: p.cx + gap, y0: p.cy - h / 2, anchor: 'start' as const },
      { x0: p.cx + 2, y0: p.cy - gap - h, anchor: 'start' as const },
      { x0: p.cx + 2, y0: p.cy + gap, anchor: 'start' as const },
      { x0: p.cx - gap - w, y0: p.cy - h / 2, anchor: 'end' as const },
      { x0: p.cx - 2 - w, y0: p.cy - gap - h, anchor: 'end' as const },
      { x0: p.cx - 2 - w, y0: p.cy + gap, anchor: 'end' as const },
      { x0: centred, y0: p.cy - gap - h, anchor: 'start' as const },
      { x0: centred, y0: p.cy + gap, anchor: 'start' as const },
      { x0: atEdge, y0: p.cy - gap - h, anchor: 'end' as const },
      { x0: atEdge, y0: p.cy + gap, anchor: 'end' as const },
    ].map((c) => ({ ...c, x1: c.x0 + w, y1: c.y0 + h }));
    const inside = candidates.filter((c) => c.x0 >= 2 && c.x1 <= size.width - 2 && c.y0 >= area.top - 8 && c.y1 <= area.bottom);
    const scored = (inside.length > 0 ? inside : candidates).map((c) => ({ c, hits: obstacles.filter((o) => overlaps(o, c)).length }));
    const best = scored.find((s) => s.hits === 0) ?? scored.reduce((a, b) => (b.hits < a.hits ? b : a));
    obstacles.push(best.c);
    // 'end': the text ends at the box's right edge (next to a point on its left, or the plot's edge).
    p.labelAnchor = best.c.anchor;
    p.labelX = best.c.anchor === 'start' ? best.c.x0 : best.c.x1;
    p.labelY = (best.c.y0 + best.c.y1) / 2;
  }

  return {
    width: size.width,
    height: size.height,
    area,
    x: { ...xAxis, positions: xAxis.ticks.map(sx) },
    y: { ...yAxis, positions: yAxis.ticks.map(sy) },
    points,
    frontPath,
    noAccuracy: figures.filter((f) => f.ap === null),
    noTime: figures.filter((f) => f.ap !== null && f.timeMs === null),
    pointRadius: POINT_RADIUS_PX,
    labelFontPx: LABEL_FONT_PX,
  };
}

// ---- in words

const RUN_A_FRAME = 'Run a frame to place the panes.';

function msText(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function pointText(p: PaneFigures & { timeMs: number; ap: number }): string {
  return `${pointLabel(p)}: ${msText(p.timeMs)} ms a frame, mask AP ${p.ap.toFixed(3)} (${p.apDetail})`;
}

/**
 * The plot in words, for its text alternative and caption, one sentence a line: the front
 * fastest first, then the points it beats, then the panes that could not be placed and why.
 */
export function describePlotLines(layout: Pick<PlotLayout, 'points' | 'noAccuracy' | 'noTime'>): string[] {
  const { points, noAccuracy, noTime } = layout;
  const parts: string[] = [];
  if (points.length === 0 && noAccuracy.every((f) => f.timeMs === null)) parts.push(RUN_A_FRAME);
  const front = points.filter((p) => p.onFront).sort((a, b) => a.timeMs - b.timeMs || b.ap - a.ap);
  if (front.length > 0) parts.push(`Pareto front (nothing is both faster and more accurate), fastest first: ${front.map(pointText).join('; ')}.`);
  const beaten = points.filter((p) => !p.onFront);
  if (beaten.length > 0) parts.push(`Beaten by a point on the front: ${beaten.map(pointText).join('; ')}.`);
  for (const f of noAccuracy) parts.push(`No accuracy for ${f.modelName}: Evaluate it.`);
  // Before any frame, "run a frame" says it for every pane.
  if (noTime.length > 0 && parts[0] !== RUN_A_FRAME) parts.push(`No frame yet: ${noTime.map((f) => pointLabel(f)).join('; ')}.`);
  return parts;
}

/** The plot in words, as one text. */
export function describePlot(layout: Pick<PlotLayout, 'points' | 'noAccuracy' | 'noTime'>): string {
  return describePlotLines(layout).join(' ');
}
