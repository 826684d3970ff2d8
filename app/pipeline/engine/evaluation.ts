/**
 * The in-browser evaluation: every pane's model over a source's images (the bundled
 * samples, or a dropped COCO ground truth with its images), one image at a time through the
 * normal pipeline (the pane's path, NMS and cap; the display threshold at the candidate
 * threshold, as `npm run eval`), each result and its masks added to a COCO evaluation
 * (app/eval/session.ts); then mask / box / Boundary AP per pane. What was on screen is set
 * aside and put back, and the panes' own settings come back afterwards.
 */
import type { InstanceMasks, FrameResult, ModelManifest, PostprocessSettings } from '../../types';
import type { CocoDataset } from '../../eval/dataset';
import type { EvalSource } from '../../eval/evalSource';
import type { EvalSessionResult } from '../../eval/session';
import type { PaneRunner } from '../runner';
import type { PausedSource } from './frames';
import { errorText, type EngineStore, type ModelCatalog } from './ports';

/** One pane's COCO evaluation (app/eval/session.ts `EvalSession`). */
export interface EvalSessionLike {
  readonly imagesDone: number;
  readonly imageIds: ReadonlySet<number>;
  addFrame(imageId: number, frame: FrameResult, masks: InstanceMasks, manifest: Pick<ModelManifest, 'categoryIds'>): void;
  evaluate(): EvalSessionResult;
}

export interface EvaluationDeps {
  store: EngineStore;
  models: Pick<ModelCatalog, 'get'>;
  /** The sources part (./frames.ts). */
  frames: {
    openImage(blob: Blob, name: string): Promise<void>;
    setAside(): Promise<PausedSource>;
    putBack(paused: PausedSource): void;
  };
  /** The scheduler (./scheduler.ts). */
  panes: {
    runnerOf(key: number): PaneRunner | null;
    resume(key: number): void;
    setSettings(key: number, settings: PostprocessSettings): void;
  };
  samplesSource(): Promise<EvalSource>;
  droppedSource(json: File, files: File[]): Promise<EvalSource>;
  newSession(dataset: CocoDataset): EvalSessionLike;
  /** The display threshold a pane evaluates at (app/eval/evalSource.ts `evaluationSettings`). */
  evaluationSettings(settings: PostprocessSettings, manifest: ModelManifest): PostprocessSettings;
  /** A dropped ground truth's image ids, for later exports of its images. */
  onDatasetIds(ids: Map<string, number>): void;
}

export class Evaluation {
  /** Set by stop(): the evaluation ends after the image in progress. */
  private stopAsked = false;

  constructor(private readonly deps: EvaluationDeps) {}

  /** Stops a running evaluation after the current image; the images done so far are scored. */
  stop(): void {
    if (this.deps.store.getState().evalRun) this.stopAsked = true;
  }

  /** The bundled samples with their ground truth, through every pane. */
  async evaluateSamples(): Promise<void> {
    let source: EvalSource;
    try {
      source = await this.deps.samplesSource();
    } catch (err) {
      this.deps.store.notify('error', `The samples' ground truth could not be loaded: ${errorText(err)}`);
      return;
    }
    await this.run(source);
  }

  /** A dropped COCO ground-truth JSON and the images dropped with it, through every pane. */
  async evaluateDropped(json: File, files: File[]): Promise<void> {
    const { store } = this.deps;
    let source: EvalSource;
    try {
      source = await this.deps.droppedSource(json, files);
    } catch (err) {
      store.notify('error', `No evaluation: ${errorText(err)}.`);
      return;
    }
    if (source.missing.length) {
      store.notify(
        'info',
        `${source.missing.length} of the ${source.dataset.images.length} images ${json.name} names were not dropped with it; evaluating the ${source.images.length} that were.`,
      );
    }
    // Its images, exported later, keep the ids this ground truth gives them.
    this.deps.onDatasetIds(source.dataset.imageIdByFileName);
    await this.run(source);
  }

