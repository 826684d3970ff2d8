/**
 * What the engine's parts share: the store they read and write (`EngineStore`), the model
 * registry they look models up in (`ModelCatalog`), and a few small helpers. Each part takes
 * these in its constructor, so a unit test passes fakes (or the real store, reset) and no
 * part reaches for a module singleton on its own.
 */
import type { ModelManifest, PostprocessSettings } from '../../types';
import { getPane, newPaneKey, notify, updatePane, useStore, type Notice, type PaneState, type State } from '../../state/store';
import { addModel, defaultModelId, getModel, listModels, removeModel } from '../../models/registry';
import type { OverlayView } from '../runner';

/** The store as the engine's parts use it (app/state/store.ts). */
export interface EngineStore {
  getState(): State;
  setState(patch: Partial<State> | ((s: State) => Partial<State>)): void;
  subscribe(listener: (state: State, prev: State) => void): () => void;
  getPane(key: number): PaneState | undefined;
  updatePane(key: number, patch: Partial<PaneState> | ((p: PaneState) => Partial<PaneState>)): void;
  notify(kind: Notice['kind'], text: string, options?: { topic?: string }): void;
  newPaneKey(): number;
}

/** The app's zustand store. */
export const appStore: EngineStore = {
  getState: () => useStore.getState(),
  setState: (patch) => useStore.setState(patch),
  subscribe: (listener) => useStore.subscribe(listener),
  getPane,
  updatePane,
  notify: (kind, text, options) => void notify(kind, text, options),
  newPaneKey,
};

/** The model registry as the engine's parts use it (app/models/registry.ts). */
export interface ModelCatalog {
  get(id: string): ModelManifest | undefined;
  list(): ModelManifest[];
  add(manifest: ModelManifest): void;
  remove(id: string): void;
  /** The model a new pane gets: `preferred` when known, else the first bundled one. */
  defaultId(preferred?: string | null): string | undefined;
}

export const appModels: ModelCatalog = { get: getModel, list: listModels, add: addModel, remove: removeModel, defaultId: defaultModelId };

/** The URL's `?model=`: the model new panes prefer; a model given by `?manifest=` takes its place. */
export interface PreferredModel {
  get(): string | null;
  set(id: string): void;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  if (typeof err === 'number') return `error code ${err}`;
  return String(err);
}

export function defaultSettings(d: PostprocessSettings & { confThreshold?: number }): PostprocessSettings {
  return { scoreThreshold: d.scoreThreshold, topK: d.topK, nmsIou: d.nmsIou, nmsKind: d.nmsKind, maxDetections: d.maxDetections };
}

export function viewOf(p: PaneState): OverlayView {
  return { highlight: p.highlight, hiddenClasses: p.hiddenClasses };
}

/** [2] → "Pane 2", [1, 3] → "Panes 1 and 3", [1, 2, 4] → "Panes 1, 2 and 4". */
export function panesText(numbers: number[]): string {
  if (numbers.length === 1) return `Pane ${numbers[0]}`;
  return `Panes ${numbers.slice(0, -1).join(', ')} and ${numbers[numbers.length - 1]}`;
}
