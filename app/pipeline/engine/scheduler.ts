/**
 * The pane scheduler: one PaneController per pane, the pump that runs a pane on the latest
 * frame, runner creation (`createRunner`, app/pipeline/stages/stageRunner.ts) on the path the
 * pane can really run, recompose (hover, hidden classes) and the pane actions of the UI.
 *
 * Frames in flight: a pane runs up to its runner's `maxInFlight` frames at once (2 on the
 * GPU paths: frame n+1 is encoded while frame n is read back; 1 elsewhere), each on the
 * latest frame when it starts. A frame that comes while every slot is taken is not queued:
 * the pane runs once more, on the latest frame, when a slot frees, and the streamed frames
 * it never ran are counted (`PaneState.dropped`). Results are stored in the order their runs
 * started, never two out of order. A runner replaced while it runs (pane removed, model
 * switched or deleted, device lost) is retired: its runs finish on it, their results and
 * errors are dropped, and it is disposed once none is in flight. A failed run halts the
 * pane until the user changes something (a new image, model, path or setting).
 */
import type { ExecutionPath, ModelManifest, PostprocessSettings } from '../../types';
import type { PaneState, ResultFrame } from '../../state/store';
import type { Frame } from '../frame';
import { followHighlight } from '../highlight';
import { ModelLoadError, type PaneRunner, type RunnerContext, type RunOutput } from '../runner';
import { PaneController, type FrameSeq, type RunInFlight } from './paneController';
import { defaultSettings, errorText, viewOf, type EngineStore, type ModelCatalog, type PreferredModel } from './ports';

/** The current frame and where it comes from (./frames.ts). */
export interface FrameFeed {
  current(): { frame: Frame; source: Pick<ResultFrame, 'kind' | 'name' | 'original'>; seq?: FrameSeq } | null;
  /** More frames are coming (the webcam, a video playing): a pane that finishes stays 'running'. */
  streaming(): boolean;
}

/** The GPU device as the scheduler sees it (./device.ts). */
export interface GpuAccess {
  readonly device: GPUDevice | null;
  readonly lost: boolean;
}

export type CreateRunner = (path: ExecutionPath, manifest: ModelManifest, ctx: RunnerContext) => Promise<PaneRunner>;

export interface SchedulerDeps {
  store: EngineStore;
  models: Pick<ModelCatalog, 'get' | 'defaultId'>;
  createRunner: CreateRunner;
  gpu: GpuAccess;
  frames: FrameFeed;
  preferredModel: Pick<PreferredModel, 'get'>;
  now?: () => number;
}

export class PaneScheduler {
  private readonly controllers = new Map<number, PaneController>();
  private readonly now: () => number;

  constructor(private readonly deps: SchedulerDeps) {
    this.now = deps.now ?? (() => performance.now());
  }

  // ---------------------------------------------------------------- panes

  /** A pane at the end, running `wanted` when given, else the last pane's model (or the default). */
  addPane(wanted?: string): void {
    const { store, models } = this.deps;
    const s = store.getState();
    const last = s.panes[s.panes.length - 1];
    const modelId = (wanted && models.get(wanted) ? wanted : last?.modelId) ?? models.defaultId(this.deps.preferredModel.get()) ?? '';
    const manifest = models.get(modelId);
    const key = store.newPaneKey();
    const pane: PaneState = {
      key,
      modelId,
      path: last?.path ?? s.defaultPath,
      activePath: null,
      pathNote: '',
      settings: manifest ? defaultSettings(manifest.defaults) : { scoreThreshold: 0.15, topK: 200, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100 },
      status: 'idle',
      message: '',
      result: null,
      resultFrameId: 0,
      overlay: null,
      overlayOnCanvas: false,
      hiddenClasses: [],
      highlight: null,
      fps: 0,
      frames: 0,
      evaluation: null,
    };
    store.setState({ panes: [...s.panes, pane] });
    this.controllers.set(key, new PaneController(key));
    if (this.deps.frames.current()) void this.pump(key);
  }

  removePane(key: number): void {
    const ctrl = this.controllers.get(key);
    if (ctrl) {
      ctrl.cancelled = true;
      this.retire(ctrl);
    }
    this.controllers.delete(key);
    this.deps.store.setState((s) => ({ panes: s.panes.filter((p) => p.key !== key) }));
  }

