/**
 * The saved pane layout (app/state/persist.ts does the format): restored at start-up unless
 * the URL describes its own panes, and written whenever what it saves changes (debounced;
 * not while an evaluation has swapped the settings).
 */
import type { PaneState } from '../../state/store';
import { layoutOf, layoutSaver, loadLayout, restorePlan, urlGivesLayout, type LayoutStorage } from '../../state/persist';
import { defaultSettings, type EngineStore, type ModelCatalog } from './ports';

export interface LayoutDeps {
  store: EngineStore;
  models: Pick<ModelCatalog, 'get' | 'defaultId'>;
  /** localStorage, or null where there is none or it is refused. */
  storage: LayoutStorage | null;
  params: URLSearchParams;
  addPane(modelId: string): void;
  /** Called with a flush to run when the page goes away (a reload right after a change still finds it). */
  onPageHide(flush: () => void): void;
}

export class LayoutKeeper {
  constructor(private readonly deps: LayoutDeps) {}

  /**
   * The panes of the last visit, unless the URL describes its own. False when there is
   * none to restore: the caller opens the default panes.
   */
  restore(): boolean {
    const { store, models, params } = this.deps;
    if (urlGivesLayout(params)) return false;
    const { layout, problem } = loadLayout(this.deps.storage);
    if (problem) store.notify('info', `The saved pane layout was not used (${problem}).`);
    const fallbackId = models.defaultId();
    if (!layout || !fallbackId) return false;
    const plan = restorePlan(layout, { classCount: (id) => models.get(id)?.classes.length, fallbackId, modelName: (id) => models.get(id)?.name ?? id });
    for (const saved of plan.panes) {
      this.deps.addPane(saved.modelId);
      const panes = store.getState().panes;
      const manifest = models.get(saved.modelId)!;
      const { maskOpacity, hideBoxes, hideLabels } = saved;
      store.updatePane(panes[panes.length - 1]!.key, {
        path: saved.path,
        settings: saved.settings ?? defaultSettings(manifest.defaults),
        hiddenClasses: saved.hiddenClasses,
        // How the pane draws, when it was saved (older layouts have none: the defaults stay).
        ...(maskOpacity !== undefined ? { maskOpacity } : {}),
        ...(hideBoxes !== undefined ? { hideBoxes } : {}),
        ...(hideLabels !== undefined ? { hideLabels } : {}),
      });
    }
    if (plan.notes.length > 0) store.notify('info', `The saved pane layout was restored, but ${plan.notes.join('; ')}.`);
    return true;
  }

  /** Writes the pane layout whenever it changes (debounced; not while an evaluation has swapped the settings). */
  saveOnChange(): void {
    const { store, storage } = this.deps;
    if (!storage) return;
    const saver = layoutSaver(storage, (message) => store.notify('info', message));
    const save = () => {
      const s = store.getState();
      if (!s.evalRun) saver.update(layoutOf(s.panes));
    };
    save();
    // Pane state changes several times a frame (results, timings): only a change of what is
    // saved (the fields layoutOf reads, compared by reference) serialises the layout.
    const savedFields = (p: PaneState) => [p.key, p.modelId, p.path, p.settings, p.hiddenClasses, p.maskOpacity, p.hideBoxes, p.hideLabels];
    const layoutChanged = (a: readonly PaneState[], b: readonly PaneState[]) =>
      a.length !== b.length || a.some((p, i) => savedFields(p).some((v, j) => v !== savedFields(b[i]!)[j]));
    store.subscribe((s, prev) => {
      if (s.evalRun !== prev.evalRun || (s.panes !== prev.panes && layoutChanged(s.panes, prev.panes))) save();
    });
    this.deps.onPageHide(() => saver.flush());
  }
}

/** The browser's localStorage, or null where there is none or it is refused (sandboxed frames, privacy settings). */
export function browserLayoutStorage(): LayoutStorage | null {
  try {
    return typeof localStorage !== 'undefined' ? localStorage : null;
  } catch {
    return null;
  }
}
