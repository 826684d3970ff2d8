/**
 * The `draw` stage of each result: how long Konva took to draw it (ui/Overlay.tsx times its
 * layers' draws after the result was committed). Measured after the result is in the store,
 * so it is kept beside it, by result, instead of written into it: recording it is no store
 * write and re-renders nothing; the figures on the page (ui/liveFigures.ts) are told, and
 * `snapshot()`, the CSV and the exports read the result's timings through `timingsOf`.
 */
import type { FrameResult, StageTimings } from '../types';

const drawMs = new WeakMap<FrameResult, number>();
/** Listeners by pane key: told when that pane's result got its draw time. */
const listeners = new Map<number, Set<() => void>>();

/** Records the draw time of a pane's result and tells that pane's listeners. */
export function recordDraw(paneKey: number, result: FrameResult, ms: number): void {
  drawMs.set(result, ms);
  for (const listener of listeners.get(paneKey) ?? []) listener();
}

/** Calls `listener` whenever a result of the pane gets its draw time; returns the unsubscribe. */
export function onDraw(paneKey: number, listener: () => void): () => void {
  let set = listeners.get(paneKey);
  if (!set) listeners.set(paneKey, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0) listeners.delete(paneKey);
  };
}

/** A result's stage timings with its draw time, once drawn (else as the engine stored them). */
export function timingsOf(result: FrameResult): StageTimings;
export function timingsOf(result: FrameResult | null | undefined): StageTimings | undefined;
export function timingsOf(result: FrameResult | null | undefined): StageTimings | undefined {
  if (!result) return undefined;
  const draw = drawMs.get(result);
  return draw === undefined ? result.timings : { ...result.timings, draw };
}

/** The result with its draw time in its timings (for views of the result outside the store: snapshot, CSV). */
export function withDrawTime(result: FrameResult): FrameResult {
  const timings = timingsOf(result);
  return timings === result.timings ? result : { ...result, timings };
}
