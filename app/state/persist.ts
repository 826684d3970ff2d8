/**
 * The pane layout kept across reloads: how many panes, in which order, and each pane's
 * model id, asked path, settings and hidden classes, in localStorage under LAYOUT_KEY.
 * Saved (debounced) whenever it changes; read back once at start-up, when the URL does not
 * describe a layout of its own (`?model=`, `?panes=`, `?path=`, `?manifest=` win: links
 * and the e2e tests open the app that way).
 *
 * Plain functions over a `Storage`-like object and plain pane records, so the logic is
 * tested in Node with a fake storage; the engine (app/pipeline/engine.ts) wires it up.
 */
import type { ExecutionPath, PostprocessSettings } from '../types';

export const LAYOUT_KEY = 'segarena.layout';
/** Bumped when the stored shape changes; an older shape is dropped, not misread. */
const LAYOUT_VERSION = 1;
/** As many panes as the app opens (engine init caps `?panes=` the same way). */
export const MAX_SAVED_PANES = 6;
/** Settings changes come in bursts (a slider): one write once they settle. */
export const SAVE_DELAY_MS = 400;

const PATHS: readonly ExecutionPath[] = ['webgpu', 'wasm+gpu', 'wasm'];

/** URL parameters that describe a layout: when any is given, the saved one is not restored. */
const LAYOUT_PARAMS = ['model', 'panes', 'path', 'manifest'];

export type LayoutStorage = Pick<Storage, 'getItem' | 'setItem'>;

export interface SavedPane {
  modelId: string;
  path: ExecutionPath;
  settings: PostprocessSettings;
  hiddenClasses: number[];
  /** How the pane draws (PaneState's display fields); absent = the defaults. */
  maskOpacity?: number;
  hideBoxes?: boolean;
  hideLabels?: boolean;
}

export interface SavedLayout {
  version: number;
  panes: SavedPane[];
}

/** The part of a pane that is saved (PaneState has more). */
export function layoutOf(panes: readonly SavedPane[]): SavedLayout {
  return {
    version: LAYOUT_VERSION,
    panes: panes.map((p) => ({
      modelId: p.modelId,
      path: p.path,
      settings: { ...p.settings },
      hiddenClasses: [...p.hiddenClasses],
      ...(p.maskOpacity !== undefined ? { maskOpacity: p.maskOpacity } : {}),
      ...(p.hideBoxes !== undefined ? { hideBoxes: p.hideBoxes } : {}),
      ...(p.hideLabels !== undefined ? { hideLabels: p.hideLabels } : {}),
    })),
  };
}

export function urlGivesLayout(params: URLSearchParams): boolean {
  return LAYOUT_PARAMS.some((k) => params.has(k));
}

function isSettings(v: unknown): v is PostprocessSettings {
  const s = v as Partial<PostprocessSettings> | null;
  const within = (x: unknown, lo: number, hi: number) => typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi;
  // The bounds of the pane's inputs (app/ui/Pane.tsx).
  return (
    typeof s === 'object' &&
    s !== null &&
    within(s.scoreThreshold, 0, 1) &&
    within(s.nmsIou, 0, 1) &&
    within(s.topK, 1, 1000) &&
    Number.isInteger(s.topK) &&
    within(s.maxDetections, 1, 1000) &&
    Number.isInteger(s.maxDetections) &&
    (s.nmsKind === 'fast' || s.nmsKind === 'greedy')
  );
}

function isSavedPane(v: unknown): v is SavedPane {
  const p = v as Partial<SavedPane> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.modelId === 'string' &&
    PATHS.includes(p.path as ExecutionPath) &&
    isSettings(p.settings) &&
    Array.isArray(p.hiddenClasses) &&
    p.hiddenClasses.every((c) => Number.isInteger(c) && c >= 0) &&
    (p.maskOpacity === undefined || (typeof p.maskOpacity === 'number' && p.maskOpacity >= 0 && p.maskOpacity <= 1)) &&
    (p.hideBoxes === undefined || typeof p.hideBoxes === 'boolean') &&
    (p.hideLabels === undefined || typeof p.hideLabels === 'boolean')
  );
}

/**
 * The saved layout, or null when there is none. `problem` says why a stored value was
 * not used (not JSON, another version, a pane that is not one): shown once, then the
 * app starts with the default layout (and overwrites it on the next change).
 */
export function loadLayout(storage: LayoutStorage | null): { layout: SavedLayout | null; problem?: string } {
  let text: string | null;
  try {
    text = storage?.getItem(LAYOUT_KEY) ?? null;
  } catch (err) {
    return { layout: null, problem: `it could not be read (${(err as Error).message ?? String(err)})` };
  }
  if (text === null) return { layout: null };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { layout: null, problem: 'it is not valid JSON' };
  }
  const v = value as Partial<SavedLayout> | null;
  if (typeof v !== 'object' || v === null || v.version !== LAYOUT_VERSION || !Array.isArray(v.panes)) {
    return { layout: null, problem: 'it was written by another version of SegArena' };
  }
  if (v.panes.length === 0 || !v.panes.every(isSavedPane)) return { layout: null, problem: 'a pane in it is malformed' };
  return { layout: { version: LAYOUT_VERSION, panes: v.panes.slice(0, MAX_SAVED_PANES) } };
}

export interface RestoreContext {
  /** The model's class count when it is registered, else undefined. */
  classCount(modelId: string): number | undefined;
  /** The model a pane falls back to, and its name for the notice. */
  fallbackId: string;
  modelName(modelId: string): string;
}

/**
 * The panes to open from a saved layout. A model that is no longer there (a deleted saved
 * model, a freed remote one) falls back to `fallbackId` with that model's defaults
 * (`settings: null`) and a note naming the pane; hidden classes beyond the model's count
 * are dropped.
 */
export function restorePlan(
  layout: SavedLayout,
  ctx: RestoreContext,
): { panes: Array<Omit<SavedPane, 'settings'> & { settings: PostprocessSettings | null }>; notes: string[] } {
  const notes: string[] = [];
  const panes = layout.panes.map((p, i) => {
    const classes = ctx.classCount(p.modelId);
    if (classes === undefined) {
      notes.push(`pane ${i + 1}'s model “${p.modelId}” is no longer available: it runs ${ctx.modelName(ctx.fallbackId)}`);
      return { modelId: ctx.fallbackId, path: p.path, settings: null, hiddenClasses: [] };
    }
    return { ...p, hiddenClasses: p.hiddenClasses.filter((c) => c < classes) };
  });
  return { panes, notes };
}

/**
 * Debounced writes: `update` keeps the newest layout and writes it SAVE_DELAY_MS after it
 * last changed (nothing when it equals what was written); `flush` writes now (page hide).
 * A refused write (storage full, private mode) is reported once through `onError`.
 */
export function layoutSaver(storage: LayoutStorage, onError: (message: string) => void, delayMs = SAVE_DELAY_MS) {
  let pending: string | null = null;
  let written: string | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let reported = false;
  const flush = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (pending === null || pending === written) return;
    try {
      storage.setItem(LAYOUT_KEY, pending);
      written = pending;
    } catch (err) {
      if (!reported) onError(`The pane layout could not be saved for the next visit (${(err as Error).message ?? String(err)}).`);
      reported = true;
    }
    pending = null;
  };
  return {
    update(layout: SavedLayout) {
      const text = JSON.stringify(layout);
      // Panes change on every frame (results): the same layout again must not postpone its write.
      if (text === pending) return;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      pending = text === written ? null : text;
      if (pending !== null) timer = setTimeout(flush, delayMs);
    },
    flush,
  };
}
