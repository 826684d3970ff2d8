/**
 * Development / test only: how often React commits each component and how often the store
 * is written, so an e2e spec can assert the structure of a frame's work ("a webcam frame
 * re-renders no Pane", "one store write per pane per frame") instead of timing it.
 * Read through the test hook: `window.__segarena.renderCounts()` / `resetRenderCounts()`
 * (app/main.tsx). In a production build `useRenderCount` does nothing and no write is counted.
 */
import { useLayoutEffect } from 'react';
import type { useStore as Store } from './store';

export interface RenderCounts {
  /** Commits per component name (a component renders once per commit; StrictMode's second call of the body is not counted). */
  renders: Record<string, number>;
  /** Store writes (every setState). */
  writes: number;
  /** Store writes that changed a pane's state, by pane key. */
  paneWrites: Record<number, number>;
}

const ENABLED = import.meta.env.DEV;

let counts: RenderCounts = { renders: {}, writes: 0, paneWrites: {} };

function countRender(name: string): void {
  counts.renders[name] = (counts.renders[name] ?? 0) + 1;
}

/**
 * Counts one render of `name` each time the calling component commits. A layout effect
 * without dependencies runs once per commit of the component: render bodies are called
 * twice under StrictMode, commits are not.
 */
export const useRenderCount: (name: string) => void = ENABLED
  ? (name) => {
      useLayoutEffect(() => countRender(name));
    }
  : () => {};

export function renderCounts(): RenderCounts {
  return { renders: { ...counts.renders }, writes: counts.writes, paneWrites: { ...counts.paneWrites } };
}

export function resetRenderCounts(): void {
  counts = { renders: {}, writes: 0, paneWrites: {} };
}

/** Counts every write of the store, and per pane the writes that replaced that pane's state. */
export function countStoreWrites(store: typeof Store): void {
  if (!ENABLED) return;
  store.subscribe((s, prev) => {
    counts.writes++;
    if (s.panes === prev.panes) return;
    const before = new Map(prev.panes.map((p) => [p.key, p] as const));
    for (const p of s.panes) {
      if (before.get(p.key) !== p) counts.paneWrites[p.key] = (counts.paneWrites[p.key] ?? 0) + 1;
    }
  });
}