  /** Every pane's model over the source's images; the last image stays on screen. */
  async run(source: EvalSource): Promise<void> {
    const { store, models, frames, panes: scheduler } = this.deps;
    if (store.getState().evalRun) {
      store.notify('info', 'An evaluation is already running.');
      return;
    }
    const panes = store.getState().panes.filter((p) => models.get(p.modelId));
    if (panes.length === 0) return;
    const saved = new Map(panes.map((p) => [p.key, p.settings] as const));
    const sessions = new Map(panes.map((p) => [p.key, this.deps.newSession(source.dataset)] as const));
    store.setState({ evalRun: { source: source.name, done: 0, total: source.images.length } });
    // The user's image or webcam is set aside and put back at the end.
    const paused = await frames.setAside();
    for (const p of panes) store.updatePane(p.key, { settings: this.deps.evaluationSettings(p.settings, models.get(p.modelId)!), evaluation: null });
    this.stopAsked = false;
    const skipped: string[] = [];
    try {
      for (const [i, image] of source.images.entries()) {
        if (this.stopAsked) break;
        await frames.openImage(await image.load(), image.fileName);
        const frameId = store.getState().frameId;
        await this.panesDone(
          frameId,
          panes.map((p) => p.key),
        );
        for (const p of panes) {
          const pane = store.getPane(p.key);
          const runner = scheduler.runnerOf(p.key);
          const manifest = pane && models.get(pane.modelId);
          if (!pane?.result || pane.resultFrameId !== frameId || pane.modelId !== p.modelId || !runner || !manifest) continue;
          const masks = await runner.readMasks();
          if (!masks) continue;
          try {
            sessions.get(p.key)!.addFrame(image.id, pane.result, masks, manifest);
          } catch (err) {
            skipped.push(`${image.fileName} (${errorText(err)})`);
          }
        }
        store.setState((s) => ({ evalRun: s.evalRun && { ...s.evalRun, done: i + 1 } }));
      }
      for (const p of panes) {
        const pane = store.getPane(p.key);
        const session = sessions.get(p.key)!;
        if (!pane || pane.modelId !== p.modelId || session.imagesDone === 0) continue;
        const r = session.evaluate();
        const images = session.imageIds;
        store.updatePane(p.key, {
          evaluation: {
            source: source.name,
            images: r.imagesEvaluated,
            of: source.images.length,
            instances: source.dataset.gts.filter((g) => images.has(g.imageId) && !g.iscrowd).length,
            modelId: p.modelId,
            path: pane.activePath ?? pane.path,
            nmsKind: pane.settings.nmsKind,
            scoreThreshold: pane.settings.scoreThreshold,
            maskAP: r.mask!.summary.ap,
            maskAP50: r.mask!.summary.ap50,
            maskAP75: r.mask!.summary.ap75,
            boxAP: r.box!.summary.ap,
            boundaryAP: r.boundary!.summary.ap,
          },
        });
      }
      if (skipped.length) store.notify('error', `Left out of the evaluation: ${[...new Set(skipped)].join('; ')}`);
    } catch (err) {
      store.notify('error', `The evaluation stopped: ${errorText(err)}`);
    } finally {
      store.setState({ evalRun: null });
      for (const [key, settings] of saved) {
        if (!store.getPane(key)) continue;
        // An image coming back runs the panes with their settings: no run on the last evaluation image first.
        if (paused.kind === 'image') {
          scheduler.resume(key);
          store.updatePane(key, { settings, highlight: null });
        } else scheduler.setSettings(key, settings);
      }
      frames.putBack(paused);
    }
  }

  /** Resolves once every pane has a result for this frame, has failed, or is gone. */
  private panesDone(frameId: number, keys: number[]): Promise<void> {
    const { store } = this.deps;
    const done = () =>
      // A newer frame (another image opened meanwhile) also ends the wait: this one's
      // results will not come, and the image is left out rather than waited on forever.
      store.getState().frameId !== frameId ||
      keys.every((k) => {
        const p = store.getPane(k);
        return !p || p.status === 'error' || (p.resultFrameId === frameId && p.status === 'done');
      });
    return new Promise((resolve) => {
      if (done()) return resolve();
      const stop = store.subscribe(() => {
        if (!done()) return;
        stop();
        resolve();
      });
    });
  }
}
