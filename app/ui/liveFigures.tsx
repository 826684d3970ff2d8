/**
 * Per-frame figures (fps, stage times, instances, bytes read back) written straight into
 * their DOM nodes, outside React's render path: a webcam frame changes them in every pane
 * and in the table, and re-rendering those components for it would redo their whole
 * markup each frame. A bound node is rendered empty by React (it owns no text or attribute
 * the binding writes); the binding writes it when it is attached, and again after each
 * store write that replaced its pane's state and each draw time recorded for the pane
 * (state/drawTimes.ts), only where the text changed.
 */
import { createElement, useCallback, useLayoutEffect, useRef, type HTMLAttributes, type RefCallback } from 'react';
import { onDraw, timingsOf } from '../state/drawTimes';
import { getPane, useStore, type PaneState } from '../state/store';
import type { StageTimings } from '../types';
import { bytesText, fpsText, ms } from './format';

/** Writes what a node shows of its pane (text, attributes) from the pane's current state. */
export type Apply<E extends HTMLElement> = (el: E, pane: PaneState) => void;

/** Listeners by pane key, woken by the one store subscription when that pane's state is replaced. */
const paneListeners = new Map<number, Set<() => void>>();
let unsubscribeStore: (() => void) | null = null;

function watchStore(): void {
  if (unsubscribeStore) return;
  unsubscribeStore = useStore.subscribe((s, prev) => {
    if (s.panes === prev.panes) return;
    for (const p of s.panes) {
      if (prev.panes.find((q) => q.key === p.key) === p) continue;
      for (const listener of paneListeners.get(p.key) ?? []) listener();
    }
  });
}

/** Calls `listener` after every change of the pane's state or draw time; returns the unsubscribe. */
export function watchPane(paneKey: number, listener: () => void): () => void {
  watchStore();
  let set = paneListeners.get(paneKey);
  if (!set) paneListeners.set(paneKey, (set = new Set()));
  set.add(listener);
  const offDraw = onDraw(paneKey, listener);
  return () => {
    offDraw();
    set.delete(listener);
    if (set.size === 0) paneListeners.delete(paneKey);
  };
}

/**
 * A ref for a node that shows a per-frame figure of pane `paneKey`: `apply` writes it now and
 * after every change of the pane. `apply` is read at each change (the latest one given), so
 * it may close over props; the binding itself changes only with the pane.
 */
export function useLiveFigure<E extends HTMLElement>(paneKey: number, apply: Apply<E>): RefCallback<E> {
  const latest = useRef(apply);
  // The latest `apply` for the next change (refs are attached before this runs: the first is the initial one).
  useLayoutEffect(() => {
    latest.current = apply;
  });
  return useCallback(
    (el: E | null) => {
      if (!el) return;
      const update = () => {
        const pane = getPane(paneKey);
        if (!pane) return;
        try {
          latest.current(el, pane);
        } catch (err) {
          // Called inside the store's write: a malformed pane state must not stop the write's
          // other subscribers (React's among them, whose render then fails in the pane's error
          // boundary and says so). The figure keeps its last text.
          console.warn(`pane ${paneKey}: a figure could not be shown`, err);
        }
      };
      update();
      return watchPane(paneKey, update);
    },
    [paneKey],
  );
}

/** Sets a node's text only when it differs (no DOM mutation, no layout work, for an unchanged figure). */
export function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

// ---- the figures, as the pane and the table show them

/** Instances of the classes shown, or null before the first result. */
export function visibleInstances(p: PaneState): number | null {
  return p.result ? p.result.detections.filter((d) => !p.hiddenClasses.includes(d.classIndex)).length : null;
}

export const figureText = {
  instances: (p: PaneState, none = '–') => String(visibleInstances(p) ?? none),
  // With the webcam frames the pane never ran (its own runs all in flight), when there are any.
  fps: (p: PaneState) => fpsText(p.fps) + (p.dropped ? ` · ${p.dropped} dropped` : ''),
  total: (p: PaneState) => ms(p.result?.timings.total),
  readBack: (p: PaneState) => (p.result ? bytesText(p.result.bytesReadBack) : '–'),
  stage: (p: PaneState, key: keyof Omit<StageTimings, 'source'>) => ms(timingsOf(p.result)?.[key]),
  clock: (p: PaneState) => p.result?.timings.source ?? '–',
};

type LiveTag = 'b' | 'span' | 'dd' | 'td';

/**
 * An element whose text is a per-frame figure of a pane (`text` of the pane's state), kept
 * up to date by the binding above: React renders it once, empty.
 */
export function LiveText({
  paneKey,
  text,
  as = 'span',
  ...attributes
}: { paneKey: number; text: (p: PaneState) => string; as?: LiveTag } & HTMLAttributes<HTMLElement> & { [data: `data-${string}`]: string | undefined }) {
  const ref = useLiveFigure<HTMLElement>(paneKey, (el, p) => setText(el, text(p)));
  return createElement(as, { ...attributes, ref });
}
