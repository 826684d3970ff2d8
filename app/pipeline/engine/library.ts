/**
 * The model library: the models the pickers offer beyond the bundled ones — saved dropped
 * models (IndexedDB, app/models/userModels.ts), a `?manifest=` model, remote models cached
 * by the catalogue (app/models/catalog.ts) — and what the user does with them: drop an
 * .onnx (recognised and saved by app/models/fromOnnx.ts), answer the class-names dialog,
 * delete a saved model (the panes that ran it switch to the default model).
 */
import type { ModelManifest } from '../../types';
import type { ImportedModel } from '../../models/fromOnnx';
import type { UserModelEntry } from '../../models/userModels';
import { validateManifest } from '../../models/manifestSchema';
import { dynamicInputNote, readClassNames } from '../../families/detect';
import { errorText, panesText, type EngineStore, type ModelCatalog, type PreferredModel } from './ports';

/** The most panes the app opens (`?panes=`, a saved layout, dropped models). */
export const MAX_PANES = 6;

/** Placeholder class count when the user skips naming an end-to-end export's classes. */
const SKIPPED_CLASS_COUNT = 80;

/** The saved dropped models (app/models/userModels.ts `UserModels`). */
export interface SavedModelStore {
  list(): Promise<UserModelEntry[]>;
  setClasses(id: string, names: string[]): Promise<UserModelEntry>;
  remove(id: string): Promise<void>;
  /** The stored ONNX bytes (the session cache reads `user-model:<id>` urls with it). */
  bytes(id: string): Promise<Uint8Array>;
}

/** What the library asks of the panes (./scheduler.ts). */
export interface PaneSeats {
  addPane(modelId: string): void;
  setModel(key: number, modelId: string): void;
  dropRunner(key: number): void;
}

export interface LibraryDeps {
  store: EngineStore;
  models: ModelCatalog;
  /** null without IndexedDB. */
  saved: SavedModelStore | null;
  importOnnx(file: File): Promise<ImportedModel>;
  loadManifestFromUrl(url: string): Promise<ModelManifest>;
  /** Remote models in Cache Storage and the manifests stored with them. */
  cachedManifests(): Promise<Array<{ url: string; manifest: unknown }>>;
  /** Forgets a model's cached bytes and sessions (../sessions.ts `forgetModel`). */
  forgetModel(id: string): void;
  panes: PaneSeats;
  preferredModel: PreferredModel;
}

export class ModelLibrary {
  constructor(private readonly deps: LibraryDeps) {}

  /** Saved dropped models (IndexedDB) join the registry at start-up. */
  async loadSavedModels(): Promise<void> {
    const { saved, store, models } = this.deps;
    if (!saved) return;
    try {
      // One bad stored entry (an older format, a clashing id) must not hide the others.
      for (const entry of await saved.list()) {
        try {
          // Stored by an older version, or edited by hand: the full schema before it runs.
          // An end-to-end export still waiting for its class names has none yet, which is fine.
          const check = validateManifest(entry.manifest);
          const awaitingNames = entry.missing.includes('classes') && entry.manifest.classes.length === 0;
          if (!check.ok && !awaitingNames) throw new Error(check.errors.slice(0, 3).join('; '));
          models.add(entry.manifest);
        } catch (err) {
          store.notify('error', `The saved model “${entry.manifest.name ?? entry.manifest.id}” could not be loaded (${errorText(err)}).`);
        }
      }
      await this.refreshSavedModels();
    } catch (err) {
      store.notify('error', `Saved models could not be read (${errorText(err)}).`);
    }
  }

  private async refreshSavedModels(): Promise<void> {
    const entries = this.deps.saved ? await this.deps.saved.list() : [];
    this.deps.store.setState((s) => ({
      modelsVersion: s.modelsVersion + 1,
      savedModels: entries.map((e) => ({
        id: e.manifest.id,
        name: e.manifest.name,
        family: e.manifest.family,
        classes: e.manifest.classes.length,
        bytes: e.bytes,
      })),
    }));
  }