  /**
   * Takes a pane's runner out of use. A run in flight keeps it to its end (its result and
   * any error are then dropped); otherwise it is disposed now.
   */
  dropRunner(key: number): void {
    const ctrl = this.controllers.get(key);
    if (ctrl) this.retire(ctrl);
  }

  private retire(ctrl: PaneController): void {
    const runner = ctrl.runner;
    ctrl.runner = null;
    ctrl.runnerKey = '';
    if (!runner) return;
    if (ctrl.runs.some((r) => r.runner === runner)) ctrl.retired.push(runner);
    else runner.dispose();
  }

  /** The pane error boundary's Reset: the pane's model (or the default) with its defaults and a fresh runner. */
  resetPane(key: number): void {
    const { store, models } = this.deps;
    const pane = store.getPane(key);
    const ctrl = this.controllers.get(key);
    if (!pane || !ctrl) return;
    this.retire(ctrl);
    ctrl.halted = false;
    const modelId = models.get(pane.modelId) ? pane.modelId : (models.defaultId(this.deps.preferredModel.get()) ?? pane.modelId);
    const manifest = models.get(modelId);
    store.updatePane(key, {
      modelId,
      ...(manifest ? { settings: defaultSettings(manifest.defaults) } : {}),
      status: 'idle',
      message: '',
      result: null,
      overlay: null,
      overlayOnCanvas: false,
      hiddenClasses: [],
      highlight: null,
      evaluation: null,
    });
    void this.pump(key);
  }

  /** The user changed something about the pane: a halted pane may run again. */
  resume(key: number): void {
    const ctrl = this.controllers.get(key);
    if (ctrl) ctrl.halted = false;
  }

  /** A new source (an image, a video) is the user trying again: every halted pane may run. */
  resumeAll(): void {
    for (const c of this.controllers.values()) c.halted = false;
  }

  setModel(key: number, modelId: string): void {
    const manifest = this.deps.models.get(modelId);
    if (!manifest) return;
    this.resume(key);
    this.deps.store.updatePane(key, {
      modelId,
      settings: defaultSettings(manifest.defaults),
      hiddenClasses: [],
      highlight: null,
      result: null,
      overlay: null,
      overlayOnCanvas: false,
      evaluation: null,
    });
    void this.pump(key);
  }

  setPath(key: number, path: ExecutionPath): void {
    this.resume(key);
    this.deps.store.updatePane(key, { path, highlight: null });
    void this.pump(key);
  }

  setSettings(key: number, patch: Partial<PostprocessSettings>): void {
    this.resume(key);
    this.deps.store.updatePane(key, (p) => ({ settings: { ...p.settings, ...patch }, highlight: null }));
    void this.pump(key);
  }

  setHighlight(key: number, highlight: number | null): void {
    const pane = this.deps.store.getPane(key);
    // A pinned instance stays highlighted whatever the pointer hovers (pinHighlight).
    if (!pane || (pane.pinned && pane.highlight !== null) || pane.highlight === highlight) return;
    this.deps.store.updatePane(key, { highlight, pinned: false });
    void this.recompose(key);
  }

  /**
   * A click on an instance (overlay or instance list) pins its highlight and details against
   * hover; a click on the pinned one again, or null (Escape, a click beside every instance),
   * unpins it.
   */
  pinHighlight(key: number, index: number | null): void {
    const pane = this.deps.store.getPane(key);
    if (!pane) return;
    const unpin = index === null || (pane.pinned && pane.highlight === index);
    if (unpin && !pane.pinned) return;
    this.deps.store.updatePane(key, unpin ? { pinned: false, highlight: null } : { pinned: true, highlight: index });
    void this.recompose(key);
  }

  /** How the pane draws its result: mask opacity, boxes and labels on or off (drawing and PNG export; nothing runs again). */
  setDisplay(key: number, patch: Partial<Pick<PaneState, 'maskOpacity' | 'hideBoxes' | 'hideLabels'>>): void {
    this.deps.store.updatePane(key, patch);
  }

  toggleClass(key: number, classIndex: number): void {
    this.deps.store.updatePane(key, (p) => ({
      hiddenClasses: p.hiddenClasses.includes(classIndex) ? p.hiddenClasses.filter((c) => c !== classIndex) : [...p.hiddenClasses, classIndex],
      highlight: null,
    }));
    void this.recompose(key);
  }

  // ---------------------------------------------------------------- what other parts ask

  /**
   * A new streamed frame would start a run now: some pane has a free slot (or no pane is
   * busy: the frame is still shown). While every pane is full, the webcam and a playing
   * video skip their frames (each pane counts them dropped).
   */
  canTakeFrame(): boolean {
    const panes = [...this.controllers.values()];
    // No pane busy (none, or all halted): the frame is still shown.
    if (!panes.some((c) => c.busy)) return true;
    return panes.some((c) => !c.halted && !c.cancelled && !c.starting && c.runs.length < c.capacity);
  }

  isBusy(key: number): boolean {
    return this.controllers.get(key)?.busy === true;
  }

  /** The bitmaps of the frames runs in flight work on (not closed under them). */
  framesInFlight(): Set<ImageBitmap | undefined> {
    return new Set([...this.controllers.values()].flatMap((c) => c.runs.map((r) => r.frame.bitmap)));
  }

  /** The pane's current runner (exports, evaluation read its last result's masks). */
  runnerOf(key: number): PaneRunner | null {
    return this.controllers.get(key)?.runner ?? null;
  }

  /**
   * Runs `take` with the pane's runner at rest (PaneController.hold); undefined when the pane
   * is gone.
   */
  async hold<T>(key: number, take: (runner: PaneRunner | null) => Promise<T>): Promise<T | undefined> {
    const ctrl = this.controllers.get(key);
    if (!ctrl) return undefined;
    return ctrl.hold(() => take(ctrl.runner));
  }

  /** Every pane runs on the latest frame (a new frame, a device back). */
  pumpAll(): void {
    for (const key of this.controllers.keys()) void this.pump(key);
  }

  /** The device is gone: the panes leave the GPU paths (their runs in flight are dropped) and may run again. */
  deviceLost(): void {
    for (const ctrl of this.controllers.values()) {
      ctrl.halted = false;
      if (ctrl.runner && ctrl.runner.path !== 'wasm') this.retire(ctrl);
    }
  }

  // ---------------------------------------------------------------- running

  /** Which path a pane can really run, and why it differs from the asked one. */
  resolvePath(asked: ExecutionPath): { path: ExecutionPath; note: string } {
    const { gpu, store } = this.deps;
    if (asked !== 'wasm' && !gpu.device) {
      return { path: 'wasm', note: gpu.lost ? 'GPU lost: CPU fallback' : 'no WebGPU: CPU fallback' };
    }
    const state = store.getState();
    if (asked === 'wasm+gpu' && state.fallbackAdapter) return { path: asked, note: 'software GPU: inference on CPU' };
    if (asked === 'webgpu' && state.fallbackAdapter) return { path: asked, note: 'software GPU: slow' };
    return { path: asked, note: '' };
  }

  private async ensureRunner(ctrl: PaneController, pane: PaneState): Promise<PaneRunner> {
    const { store, models, createRunner } = this.deps;
    const manifest = models.get(pane.modelId);
    if (!manifest) throw new ModelLoadError(`unknown model “${pane.modelId}”`);
    const { path, note } = this.resolvePath(pane.path);
    const key = `${pane.modelId}|${path}`;
    if (ctrl.runner && ctrl.runnerKey === key) return ctrl.runner;
    // Runs in flight on the old runner finish on it (their results dropped); it is disposed after them.
    this.retire(ctrl);
    store.updatePane(ctrl.key, { status: 'loading', message: `Loading ${manifest.name}…`, activePath: path, pathNote: note });
    try {
      ctrl.runner = await createRunner(path, manifest, this.runnerContext(ctrl.key, path));
    } catch (err) {
      if (path === 'wasm' || err instanceof ModelLoadError) throw err;
      // The model loads but our GPU post-processing could not be set up: run it on the CPU.
      console.error(err);
      store.notify('error', `GPU post-processing could not start for ${manifest.name} (${errorText(err)}): this pane runs on the CPU path.`);
      store.updatePane(ctrl.key, { activePath: 'wasm', pathNote: 'GPU post-processing failed: CPU fallback' });
      ctrl.runner = await createRunner('wasm', manifest, this.runnerContext(ctrl.key, 'wasm'));
    }
    ctrl.runnerKey = key;
    return ctrl.runner;
  }