  /** `?manifest=<url>`: a ModelManifest JSON (this origin, or one `connect-src` allows; its `url` may be remote: see app/models/catalog.ts). */
  async addManifestFromUrl(url: string): Promise<void> {
    try {
      // Fetched, checked with the full schema, refused under a bundled or loaded model's id.
      const manifest = await this.deps.loadManifestFromUrl(url);
      this.deps.models.add(manifest);
      if (!this.deps.preferredModel.get()) this.deps.preferredModel.set(manifest.id);
    } catch (err) {
      this.deps.store.notify('error', `Model failed to load: ${errorText(err)}`);
    }
  }

  /**
   * Remote models in Cache Storage join the pickers with the manifest stored next to their
   * bytes (app/models/catalog.ts), so they run without their `?manifest=` link. One given
   * by `?manifest=` or saved under the same id keeps its place.
   */
  async registerCachedModels(): Promise<void> {
    const { store, models } = this.deps;
    try {
      for (const { url, manifest } of await this.deps.cachedManifests()) {
        const check = validateManifest(manifest);
        if (!check.ok) {
          store.notify(
            'error',
            `The cached model ${url} has an unreadable manifest (${check.errors.slice(0, 3).join('; ')}); free it under “Manage models” and load it again.`,
          );
          continue;
        }
        if (models.get(check.manifest.id)) continue;
        try {
          models.add(check.manifest);
        } catch (err) {
          store.notify('error', `The cached model ${url} could not be listed (${errorText(err)}).`);
        }
      }
    } catch (err) {
      console.warn('cached models could not be listed', err);
    }
  }

  /**
   * A dropped / picked .onnx: recognised, checked with ORT, saved (models/fromOnnx.ts),
   * added to the pickers; when the file does not name its classes the class-names dialog
   * opens first, and the model runs in a new pane once it is answered (useDroppedModel).
   */
  async addOnnxModel(file: File): Promise<void> {
    const { store } = this.deps;
    try {
      const imported = await this.deps.importOnnx(file);
      this.deps.models.add(imported.manifest);
      await this.refreshSavedModels();
      if (imported.notSaved) store.notify('info', `${imported.manifest.name} is not saved for later visits (${imported.notSaved}).`);
      // A dynamic input: the size chosen for it, and why (also in the model picker's title).
      const sizeNote = dynamicInputNote(imported.manifest);
      if (sizeNote) store.notify('info', `${imported.manifest.name}: ${sizeNote}.`);
      if (imported.missing.includes('classes')) {
        const fixed = !(imported.manifest.family === 'yolo-seg' && imported.manifest.outputs['detections']);
        store.setState({
          classNamesRequest: {
            modelId: imported.manifest.id,
            modelName: imported.manifest.name,
            count: fixed ? imported.manifest.classes.length : null,
            error: '',
          },
        });
        return;
      }
      this.useDroppedModel(imported.manifest.id);
    } catch (err) {
      store.notify('error', `Model failed to load: ${errorText(err)}`);
    }
  }

  /**
   * A new model gets a pane of its own, added at the end; with MAX_PANES open it takes the
   * last pane instead. Either way the notice says which pane runs it (and what it replaced).
   */
  private useDroppedModel(id: string): void {
    const { store, models, panes } = this.deps;
    const manifest = models.get(id);
    if (!manifest) return;
    const before = store.getState().panes;
    const replaced = before.length >= MAX_PANES ? before[before.length - 1]! : null;
    if (replaced) panes.setModel(replaced.key, id);
    else panes.addPane(id);
    const n = store.getState().panes.length;
    store.notify(
      'info',
      replaced
        ? `Model added: ${manifest.name}. It runs in pane ${n}, in place of ${models.get(replaced.modelId)?.name ?? replaced.modelId} (${MAX_PANES} panes is the most; pick that model again in pane ${n}'s menu).`
        : `Model added: ${manifest.name}. It runs in a new pane, pane ${n}.`,
    );
  }