  private runnerContext(paneKey: number, path: ExecutionPath): RunnerContext {
    return { device: path === 'wasm' ? null : this.deps.gpu.device, paneKey, overlayMode: this.deps.store.getState().overlayMode };
  }

  /** The key of the runner a pane's settings ask for now. */
  private wantedKey(pane: PaneState): string {
    return `${pane.modelId}|${this.resolvePath(pane.path).path}`;
  }

  /**
   * Runs a pane on the latest frame: starts runs while its runner has a free slot; a
   * request that comes while every slot is taken runs once more when one frees.
   */
  async pump(key: number): Promise<void> {
    const { store, frames } = this.deps;
    const ctrl = this.controllers.get(key);
    if (!ctrl || ctrl.halted) return;
    ctrl.pending = true;
    if (ctrl.starting) return;
    ctrl.starting = true;
    try {
      while (ctrl.pending && !ctrl.halted && !ctrl.cancelled && ctrl.runs.length < ctrl.capacity) {
        // An export reading this pane's last result goes first (PaneController.hold).
        await ctrl.beginRun();
        ctrl.pending = false;
        const pane = store.getPane(key);
        if (!frames.current() || !pane) break;
        let runner: PaneRunner;
        try {
          runner = await this.ensureRunner(ctrl, pane);
        } catch (err) {
          if (ctrl.cancelled) break;
          const text = `Model failed to load: ${errorText(err)}`;
          store.updatePane(key, { status: 'error', message: text, result: null, overlay: null, overlayOnCanvas: false });
          store.notify('error', text);
          ctrl.runnerKey = '';
          ctrl.halted = true;
          break;
        }
        if (ctrl.cancelled) break;
        // A new runner with fewer slots than the old one's runs still in flight: later.
        if (ctrl.runs.length >= ctrl.capacity) {
          ctrl.pending = true;
          break;
        }
        // The latest frame once the model is loaded (a load can take a while and the frame
        // taken before it may have been replaced, its bitmap closed).
        const latest = frames.current();
        if (!latest) break;
        this.start(ctrl, runner, latest.frame, latest.source, latest.seq);
      }
    } finally {
      ctrl.starting = false;
      this.settleIfIdle(ctrl);
    }
  }

  /** Starts a run and chains its delivery after the runs started before it. */
  private start(ctrl: PaneController, runner: PaneRunner, frame: Frame, source: Pick<ResultFrame, 'kind' | 'name' | 'original'>, seq?: FrameSeq): void {
    const { store } = this.deps;
    ctrl.countDrops(seq);
    store.updatePane(ctrl.key, { status: 'running', message: '' });
    const shown = store.getPane(ctrl.key)!;
    let output: Promise<RunOutput>;
    try {
      output = runner.run(frame, shown.settings, viewOf(shown));
    } catch (err) {
      output = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    // Handled by `deliver`, in turn; not an unhandled rejection meanwhile.
    output.catch(() => undefined);
    const run: RunInFlight = { frame, runner, output };
    ctrl.runs.push(run);
    ctrl.delivered = ctrl.delivered.then(() => this.deliver(ctrl, run, source));
  }

  /** A run's outcome, in start order: its result stored (or dropped when stale), or its failure shown. */
  private async deliver(ctrl: PaneController, run: RunInFlight, source: Pick<ResultFrame, 'kind' | 'name' | 'original'>): Promise<void> {
    const { store, frames } = this.deps;
    const { key } = ctrl;
    const { frame, runner } = run;
    try {
      const out = await run.output;
      const pane = store.getPane(key);
      if (ctrl.cancelled || !pane) {
        out.overlay?.close();
        return;
      }
      if (ctrl.runner !== runner || this.wantedKey(pane) !== ctrl.runnerKey) {
        // Replaced while running (model switched or deleted, device lost): this result is
        // stale. The pane runs again, unless a run on its current runner is in flight already.
        out.overlay?.close();
        if (!ctrl.runs.some((r) => r !== run && r.runner === ctrl.runner)) ctrl.pending = true;
        return;
      }
      // Frames a second: on a stream, deliveries over the pane's last few (pairs of results a
      // moment apart, with two frames in flight, would read as a burst); on a still image, 1 / total.
      const total = out.result.timings.total ?? 0;
      if (!frames.streaming()) ctrl.rate.reset();
      const streamed = frames.streaming() ? ctrl.rate.add(this.now()) : 0;
      const fps = streamed > 0 ? streamed : total > 0 ? 1000 / total : 0;
      // A hovered instance stays highlighted while the webcam runs: it follows its object
      // (the hover may have come during the run: read it now, against the result shown).
      const highlight = followHighlight(pane.result?.detections, pane.highlight, out.result.detections);
      // The followed instance is composed in before the result is stored: the result, its
      // overlay and its figures are one store write per frame (nothing re-renders twice).
      // This frame's overlay: with frames in flight, the runner's latest may be a later one.
      let { overlay, onCanvas } = out;
      if (highlight !== null) {
        const view = { ...viewOf(pane), highlight };
        ({ overlay, onCanvas } = await (out.recompose ? out.recompose(view) : runner.recompose(view)));
        if (out.overlay !== overlay) out.overlay?.close();
        if (ctrl.cancelled) {
          overlay?.close();
          return;
        }
      }
      const more = ctrl.runs.length > 1 || ctrl.pending;
      store.updatePane(key, (p) => {
        const streaming = frames.streaming();
        p.overlay?.close();
        return {
          result: out.result,
          resultFrameId: frame.id,
          // The pane draws this result on this frame, and exports take the two together.
          resultFrame: { id: frame.id, bitmap: frame.bitmap, width: frame.width, height: frame.height, ...source },
          overlay,
          overlayOnCanvas: onCanvas,
          status: streaming || more ? 'running' : 'done',
          highlight,
          fps,
          frames: p.frames + 1,
          dropped: ctrl.dropped,
          message: '',
        };
      });
    } catch (err) {
      // A run on a runner that was replaced or a pane that was removed meanwhile is not a failure to show.
      const stale = ctrl.cancelled || ctrl.runner !== runner;
      if (!stale) {
        console.error(err);
        const text = `Pane ${this.paneIndex(key) + 1} failed: ${errorText(err)}`;
        store.updatePane(key, { status: 'error', message: text });
        store.notify('error', text);
        // A failed run may leave the runner in a bad state: a new one when the user tries again.
        ctrl.halted = true;
        this.retire(ctrl);
      }
    } finally {
      ctrl.runs.splice(ctrl.runs.indexOf(run), 1);
      this.settleIfIdle(ctrl);
      // A slot is free: the latest frame, if one came meanwhile.
      if (ctrl.pending && !ctrl.halted && !ctrl.cancelled) void this.pump(key);
    }
  }

  /** Nothing in flight and nothing starting: exports may read the runner; retired runners go. */
  private settleIfIdle(ctrl: PaneController): void {
    for (const r of ctrl.retired.splice(0)) {
      if (ctrl.runs.some((run) => run.runner === r)) ctrl.retired.push(r);
      else r.dispose();
    }
    if (ctrl.idle) ctrl.runSettles();
  }

  /** Redraws a pane's overlay of its last result (hover, hidden classes): compose only, no inference. */
  async recompose(key: number): Promise<void> {
    const { store } = this.deps;
    const ctrl = this.controllers.get(key);
    if (!ctrl?.runner || ctrl.busy) return;
    if (ctrl.recomposing) {
      ctrl.recomposePending = true;
      return;
    }
    ctrl.recomposing = true;
    try {
      do {
        ctrl.recomposePending = false;
        const pane = store.getPane(key);
        if (!pane?.result || !ctrl.runner) break;
        const { overlay, onCanvas } = await ctrl.runner.recompose(viewOf(pane));
        store.updatePane(key, (p) => {
          p.overlay?.close();
          return { overlay, overlayOnCanvas: onCanvas };
        });
      } while (ctrl.recomposePending);
    } catch (err) {
      console.warn('recompose failed', err);
    } finally {
      ctrl.recomposing = false;
    }
  }

  private paneIndex(key: number): number {
    return this.deps.store.getState().panes.findIndex((p) => p.key === key);
  }
}