  /**
   * The class-names dialog's answer: a pasted list / .txt / .yaml text, or null (skipped:
   * "class 0", "class 1", …). A wrong count keeps the dialog open with the error.
   */
  async answerClassNames(text: string | null): Promise<void> {
    const { store, models, saved } = this.deps;
    const request = store.getState().classNamesRequest;
    if (!request) return;
    const manifest = models.get(request.modelId);
    if (!manifest) {
      store.setState({ classNamesRequest: null });
      return;
    }
    // An end-to-end export does not fix the count: skipping gives COCO's 80 placeholders.
    const placeholders = Array.from({ length: request.count ?? SKIPPED_CLASS_COUNT }, (_, i) => `class ${i}`);
    let names: string[];
    try {
      names = text === null ? placeholders : readClassNames(text);
    } catch (err) {
      // Why the text was refused (too many names, unreadable YAML), in the dialog.
      store.setState({ classNamesRequest: { ...request, error: errorText(err) } });
      return;
    }
    if (names.length === 0) {
      store.setState({ classNamesRequest: { ...request, error: 'No class names found in that text.' } });
      return;
    }
    if (request.count !== null && names.length !== request.count) {
      store.setState({ classNamesRequest: { ...request, error: `The model has ${request.count} classes; ${names.length} names were given.` } });
      return;
    }
    try {
      let updated: ModelManifest = { ...manifest, classes: names };
      delete updated.categoryIds;
      if (saved && manifest.url.startsWith('user-model:')) updated = (await saved.setClasses(manifest.id, names)).manifest;
      models.add(updated);
      await this.refreshSavedModels();
      this.useDroppedModel(updated.id);
      // Closed last: once the dialog is gone, the model is saved, listed and in its pane.
      store.setState({ classNamesRequest: null });
    } catch (err) {
      store.setState({ classNamesRequest: { ...request, error: errorText(err) } });
    }
  }

  /** What deleting a saved model would do: the panes (numbered from 1) that run it, and the model they would switch to. */
  deleteImpact(id: string): { panes: number[]; fallbackName: string } {
    const { store, models } = this.deps;
    const preferred = this.deps.preferredModel.get();
    const fallback = models.defaultId(preferred === id ? null : preferred);
    return {
      panes: store.getState().panes.flatMap((p, i) => (p.modelId === id ? [i + 1] : [])),
      fallbackName: (fallback && fallback !== id && models.get(fallback)?.name) || 'no model',
    };
  }

  /** Deletes a saved model; panes that ran it switch to the default model, and a notice names them. */
  async deleteSavedModel(id: string): Promise<void> {
    const { store, models, panes } = this.deps;
    const name = models.get(id)?.name ?? id;
    const using = this.deleteImpact(id).panes;
    try {
      await this.deps.saved?.remove(id);
    } catch (err) {
      store.notify('error', `The saved model could not be deleted (${errorText(err)}).`);
      return;
    }
    models.remove(id);
    this.deps.forgetModel(id);
    const fallback = models.defaultId(this.deps.preferredModel.get());
    for (const p of store.getState().panes) {
      if (p.modelId !== id) continue;
      // A run in flight on the deleted model finishes on its runner and is dropped, not shown as a failure.
      panes.dropRunner(p.key);
      if (fallback) panes.setModel(p.key, fallback);
    }
    if (store.getState().classNamesRequest?.modelId === id) store.setState({ classNamesRequest: null });
    await this.refreshSavedModels();
    const switched =
      using.length === 0
        ? ''
        : fallback
          ? ` ${panesText(using)} now ${using.length > 1 ? 'run' : 'runs'} ${models.get(fallback)?.name ?? fallback}.`
          : ` ${panesText(using)} ${using.length > 1 ? 'have' : 'has'} no model left.`;
    store.notify('info', `Deleted the saved model ${name}.${switched}`);
  }
}
