/**
 * The engine: owns the GPU device, the current frame, the webcam and one PaneController
 * per pane; lives outside React. It reads pane settings from the store and writes results
 * back into it. React components call its methods (the `engine` singleton below).
 *
 * One frame's way: a source (image file / webcam frame) becomes a `Frame` (decoded once,
 * shared), stored as `frameBitmap`; every pane's controller is pumped: it makes sure its
 * runner (model × path) exists, runs it on the frame, and stores the FrameResult and the
 * overlay bitmap. A pane that is still busy when a new frame comes runs once more on the
 * latest frame when it is done (frames in between are dropped, never queued).
 */
import type { ExecutionPath, ModelManifest, PostprocessSettings } from '../types';
import { importOnnx, userModels } from '../models/fromOnnx';
import { readClassNames } from '../families/detect';
import { addModel, defaultModelId, getModel, listModels, removeModel } from '../models/registry';
import { loadManifestFromUrl } from '../models/manifestUrl';
import { validateManifest } from '../models/manifestSchema';
import { getPane, newPaneKey, notify, updatePane, useStore, type PaneState, type ResultFrame } from '../state/store';
import { layoutOf, layoutSaver, loadLayout, restorePlan, urlGivesLayout, type LayoutStorage } from '../state/persist';
import { cachedManifests } from '../models/catalog';
import { acquireGpuDevice, type GpuContext } from '../gpu/device';
import { Frame } from './frame';
import { followHighlight } from './highlight';
import { downloadBlob, exportBaseName, exportCocoJson, exportFileName, exportImagesJson, exportPng, pngFileName, type ExportImage } from './exports';
import { createRunner } from './stages/stageRunner';
import { ModelLoadError, type OverlayView, type PaneRunner, type RunnerContext } from './runner';
import { dropWebGpuSessions, forgetModel } from './sessions';
import { cameraErrorMessage, decodeImage, listCameras, SourceError, Webcam, WebcamCancelled } from './sources';
import { useVideoTransport, videoType, VideoFile } from './videoSource';
import { droppedSource, evaluationSettings, loadSamples, samplesSource, type EvalSource } from '../eval/evalSource';
import { EvalSession } from '../eval/session';

export const EXECUTION_PATHS: readonly ExecutionPath[] = ['webgpu', 'wasm+gpu', 'wasm'];

export const NO_WEBGPU_NOTICE =
  'WebGPU is not available in this browser: running on the CPU (ORT wasm + TypeScript post-processing)';

/**
 * Whether software adapters (SwiftShader) get the read-back overlay by default. Yes: in
 * headless Chromium 156 on SwiftShader, configuring a WebGPU canvas context and clearing
 * it once is enough for the device to be lost ('destroyed', "A valid external Instance
 * reference no longer exists") a moment later — checked with a page holding nothing but
 * that canvas. Real GPUs take the canvas way (no read-back); `?overlay=` overrides.
 */
const OVERLAY_READBACK_ON_FALLBACK = true;

/** The most panes the app opens (`?panes=`, a saved layout, dropped models). */
const MAX_PANES = 6;

/** Placeholder class count when the user skips naming an end-to-end export's classes. */
const SKIPPED_CLASS_COUNT = 80;

/** Smoothing of the per-pane fps (exponential moving average weight of the newest interval). */
const FPS_SMOOTHING = 0.3;

/** Re-acquiring a lost GPU device: waits between tries (ms), then the CPU for good. */
const REACQUIRE_DELAYS_MS = [0, 1000, 3000, 8000];
/** This many losses within LOSS_WINDOW_MS and the GPU is not asked again until a reload. */
const MAX_LOSSES_IN_WINDOW = 3;
const LOSS_WINDOW_MS = 60_000;

/** The source on screen when an evaluation started (Engine.pauseSource), put back when it ends. */
type PausedSource =
  | { kind: 'none' }
  | { kind: 'webcam' }
  | { kind: 'video'; file: File; time: number }
  | { kind: 'image'; bitmap: ImageBitmap; width: number; height: number; name: string };

class PaneController {
  runner: PaneRunner | null = null;
  runnerKey = '';
  busy = false;
  pending = false;
  lastDoneAt = 0;
  recomposing = false;
  recomposePending = false;
  /** The frame the run in flight works on (its bitmap is not closed under it). */
  frame: Frame | null = null;
  /** Runners replaced while a run was in flight: disposed when that run ends, their results and errors dropped. */
  readonly retired: PaneRunner[] = [];
  /** The pane was removed: a run in flight ends without a word. */
  cancelled = false;
  /**
   * The last run failed: the pane shows the error and waits for the user (a new image, model,
   * path or setting) instead of failing again on every webcam frame.
   */
  halted = false;
  /** Exports waiting for or reading the runner's last result: no run starts meanwhile (`hold`). */
  private holds = 0;
  private readonly released: Array<() => void> = [];
  /** Settles once the run in flight has stored its result; null when none is in flight. */
  private running: Promise<void> | null = null;
  private settle: (() => void) | null = null;
  constructor(readonly key: number) {}

  /**
   * The pump, before each run: waits for the exports holding the runner, then marks a run in
   * flight in the same step (no export can slip in between). When the last run ended without
   * a result, its mark stays: an export waits on.
   */
  async beginRun(): Promise<void> {
    while (this.holds > 0) await new Promise<void>((r) => this.released.push(r));
    if (!this.running) this.running = new Promise<void>((r) => (this.settle = r));
  }

  /** The run's result is in the store (or the pump stopped). */
  runSettles(): void {
    this.settle?.();
    this.settle = null;
    this.running = null;
  }

  /**
   * Runs `take` with the runner at rest: after the run in flight has stored its result and
   * before the next one starts, so that what the runner reads back (masks, overlay) belongs
   * to the pane's result and to the frame it was computed on.
   */
  async hold<T>(take: () => Promise<T>): Promise<T> {
    this.holds++;
    try {
      while (this.running) await this.running;
      return await take();
    } finally {
      this.holds--;
      if (this.holds === 0) for (const r of this.released.splice(0)) r();
    }
  }
}

export class Engine {
  private device: GPUDevice | null = null;
  private gpuLost = false;
  private frame: Frame | null = null;
  private oldBitmaps: ImageBitmap[] = [];
  /** Where the current frame comes from, kept with each pane's result (PaneState.resultFrame). */
  private frameSource: Pick<ResultFrame, 'kind' | 'name' | 'original'> | null = null;
  /** Frame bitmaps the panes showed at the last setFrame (Konva may still draw them this tick). */
  private shownBefore = new Set<ImageBitmap>();
  /** file name → image id of the last dropped COCO ground truth, for exports. */
  private droppedImageIds = new Map<string, number>();
  private webcam: Webcam | null = null;
  private capturing = false;
  private readonly controllers = new Map<number, PaneController>();
  private readonly params: URLSearchParams;
  readonly ready: Promise<void>;

  constructor(search: string) {
    this.params = new URLSearchParams(search);
    this.ready = this.init();
  }

  // ---------------------------------------------------------------- setup

  private async init(): Promise<void> {
    const noWebGpu = this.params.get('nowebgpu') === '1';
    let fallbackAdapter = false;
    let adapterName = '';
    if (!noWebGpu) {
      try {
        const gpu = await this.acquire();
        this.device = gpu.device;
        fallbackAdapter = gpu.adapter.isFallbackAdapter;
        adapterName = adapterLabel(gpu);
      } catch (err) {
        console.warn('No WebGPU device:', err);
      }
    }
    const webgpu = this.device !== null;
    const asked = this.params.get('path');
    const defaultPath: ExecutionPath =
      asked && (EXECUTION_PATHS as readonly string[]).includes(asked)
        ? (asked as ExecutionPath)
        : !webgpu
          ? 'wasm'
          : fallbackAdapter
            ? 'wasm+gpu'
            : 'webgpu';
    // GPU overlays go straight to each pane's WebGPU canvas; `?overlay=readback` asks for
    // the per-frame read-back instead (OVERLAY_READBACK_ON_FALLBACK: software adapters).
    const askedOverlay = this.params.get('overlay');
    const overlayMode: 'canvas' | 'readback' =
      askedOverlay === 'readback' || askedOverlay === 'canvas' ? askedOverlay : fallbackAdapter && OVERLAY_READBACK_ON_FALLBACK ? 'readback' : 'canvas';
    useStore.setState({ webgpu, fallbackAdapter, adapterName, defaultPath, overlayMode, envReady: true });
    // A software GPU is said in plain words under the top bar (ui/runsOn.ts), not as a notice.
    if (!webgpu) notify('info', NO_WEBGPU_NOTICE);
    await this.loadSavedModels();
    const extra = this.params.get('manifest');
    if (extra) await this.addManifestFromUrl(extra);
    await this.registerCachedModels();
    if (listModels().length === 0) notify('error', 'No model manifests were found under models/.');
    const count = Math.max(1, Math.min(MAX_PANES, Number(this.params.get('panes')) || 1));
    if (!this.restoreLayout()) for (let i = 0; i < count; i++) this.addPane();
    this.saveLayoutOnChange();
    void this.refreshCameras();
    // The first screen shows a model at work: the first sample runs at once (`?autostart=0`:
    // an empty start, as the e2e specs open the app).
    if (this.params.get('autostart') !== '0') void this.openFirstSample();
  }

  /**
   * The first bundled sample, opened on load unless the user got there first (an image, the
   * webcam, an evaluation): nothing they opened is replaced. No samples: the empty pane's hint stays.
   */
  private async openFirstSample(): Promise<void> {
    const userFirst = () => useStore.getState().frameId !== 0 || this.webcam !== null || useStore.getState().evalRun !== null;
    try {
      const gt = await loadSamples(import.meta.env.BASE_URL);
      const fileName = gt.images.find((i) => i.fileName)?.fileName;
      if (!fileName || userFirst()) return;
      const response = await fetch(`${import.meta.env.BASE_URL}samples/${encodeURIComponent(fileName)}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const image = await decodeImage(await response.blob(), fileName);
      // Checked again after the awaits, right before the frame is set.
      if (userFirst()) {
        image.bitmap.close();
        return;
      }
      for (const p of useStore.getState().panes) updatePane(p.key, { status: 'running', frames: 0, fps: 0 });
      this.setFrame(image.bitmap, image.width, image.height, 'image', fileName);
    } catch (err) {
      console.warn('The first sample could not be opened:', err);
    }
  }

  /** `?manifest=<url>`: a ModelManifest JSON (this origin, or one `connect-src` allows; its `url` may be remote: see app/models/catalog.ts). */
  async addManifestFromUrl(url: string): Promise<void> {
    try {
      // Fetched, checked with the full schema, refused under a bundled or loaded model's id.
      const manifest = await loadManifestFromUrl(url);
      addModel(manifest);
      if (!this.params.get('model')) this.params.set('model', manifest.id);
    } catch (err) {
      notify('error', `Model failed to load: ${errorText(err)}`);
    }
  }

  /**
   * Remote models in Cache Storage join the pickers with the manifest stored next to their
   * bytes (app/models/catalog.ts), so they run without their `?manifest=` link. One given
   * by `?manifest=` or saved under the same id keeps its place.
   */
  private async registerCachedModels(): Promise<void> {
    try {
      for (const { url, manifest } of await cachedManifests()) {
        const check = validateManifest(manifest);
        if (!check.ok) {
          notify('error', `The cached model ${url} has an unreadable manifest (${check.errors.slice(0, 3).join('; ')}); free it under “Manage models” and load it again.`);
          continue;
        }
        if (getModel(check.manifest.id)) continue;
        try {
          addModel(check.manifest);
        } catch (err) {
          notify('error', `The cached model ${url} could not be listed (${errorText(err)}).`);
        }
      }
    } catch (err) {
      console.warn('cached models could not be listed', err);
    }
  }

  /**
   * The panes of the last visit (app/state/persist.ts), unless the URL describes its own.
   * False when there is none to restore: the caller opens the default panes.
   */
  private restoreLayout(): boolean {
    if (urlGivesLayout(this.params)) return false;
    const { layout, problem } = loadLayout(layoutStorage());
    if (problem) notify('info', `The saved pane layout was not used (${problem}).`);
    const fallbackId = defaultModelId();
    if (!layout || !fallbackId) return false;
    const plan = restorePlan(layout, { classCount: (id) => getModel(id)?.classes.length, fallbackId, modelName: (id) => getModel(id)?.name ?? id });
    for (const saved of plan.panes) {
      this.addPane(saved.modelId);
      const panes = useStore.getState().panes;
      const manifest = getModel(saved.modelId)!;
      const { maskOpacity, hideBoxes, hideLabels } = saved;
      updatePane(panes[panes.length - 1]!.key, {
        path: saved.path, settings: saved.settings ?? defaultSettings(manifest.defaults), hiddenClasses: saved.hiddenClasses,
        // How the pane draws, when it was saved (older layouts have none: the defaults stay).
        ...(maskOpacity !== undefined ? { maskOpacity } : {}),
        ...(hideBoxes !== undefined ? { hideBoxes } : {}),
        ...(hideLabels !== undefined ? { hideLabels } : {}),
      });
    }
    if (plan.notes.length > 0) notify('info', `The saved pane layout was restored, but ${plan.notes.join('; ')}.`);
    return true;
  }

  /** Writes the pane layout whenever it changes (debounced; not while an evaluation has swapped the settings). */
  private saveLayoutOnChange(): void {
    const storage = layoutStorage();
    if (!storage) return;
    const saver = layoutSaver(storage, (message) => notify('info', message));
    const save = () => {
      const s = useStore.getState();
      if (!s.evalRun) saver.update(layoutOf(s.panes));
    };
    save();
    // Pane state changes several times a frame (results, timings): only a change of what is
    // saved (the fields layoutOf reads, compared by reference) serialises the layout.
    const savedFields = (p: PaneState) => [p.key, p.modelId, p.path, p.settings, p.hiddenClasses, p.maskOpacity, p.hideBoxes, p.hideLabels];
    const layoutChanged = (a: readonly PaneState[], b: readonly PaneState[]) =>
      a.length !== b.length || a.some((p, i) => savedFields(p).some((v, j) => v !== savedFields(b[i]!)[j]));
    useStore.subscribe((s, prev) => {
      if (s.evalRun !== prev.evalRun || (s.panes !== prev.panes && layoutChanged(s.panes, prev.panes))) save();
    });
    // A reload right after a change still finds it.
    addEventListener('pagehide', () => saver.flush());
  }

  // ---------------------------------------------------------------- panes

  /** A pane at the end, running `wanted` when given, else the last pane's model (or the default). */
  addPane(wanted?: string): void {
    const s = useStore.getState();
    const last = s.panes[s.panes.length - 1];
    const modelId = (wanted && getModel(wanted) ? wanted : last?.modelId) ?? defaultModelId(this.params.get('model')) ?? '';
    const manifest = getModel(modelId);
    const key = newPaneKey();
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
    useStore.setState({ panes: [...s.panes, pane] });
    this.controllers.set(key, new PaneController(key));
    if (this.frame) void this.pump(key);
  }

  removePane(key: number): void {
    const ctrl = this.controllers.get(key);
    if (ctrl) {
      ctrl.cancelled = true;
      this.dropRunner(ctrl);
    }
    this.controllers.delete(key);
    useStore.setState((s) => ({ panes: s.panes.filter((p) => p.key !== key) }));
  }

  /**
   * Takes a pane's runner out of use. A run in flight keeps it to its end (its result and
   * any error are then dropped); otherwise it is disposed now.
   */
  private dropRunner(ctrl: PaneController): void {
    const runner = ctrl.runner;
    ctrl.runner = null;
    ctrl.runnerKey = '';
    if (!runner) return;
    if (ctrl.busy) ctrl.retired.push(runner);
    else runner.dispose();
  }

  /** The pane error boundary's Reset: the pane's model (or the default) with its defaults and a fresh runner. */
  resetPane(key: number): void {
    const pane = getPane(key);
    const ctrl = this.controllers.get(key);
    if (!pane || !ctrl) return;
    this.dropRunner(ctrl);
    ctrl.halted = false;
    const modelId = getModel(pane.modelId) ? pane.modelId : defaultModelId(this.params.get('model')) ?? pane.modelId;
    const manifest = getModel(modelId);
    updatePane(key, {
      modelId,
      ...(manifest ? { settings: defaultSettings(manifest.defaults) } : {}),
      status: 'idle', message: '', result: null, overlay: null, overlayOnCanvas: false, hiddenClasses: [], highlight: null, evaluation: null,
    });
    void this.pump(key);
  }

  /** The user changed something about the pane: a halted pane may run again. */
  private resume(key: number): void {
    const ctrl = this.controllers.get(key);
    if (ctrl) ctrl.halted = false;
  }

  setModel(key: number, modelId: string): void {
    const manifest = getModel(modelId);
    if (!manifest) return;
    this.resume(key);
    updatePane(key, { modelId, settings: defaultSettings(manifest.defaults), hiddenClasses: [], highlight: null, result: null, overlay: null, overlayOnCanvas: false, evaluation: null });
    void this.pump(key);
  }

  setPath(key: number, path: ExecutionPath): void {
    this.resume(key);
    updatePane(key, { path, highlight: null });
    void this.pump(key);
  }

  setSettings(key: number, patch: Partial<PostprocessSettings>): void {
    this.resume(key);
    updatePane(key, (p) => ({ settings: { ...p.settings, ...patch }, highlight: null }));
    void this.pump(key);
  }

  setHighlight(key: number, highlight: number | null): void {
    const pane = getPane(key);
    // A pinned instance stays highlighted whatever the pointer hovers (pinHighlight).
    if (!pane || (pane.pinned && pane.highlight !== null) || pane.highlight === highlight) return;
    updatePane(key, { highlight, pinned: false });
    void this.recompose(key);
  }

  /**
   * A click on an instance (overlay or instance list) pins its highlight and details against
   * hover; a click on the pinned one again, or null (Escape, a click beside every instance),
   * unpins it.
   */
  pinHighlight(key: number, index: number | null): void {
    const pane = getPane(key);
    if (!pane) return;
    const unpin = index === null || (pane.pinned && pane.highlight === index);
    if (unpin && !pane.pinned) return;
    updatePane(key, unpin ? { pinned: false, highlight: null } : { pinned: true, highlight: index });
    void this.recompose(key);
  }

  /** How the pane draws its result: mask opacity, boxes and labels on or off (drawing and PNG export; nothing runs again). */
  setDisplay(key: number, patch: Partial<Pick<PaneState, 'maskOpacity' | 'hideBoxes' | 'hideLabels'>>): void {
    updatePane(key, patch);
  }

  toggleClass(key: number, classIndex: number): void {
    updatePane(key, (p) => ({
      hiddenClasses: p.hiddenClasses.includes(classIndex) ? p.hiddenClasses.filter((c) => c !== classIndex) : [...p.hiddenClasses, classIndex],
      highlight: null,
    }));
    void this.recompose(key);
  }

  /** Which path a pane can really run, and why it differs from the asked one. */
  private resolvePath(asked: ExecutionPath, manifest: ModelManifest): { path: ExecutionPath; note: string } {
    if (asked !== 'wasm' && !this.device) {
      return { path: 'wasm', note: this.gpuLost ? 'GPU lost: CPU fallback' : 'no WebGPU: CPU fallback' };
    }
    const state = useStore.getState();
    if (asked === 'wasm+gpu' && state.fallbackAdapter) return { path: asked, note: 'software GPU: inference on CPU' };
    if (asked === 'webgpu' && state.fallbackAdapter) return { path: asked, note: 'software GPU: slow' };
    return { path: asked, note: '' };
  }

  private async ensureRunner(ctrl: PaneController, pane: PaneState): Promise<PaneRunner> {
    const manifest = getModel(pane.modelId);
    if (!manifest) throw new ModelLoadError(`unknown model “${pane.modelId}”`);
    const { path, note } = this.resolvePath(pane.path, manifest);
    const key = `${pane.modelId}|${path}`;
    if (ctrl.runner && ctrl.runnerKey === key) return ctrl.runner;
    // Called between two runs of this pane: nothing runs on the old runner.
    ctrl.runner?.dispose();
    ctrl.runner = null;
    updatePane(ctrl.key, { status: 'loading', message: `Loading ${manifest.name}…`, activePath: path, pathNote: note });
    try {
      ctrl.runner = await createRunner(path, manifest, this.runnerContext(ctrl.key, path));
    } catch (err) {
      if (path === 'wasm' || err instanceof ModelLoadError) throw err;
      // The model loads but our GPU post-processing could not be set up: run it on the CPU.
      console.error(err);
      notify('error', `GPU post-processing could not start for ${manifest.name} (${errorText(err)}): this pane runs on the CPU path.`);
      updatePane(ctrl.key, { activePath: 'wasm', pathNote: 'GPU post-processing failed: CPU fallback' });
      ctrl.runner = await createRunner('wasm', manifest, this.runnerContext(ctrl.key, 'wasm'));
    }
    ctrl.runnerKey = key;
    return ctrl.runner;
  }

  private runnerContext(paneKey: number, path: ExecutionPath): RunnerContext {
    return { device: path === 'wasm' ? null : this.device, paneKey, overlayMode: useStore.getState().overlayMode };
  }

  /** Runs a pane on the latest frame; coalesces requests that come while it is busy. */
  private async pump(key: number): Promise<void> {
    const ctrl = this.controllers.get(key);
    if (!ctrl || ctrl.halted) return;
    if (ctrl.busy) {
      ctrl.pending = true;
      return;
    }
    ctrl.busy = true;
    let runner: PaneRunner | null = null;
    try {
      do {
        // An export reading this pane's last result goes first (PaneController.hold).
        await ctrl.beginRun();
        ctrl.pending = false;
        const pane = getPane(key);
        if (!this.frame || !pane) break;
        try {
          runner = await this.ensureRunner(ctrl, pane);
        } catch (err) {
          if (ctrl.cancelled) break;
          const text = `Model failed to load: ${errorText(err)}`;
          updatePane(key, { status: 'error', message: text, result: null, overlay: null, overlayOnCanvas: false });
          notify('error', text);
          ctrl.runnerKey = '';
          ctrl.halted = true;
          break;
        }
        if (ctrl.cancelled) break;
        // The latest frame once the model is loaded (a load can take a while and the frame
        // taken before it may have been replaced, its bitmap closed).
        const frame = this.frame;
        const source = this.frameSource;
        if (!frame || !source) break;
        ctrl.frame = frame;
        updatePane(key, { status: 'running', message: '' });
        const latest = getPane(key)!;
        const out = await runner.run(frame, latest.settings, viewOf(latest));
        if (ctrl.cancelled) break;
        if (ctrl.runner !== runner) {
          // Replaced while running (model deleted, device lost): this result is stale.
          out.overlay?.close();
          ctrl.pending = true;
          continue;
        }
        const now = performance.now();
        const interval = ctrl.lastDoneAt > 0 && this.streaming() ? now - ctrl.lastDoneAt : out.result.timings.total ?? 0;
        ctrl.lastDoneAt = now;
        // A hovered instance stays highlighted while the webcam runs: it follows its object
        // (the hover may have come during the run: read it now, against the result shown).
        const shown = getPane(key)!;
        const highlight = followHighlight(shown.result?.detections, shown.highlight, out.result.detections);
        // The followed instance is composed in before the result is stored: the result, its
        // overlay and its figures are one store write per frame (nothing re-renders twice).
        let { overlay, onCanvas } = out;
        if (highlight !== null) {
          ({ overlay, onCanvas } = await runner.recompose({ ...viewOf(shown), highlight }));
          if (out.overlay !== overlay) out.overlay?.close();
          if (ctrl.cancelled) {
            overlay?.close();
            break;
          }
        }
        updatePane(key, (p) => {
          const instant = interval > 0 ? 1000 / interval : 0;
          const fps = this.streaming() && p.fps > 0 ? p.fps * (1 - FPS_SMOOTHING) + instant * FPS_SMOOTHING : instant;
          p.overlay?.close();
          return {
            result: out.result,
            resultFrameId: frame.id,
            // The pane draws this result on this frame, and exports take the two together.
            resultFrame: { id: frame.id, bitmap: frame.bitmap, width: frame.width, height: frame.height, ...source },
            overlay,
            overlayOnCanvas: onCanvas,
            status: this.streaming() ? 'running' : ctrl.pending ? 'running' : 'done',
            highlight,
            fps,
            frames: p.frames + 1,
            message: '',
          };
        });
        ctrl.runSettles();
      } while (ctrl.pending);
    } catch (err) {
      // A run on a runner that was replaced or a pane that was removed meanwhile is not a failure to show.
      const stale = ctrl.cancelled || (runner !== null && ctrl.runner !== runner);
      if (!stale) {
        console.error(err);
        const text = `Pane ${paneIndex(key) + 1} failed: ${errorText(err)}`;
        updatePane(key, { status: 'error', message: text });
        notify('error', text);
        // A failed run may leave the runner in a bad state: a new one when the user tries again.
        ctrl.halted = true;
        this.dropRunner(ctrl);
      }
    } finally {
      ctrl.busy = false;
      ctrl.frame = null;
      ctrl.runSettles();
      for (const r of ctrl.retired.splice(0)) r.dispose();
    }
  }

  private async recompose(key: number): Promise<void> {
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
        const pane = getPane(key);
        if (!pane?.result || !ctrl.runner) break;
        const { overlay, onCanvas } = await ctrl.runner.recompose(viewOf(pane));
        updatePane(key, (p) => {
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

  // ---------------------------------------------------------------- sources

  private setFrame(
    bitmap: ImageBitmap,
    width: number,
    height: number,
    kind: 'image' | 'webcam' | 'video',
    name: string,
    original: ResultFrame['original'] = null,
  ): void {
    const prev = useStore.getState();
    const id = prev.frameId + 1;
    this.frame = new Frame(id, bitmap, width, height);
    this.frameSource = { kind, name, original };
    // Konva may still draw the previous bitmap this tick: close bitmaps two frames late,
    // and never one a pane's run in flight still works on, nor one a pane shows its result
    // on (now or at the last frame: it may still be drawn this tick).
    if (prev.frameBitmap) this.oldBitmaps.push(prev.frameBitmap);
    const shown = new Set(prev.panes.flatMap((p) => (p.resultFrame ? [p.resultFrame.bitmap] : [])));
    const inUse = new Set([...this.controllers.values()].map((c) => c.frame?.bitmap));
    for (const b of [...shown, ...this.shownBefore]) inUse.add(b);
    this.shownBefore = shown;
    while (this.oldBitmaps.length > 2) {
      const i = this.oldBitmaps.findIndex((b) => !inUse.has(b));
      if (i < 0 || i >= this.oldBitmaps.length - 2) break;
      this.oldBitmaps.splice(i, 1)[0]!.close();
    }
    // A new image is the user trying again: panes halted by an error run on it.
    if (kind === 'image') for (const c of this.controllers.values()) c.halted = false;
    useStore.setState((s) => ({
      sourceKind: kind,
      sourceName: name,
      frameWidth: width,
      frameHeight: height,
      frameId: id,
      frameBitmap: bitmap,
      // A highlight refers to the previous result's instance order; on the webcam (or a
      // video) it follows its object into the next result instead (followHighlight).
      panes: kind === 'webcam' || kind === 'video' ? s.panes : s.panes.map((p) => (p.highlight === null ? p : { ...p, highlight: null })),
    }));
    for (const key of this.controllers.keys()) void this.pump(key);
  }

  /**
   * Panes leave 'done' as soon as a new image is asked for (a test or user waiting for the
   * new image's 'done' must not see the previous image's); returns how to undo it when the
   * file turns out not to be an image.
   */
  private markPanesRunning(): () => void {
    const before = new Map(useStore.getState().panes.map((p) => [p.key, p.status] as const));
    for (const p of useStore.getState().panes) if (p.status !== 'loading') updatePane(p.key, { status: 'running' });
    return () => {
      for (const [key, status] of before) {
        if (!this.controllers.get(key)?.busy) updatePane(key, { status });
      }
    };
  }

  /** A dropped / opened file: an ONNX model (added to the pickers and run in the first pane), a video or an image. */
  async openFile(file: File): Promise<void> {
    if (videoType(file)) return this.openVideo(file);
    if (!/\.onnx$/i.test(file.name)) return this.openImage(file, file.name);
    return this.addOnnxModel(file);
  }

  // ---------------------------------------------------------------- dropped models

  /** Saved dropped models (IndexedDB) join the registry at start-up. */
  private async loadSavedModels(): Promise<void> {
    if (!userModels) return;
    try {
      // One bad stored entry (an older format, a clashing id) must not hide the others.
      for (const entry of await userModels.list()) {
        try {
          // Stored by an older version, or edited by hand: the full schema before it runs.
          // An end-to-end export still waiting for its class names has none yet, which is fine.
          const check = validateManifest(entry.manifest);
          const awaitingNames = entry.missing.includes('classes') && entry.manifest.classes.length === 0;
          if (!check.ok && !awaitingNames) throw new Error(check.errors.slice(0, 3).join('; '));
          addModel(entry.manifest);
        } catch (err) {
          notify('error', `The saved model “${entry.manifest.name ?? entry.manifest.id}” could not be loaded (${errorText(err)}).`);
        }
      }
      await this.refreshSavedModels();
    } catch (err) {
      notify('error', `Saved models could not be read (${errorText(err)}).`);
    }
  }

  private async refreshSavedModels(): Promise<void> {
    const entries = userModels ? await userModels.list() : [];
    useStore.setState((s) => ({
      modelsVersion: s.modelsVersion + 1,
      savedModels: entries.map((e) => ({ id: e.manifest.id, name: e.manifest.name, family: e.manifest.family, classes: e.manifest.classes.length, bytes: e.bytes })),
    }));
  }

  /**
   * A dropped / picked .onnx: recognised, checked with ORT, saved (models/fromOnnx.ts),
   * added to the pickers; when the file does not name its classes the class-names dialog
   * opens first, and the model runs in a new pane once it is answered (useDroppedModel).
   */
  async addOnnxModel(file: File): Promise<void> {
    try {
      const imported = await importOnnx(file);
      addModel(imported.manifest);
      await this.refreshSavedModels();
      if (imported.notSaved) notify('info', `${imported.manifest.name} is not saved for later visits (${imported.notSaved}).`);
      if (imported.missing.includes('classes')) {
        const fixed = !(imported.manifest.family === 'yolo-seg' && imported.manifest.outputs['detections']);
        useStore.setState({
          classNamesRequest: { modelId: imported.manifest.id, modelName: imported.manifest.name, count: fixed ? imported.manifest.classes.length : null, error: '' },
        });
        return;
      }
      this.useDroppedModel(imported.manifest.id);
    } catch (err) {
      notify('error', `Model failed to load: ${errorText(err)}`);
    }
  }

  /**
   * A new model gets a pane of its own, added at the end; with MAX_PANES open it takes the
   * last pane instead. Either way the notice says which pane runs it (and what it replaced).
   */
  private useDroppedModel(id: string): void {
    const manifest = getModel(id);
    if (!manifest) return;
    const before = useStore.getState().panes;
    const replaced = before.length >= MAX_PANES ? before[before.length - 1]! : null;
    if (replaced) this.setModel(replaced.key, id);
    else this.addPane(id);
    const n = useStore.getState().panes.length;
    notify(
      'info',
      replaced
        ? `Model added: ${manifest.name}. It runs in pane ${n}, in place of ${getModel(replaced.modelId)?.name ?? replaced.modelId} (${MAX_PANES} panes is the most; pick that model again in pane ${n}'s menu).`
        : `Model added: ${manifest.name}. It runs in a new pane, pane ${n}.`,
    );
  }

  /**
   * The class-names dialog's answer: a pasted list / .txt / .yaml text, or null (skipped:
   * "class 0", "class 1", …). A wrong count keeps the dialog open with the error.
   */
  async answerClassNames(text: string | null): Promise<void> {
    const request = useStore.getState().classNamesRequest;
    if (!request) return;
    const manifest = getModel(request.modelId);
    if (!manifest) {
      useStore.setState({ classNamesRequest: null });
      return;
    }
    // An end-to-end export does not fix the count: skipping gives COCO's 80 placeholders.
    const placeholders = Array.from({ length: request.count ?? SKIPPED_CLASS_COUNT }, (_, i) => `class ${i}`);
    let names: string[];
    try {
      names = text === null ? placeholders : readClassNames(text);
    } catch (err) {
      // Why the text was refused (too many names, unreadable YAML), in the dialog.
      useStore.setState({ classNamesRequest: { ...request, error: errorText(err) } });
      return;
    }
    if (names.length === 0) {
      useStore.setState({ classNamesRequest: { ...request, error: 'No class names found in that text.' } });
      return;
    }
    if (request.count !== null && names.length !== request.count) {
      useStore.setState({ classNamesRequest: { ...request, error: `The model has ${request.count} classes; ${names.length} names were given.` } });
      return;
    }
    try {
      let updated: ModelManifest = { ...manifest, classes: names };
      delete updated.categoryIds;
      if (userModels && manifest.url.startsWith('user-model:')) updated = (await userModels.setClasses(manifest.id, names)).manifest;
      addModel(updated);
      await this.refreshSavedModels();
      this.useDroppedModel(updated.id);
      // Closed last: once the dialog is gone, the model is saved, listed and in its pane.
      useStore.setState({ classNamesRequest: null });
    } catch (err) {
      useStore.setState({ classNamesRequest: { ...request, error: errorText(err) } });
    }
  }

  /** What deleting a saved model would do: the panes (numbered from 1) that run it, and the model they would switch to. */
  deleteImpact(id: string): { panes: number[]; fallbackName: string } {
    const preferred = this.params.get('model');
    const fallback = defaultModelId(preferred === id ? null : preferred);
    return {
      panes: useStore.getState().panes.flatMap((p, i) => (p.modelId === id ? [i + 1] : [])),
      fallbackName: (fallback && fallback !== id && getModel(fallback)?.name) || 'no model',
    };
  }

  /** Deletes a saved model; panes that ran it switch to the default model, and a notice names them. */
  async deleteSavedModel(id: string): Promise<void> {
    const name = getModel(id)?.name ?? id;
    const using = this.deleteImpact(id).panes;
    try {
      await userModels?.remove(id);
    } catch (err) {
      notify('error', `The saved model could not be deleted (${errorText(err)}).`);
      return;
    }
    removeModel(id);
    forgetModel(id);
    const fallback = defaultModelId(this.params.get('model'));
    for (const p of useStore.getState().panes) {
      if (p.modelId !== id) continue;
      const ctrl = this.controllers.get(p.key);
      // A run in flight on the deleted model finishes on its runner and is dropped, not shown as a failure.
      if (ctrl) this.dropRunner(ctrl);
      if (fallback) this.setModel(p.key, fallback);
    }
    if (useStore.getState().classNamesRequest?.modelId === id) useStore.setState({ classNamesRequest: null });
    await this.refreshSavedModels();
    const switched = using.length === 0 ? '' : fallback ? ` ${panesText(using)} now ${using.length > 1 ? 'run' : 'runs'} ${getModel(fallback)?.name ?? fallback}.` : ` ${panesText(using)} ${using.length > 1 ? 'have' : 'has'} no model left.`;
    notify('info', `Deleted the saved model ${name}.${switched}`);
  }

  /** Bumped by every openImage: decodes finish out of order, and only the last image asked for is shown. */
  private imageRequest = 0;

  async openImage(blob: Blob, name: string, restore = this.markPanesRunning()): Promise<void> {
    const request = ++this.imageRequest;
    try {
      const image = await decodeImage(blob, name);
      if (request !== this.imageRequest) {
        // A newer image was opened while this one decoded (a small one can finish first).
        image.bitmap.close();
        return;
      }
      if (this.webcam) this.stopWebcam();
      this.closeVideo();
      for (const note of image.notes) notify('info', note);
      if (image.downscaledFrom) {
        notify(
          'info',
          `“${name}” is ${image.downscaledFrom.width}×${image.downscaledFrom.height}: it was downscaled to ${image.width}×${image.height} for display and inference; exported boxes and masks are in the original's pixels.`,
        );
      }
      for (const p of useStore.getState().panes) updatePane(p.key, { status: 'running', frames: 0, fps: 0 });
      this.setFrame(image.bitmap, image.width, image.height, 'image', name, image.downscaledFrom);
    } catch (err) {
      restore();
      notify('error', err instanceof SourceError ? err.message : `This file could not be opened: ${errorText(err)}`);
    }
  }

  /** COCO image ids of the samples (public/samples/annotations.json), for exports; none where it is missing. */
  private loadSampleIds(): Promise<Map<string, number>> {
    return loadSamples(import.meta.env.BASE_URL)
      .then((gt) => gt.imageIdByFileName)
      .catch(() => new Map<string, number>());
  }

  async openSample(fileName: string): Promise<void> {
    const restore = this.markPanesRunning();
    try {
      void this.loadSampleIds();
      const response = await fetch(`${import.meta.env.BASE_URL}samples/${encodeURIComponent(fileName)}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      await this.openImage(await response.blob(), fileName, restore);
    } catch (err) {
      restore();
      notify('error', `The sample “${fileName}” could not be loaded: ${errorText(err)}`);
    }
  }

  async refreshCameras(): Promise<void> {
    try {
      const cameras = await listCameras();
      useStore.setState((s) => ({
        cameras,
        cameraId: s.cameraId && cameras.some((c) => c.deviceId === s.cameraId) ? s.cameraId : (cameras[0]?.deviceId ?? null),
      }));
    } catch {
      // enumerateDevices is missing or blocked: the picker stays empty.
    }
  }

  selectCamera(deviceId: string): void {
    useStore.setState({ cameraId: deviceId });
    if (this.webcam) {
      this.stopWebcam();
      void this.startWebcam();
    }
  }

  async startWebcam(): Promise<void> {
    if (this.webcam) return;
    if (useStore.getState().evalRun) {
      // The evaluation drives the panes image by image; a webcam would take the frames from under it.
      notify('info', 'The webcam can start once the evaluation is done (or stopped).');
      return;
    }
    const webcam = new Webcam(
      (video) => this.onVideoFrame(video),
      () => {
        notify('error', 'The camera stopped (it was unplugged or taken by another application).');
        this.stopWebcam();
      },
    );
    this.webcam = webcam;
    useStore.setState({ webcamActive: true });
    try {
      await webcam.start(useStore.getState().cameraId);
      // The camera is the source now (a video is closed only once it is: a refused camera keeps it).
      this.closeVideo();
      for (const p of useStore.getState().panes) updatePane(p.key, { status: 'running', frames: 0, fps: 0 });
      await this.refreshCameras();
      const opened = webcam.deviceId();
      if (opened) useStore.setState({ cameraId: opened });
    } catch (err) {
      webcam.stop();
      // Overtaken by Stop or by another camera's start: that one owns the state now.
      if (err instanceof WebcamCancelled) return;
      if (this.webcam === webcam) this.webcam = null;
      useStore.setState({ webcamActive: false });
      notify('error', cameraErrorMessage(err));
    }
  }

  stopWebcam(): void {
    if (!this.webcam) return;
    this.webcam.stop();
    this.webcam = null;
    useStore.setState({ webcamActive: false });
    for (const p of useStore.getState().panes) {
      const ctrl = this.controllers.get(p.key);
      if (p.status === 'running' && !ctrl?.busy) updatePane(p.key, { status: p.result ? 'done' : 'idle' });
    }
  }

  private onVideoFrame(video: HTMLVideoElement): void {
    // Drop frames while any pane is still busy: every pane sees the same frames.
    if (this.capturing || [...this.controllers.values()].some((c) => c.busy)) return;
    this.capturing = true;
    const { videoWidth: w, videoHeight: h } = video;
    createImageBitmap(video)
      .then((bitmap) => {
        if (this.webcam) this.setFrame(bitmap, w, h, 'webcam', 'webcam');
        else bitmap.close();
      })
      .catch((err) => console.warn('frame capture failed', err))
      .finally(() => {
        this.capturing = false;
      });
  }

  // ---------------------------------------------------------------- video file

  private videoFile: VideoFile | null = null;
  /** Bumped by every video frame capture: one overtaken by a newer capture (a pause, a step) is dropped. */
  private videoCapture = 0;
  /** Captures in flight of frames the video stopped on: the panes are not 'done' before those ran. */
  private videoStills = 0;

  /** More frames are coming (the webcam, a video playing, seeking or being captured): a pane that finishes stays 'running'. */
  private streaming(): boolean {
    return this.webcam !== null || this.videoFile?.moving === true || this.videoStills > 0;
  }

  /**
   * A dropped / opened video becomes the source, paused on its first frame (the panes run on
   * it); play, pause, step and seek come from the source bar's transport row. A file the
   * browser cannot play gets a message and the source so far stays.
   */
  async openVideo(file: File): Promise<void> {
    if (useStore.getState().evalRun) {
      // The evaluation drives the panes image by image; a video would take the frames from under it.
      notify('info', 'A video can be opened once the evaluation is done (or stopped).');
      return;
    }
    const video: VideoFile = new VideoFile(
      file,
      (_element, still) => this.onVideoFileFrame(video, still),
      () => {
        if (this.videoFile === video) useVideoTransport.setState({ transport: video.transport() });
      },
    );
    try {
      await video.open();
    } catch (err) {
      notify('error', err instanceof SourceError ? err.message : `This video could not be opened: ${errorText(err)}`);
      return;
    }
    if (this.webcam) this.stopWebcam();
    this.closeVideo();
    this.videoFile = video;
    // A new source is the user trying again: panes halted by an error run on it.
    for (const c of this.controllers.values()) c.halted = false;
    for (const p of useStore.getState().panes) updatePane(p.key, { status: 'running', frames: 0, fps: 0 });
    useVideoTransport.setState({ transport: video.transport() });
    this.onVideoFileFrame(video, true);
  }

  async playVideo(): Promise<void> {
    try {
      await this.videoFile?.play();
    } catch (err) {
      notify('error', `The video could not be played: ${errorText(err)}`);
    }
  }

  pauseVideo(): void {
    this.videoFile?.pause();
  }

  stepVideo(): void {
    this.videoFile?.step();
  }

  seekVideo(seconds: number): void {
    this.videoFile?.seek(seconds);
  }

  private closeVideo(): void {
    if (!this.videoFile) return;
    this.videoFile.close();
    this.videoFile = null;
    useVideoTransport.setState({ transport: null });
  }

  private onVideoFileFrame(source: VideoFile, still: boolean): void {
    if (this.videoFile !== source || this.webcam) return;
    // While it plays, frames are dropped while any pane is busy (as the webcam's); a frame the
    // video stopped on is always taken: the panes must end on that one.
    if (!still && (this.capturing || [...this.controllers.values()].some((c) => c.busy))) return;
    const capture = ++this.videoCapture;
    if (still) this.videoStills++;
    else this.capturing = true;
    const { width, height } = source;
    createImageBitmap(source.video)
      .then((bitmap) => {
        // Overtaken by a newer capture, or the source changed meanwhile: not this frame.
        if (this.videoFile === source && capture === this.videoCapture && !this.webcam) this.setFrame(bitmap, width, height, 'video', source.name);
        else bitmap.close();
      })
      .catch((err) => console.warn('video frame capture failed', err))
      .finally(() => {
        if (still) this.videoStills--;
        else this.capturing = false;
        if (this.streaming()) return;
        // No frame follows (a failed or dropped capture): panes waiting for one show their last result.
        for (const p of useStore.getState().panes) {
          if (p.status === 'running' && !this.controllers.get(p.key)?.busy) updatePane(p.key, { status: p.result ? 'done' : 'idle' });
        }
      });
  }

  // ---------------------------------------------------------------- evaluation

  /** Set by stopEvaluation: the evaluation ends after the image in progress. */
  private evalStopAsked = false;

  /** Stops a running evaluation after the current image; the images done so far are scored. */
  stopEvaluation(): void {
    if (useStore.getState().evalRun) this.evalStopAsked = true;
  }

  /** The bundled samples with their ground truth, through every pane. */
  async evaluateSamples(): Promise<void> {
    let source: EvalSource;
    try {
      source = await samplesSource(import.meta.env.BASE_URL);
    } catch (err) {
      notify('error', `The samples' ground truth could not be loaded: ${errorText(err)}`);
      return;
    }
    await this.evaluate(source);
  }

  /** A dropped COCO ground-truth JSON and the images dropped with it, through every pane. */
  async evaluateDropped(json: File, files: File[]): Promise<void> {
    let source: EvalSource;
    try {
      source = await droppedSource(json, files);
    } catch (err) {
      notify('error', `No evaluation: ${errorText(err)}.`);
      return;
    }
    if (source.missing.length) {
      notify('info', `${source.missing.length} of the ${source.dataset.images.length} images ${json.name} names were not dropped with it; evaluating the ${source.images.length} that were.`);
    }
    // Its images, exported later, keep the ids this ground truth gives them.
    this.droppedImageIds = source.dataset.imageIdByFileName;
    await this.evaluate(source);
  }

  /**
   * Every pane's model over the source's images, one image at a time through the normal
   * pipeline (the pane's path, NMS and cap; the display threshold at the candidate
   * threshold, as `npm run eval`), each result and its masks added to a COCO evaluation
   * (app/eval/session.ts); then mask / box / Boundary AP per pane. The panes' own settings
   * come back afterwards, and the last image stays on screen.
   */
  private async evaluate(source: EvalSource): Promise<void> {
    if (useStore.getState().evalRun) {
      notify('info', 'An evaluation is already running.');
      return;
    }
    const panes = useStore.getState().panes.filter((p) => getModel(p.modelId));
    if (panes.length === 0) return;
    const saved = new Map(panes.map((p) => [p.key, p.settings] as const));
    const sessions = new Map(panes.map((p) => [p.key, new EvalSession(source.dataset)] as const));
    useStore.setState({ evalRun: { source: source.name, done: 0, total: source.images.length } });
    // The user's image or webcam is set aside and put back at the end (restoreSource).
    const paused = await this.pauseSource();
    for (const p of panes) updatePane(p.key, { settings: evaluationSettings(p.settings, getModel(p.modelId)!), evaluation: null });
    this.evalStopAsked = false;
    const skipped: string[] = [];
    try {
      for (const [i, image] of source.images.entries()) {
        if (this.evalStopAsked) break;
        await this.openImage(await image.load(), image.fileName);
        const frameId = useStore.getState().frameId;
        await this.panesDone(frameId, panes.map((p) => p.key));
        for (const p of panes) {
          const pane = getPane(p.key);
          const ctrl = this.controllers.get(p.key);
          const manifest = pane && getModel(pane.modelId);
          if (!pane?.result || pane.resultFrameId !== frameId || pane.modelId !== p.modelId || !ctrl?.runner || !manifest) continue;
          const masks = await ctrl.runner.readMasks();
          if (!masks) continue;
          try {
            sessions.get(p.key)!.addFrame(image.id, pane.result, masks, manifest);
          } catch (err) {
            skipped.push(`${image.fileName} (${errorText(err)})`);
          }
        }
        useStore.setState((s) => ({ evalRun: s.evalRun && { ...s.evalRun, done: i + 1 } }));
      }
      for (const p of panes) {
        const pane = getPane(p.key);
        const session = sessions.get(p.key)!;
        if (!pane || pane.modelId !== p.modelId || session.imagesDone === 0) continue;
        const r = session.evaluate();
        const images = session.imageIds;
        updatePane(p.key, {
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
      if (skipped.length) notify('error', `Left out of the evaluation: ${[...new Set(skipped)].join('; ')}`);
    } catch (err) {
      notify('error', `The evaluation stopped: ${errorText(err)}`);
    } finally {
      useStore.setState({ evalRun: null });
      for (const [key, settings] of saved) {
        if (!getPane(key)) continue;
        // An image coming back runs the panes with their settings: no run on the last evaluation image first.
        if (paused.kind === 'image') {
          this.resume(key);
          updatePane(key, { settings, highlight: null });
        } else this.setSettings(key, settings);
      }
      this.restoreSource(paused);
    }
  }

  /** What was on screen when an evaluation started: the webcam is stopped, an image copied (the evaluation's images replace it). */
  private async pauseSource(): Promise<PausedSource> {
    if (this.webcam) {
      this.stopWebcam();
      notify('info', 'The webcam is paused during the evaluation; it starts again when the evaluation ends.');
      return { kind: 'webcam' };
    }
    if (this.videoFile) {
      const { file } = this.videoFile;
      const time = this.videoFile.transport().time;
      this.closeVideo();
      notify('info', `The video “${file.name}” is set aside during the evaluation; it comes back at the same place when the evaluation ends.`);
      return { kind: 'video', file, time };
    }
    const { sourceKind, sourceName } = useStore.getState();
    if (sourceKind !== 'image' || !this.frame) return { kind: 'none' };
    const { width, height } = this.frame;
    try {
      // A copy of its own: the frame's bitmap is closed once the evaluation's images replace it.
      const bitmap = await createImageBitmap(this.frame.bitmap);
      notify('info', `“${sourceName}” is set aside during the evaluation; it comes back when the evaluation ends.`);
      return { kind: 'image', bitmap, width, height, name: sourceName };
    } catch (err) {
      console.warn('the image on screen could not be kept for after the evaluation', err);
      return { kind: 'none' };
    }
  }

  /** Puts back what pauseSource set aside: the image (the panes run on it again) or the webcam. */
  private restoreSource(paused: PausedSource): void {
    if (paused.kind === 'webcam') void this.startWebcam();
    if (paused.kind === 'video') {
      void this.openVideo(paused.file).then(() => {
        if (paused.time > 0) this.seekVideo(paused.time);
      });
    }
    if (paused.kind !== 'image') return;
    for (const p of useStore.getState().panes) updatePane(p.key, { status: 'running', frames: 0, fps: 0 });
    this.setFrame(paused.bitmap, paused.width, paused.height, 'image', paused.name);
  }

  /** Resolves once every pane has a result for this frame, has failed, or is gone. */
  private panesDone(frameId: number, keys: number[]): Promise<void> {
    const done = () =>
      // A newer frame (another image opened meanwhile) also ends the wait: this one's
      // results will not come, and the image is left out rather than waited on forever.
      useStore.getState().frameId !== frameId ||
      keys.every((k) => {
        const p = getPane(k);
        return !p || p.status === 'error' || (p.resultFrameId === frameId && p.status === 'done');
      });
    return new Promise((resolve) => {
      if (done()) return resolve();
      const stop = useStore.subscribe(() => {
        if (!done()) return;
        stop();
        resolve();
      });
    });
  }

  // ---------------------------------------------------------------- GPU loss

  /** Devices we destroyed on purpose (tests), whose 'destroyed' loss is already handled. */
  private readonly destroyedOwn = new WeakSet<GPUDevice>();

  private async acquire(): Promise<GpuContext> {
    const gpu = await acquireGpuDevice({ powerPreference: 'high-performance', onLost: (info) => this.onDeviceLost(info, gpu.device) });
    // app/gpu/device.ts forwards every loss but 'destroyed' (what our own destroy() gives).
    // Chromium also reports 'destroyed' when it drops a device itself (seen on SwiftShader
    // under heavy load), so a 'destroyed' we did not ask for is a loss too.
    void gpu.device.lost.then((info) => {
      if (info.reason === 'destroyed' && !this.destroyedOwn.has(gpu.device)) this.onDeviceLost(info, gpu.device);
    });
    gpu.device.addEventListener('uncapturederror', (e) => this.onUncapturedGpuError((e as GPUUncapturedErrorEvent).error.message));
    return gpu;
  }

  /** When the device was lost, most recent last (MAX_LOSSES_IN_WINDOW). */
  private readonly lossTimes: number[] = [];

  private onDeviceLost(info: { reason: GPUDeviceLostReason; message: string }, lostDevice: GPUDevice): void {
    if (this.device !== lostDevice) return; // an older device, already handled
    this.gpuLost = true;
    this.device = null;
    const now = performance.now();
    this.lossTimes.push(now);
    while (this.lossTimes.length && now - this.lossTimes[0]! > LOSS_WINDOW_MS) this.lossTimes.shift();
    const giveUp = this.lossTimes.length >= MAX_LOSSES_IN_WINDOW;
    notify(
      'error',
      giveUp
        ? `The GPU device was lost ${this.lossTimes.length} times in a minute (${info.message || info.reason}): panes stay on the CPU. Reload the page to try the GPU again.`
        : `The GPU device was lost (${info.message || info.reason}). Recovering…`,
      { topic: 'gpu-device' }, // one notice for the device's state: "recovered" (or not) replaces it
    );
    for (const ctrl of this.controllers.values()) {
      ctrl.halted = false;
      if (ctrl.runner && ctrl.runner.path !== 'wasm') this.dropRunner(ctrl);
    }
    Frame.dropGpu();
    dropWebGpuSessions();
    void (async () => {
      if (!giveUp) await this.reacquire();
      for (const key of this.controllers.keys()) void this.pump(key);
    })();
  }

  /** New device after a loss, with waits between tries (REACQUIRE_DELAYS_MS); the CPU when none comes. */
  private async reacquire(): Promise<void> {
    let last: unknown = null;
    for (const delay of REACQUIRE_DELAYS_MS) {
      if (delay) await new Promise((r) => setTimeout(r, delay));
      try {
        const gpu = await this.acquire();
        this.device = gpu.device;
        this.gpuLost = false;
        notify('info', 'The GPU device was recovered; panes run on it again.', { topic: 'gpu-device' });
        return;
      } catch (err) {
        last = err;
      }
    }
    notify('error', `No GPU device could be acquired again after ${REACQUIRE_DELAYS_MS.length} tries (${errorText(last)}): panes run on the CPU.`, { topic: 'gpu-device' });
  }

  /** GPU errors outside our scoped sections (app/gpu/errorScope.ts), e.g. in ORT's own work: shown once per message. */
  private readonly uncapturedShown = new Set<string>();

  private onUncapturedGpuError(message: string): void {
    console.error('WebGPU error:', message);
    if (this.uncapturedShown.has(message)) return;
    this.uncapturedShown.add(message);
    notify('error', `A GPU error outside the panes' own checks: ${message}. Results on the GPU paths may be wrong; the wasm path is not affected.`);
  }

  /** For tests: simulate a device loss (destroy() reports reason 'destroyed', which
   * app/gpu/device.ts does not forward, so the loss handler is called directly). */
  loseDevice(): void {
    const device = this.device;
    if (!device) return;
    this.onDeviceLost({ reason: 'unknown', message: 'simulated device loss' }, device);
    this.destroyedOwn.add(device);
    device.destroy();
  }

  // ---------------------------------------------------------------- exports

  /**
   * COCO results of the pane's result, its masks read with the runner at rest (a webcam run
   * in flight stores its result first, the next waits): one frame's boxes and masks, named by
   * image or frame and model. An image no dataset names gets the images file beside it.
   */
  async exportJson(key: number): Promise<void> {
    const ctrl = this.controllers.get(key);
    if (!ctrl) return;
    try {
      const taken = await ctrl.hold(async () => {
        const pane = getPane(key);
        const manifest = pane && getModel(pane.modelId);
        if (!pane?.result || !pane.resultFrame || !ctrl.runner || !manifest) return null;
        return { result: pane.result, frame: pane.resultFrame, manifest, masks: await ctrl.runner.readMasks() };
      });
      if (!taken) {
        notify('info', 'Nothing to export yet: open an image first.');
        return;
      }
      const image = await this.exportImage(taken.frame);
      const base = exportBaseName(image.fileName, taken.manifest.id);
      const json = exportCocoJson(taken.result, taken.masks, taken.manifest, image);
      downloadBlob(new Blob([json], { type: 'application/json' }), `${base}-results.json`);
      if (!image.fromDataset) {
        downloadBlob(new Blob([exportImagesJson(image, taken.manifest)], { type: 'application/json' }), `${base}-images.json`);
      }
    } catch (err) {
      notify('error', `Export failed: ${errorText(err)}`);
    }
  }

  /** The pane's result drawn on the frame it was computed on, as the pane shows it. */
  async exportPng(key: number): Promise<void> {
    const ctrl = this.controllers.get(key);
    if (!ctrl) return;
    try {
      const taken = await ctrl.hold(async () => {
        const pane = getPane(key);
        const manifest = pane && getModel(pane.modelId);
        if (!pane?.result || !pane.resultFrame || !manifest) return null;
        // The overlay on a WebGPU canvas is read back now, for the export only; drawn before
        // the hold ends (the next result closes the pane's overlay bitmap).
        const overlay = pane.overlayOnCanvas && ctrl.runner ? await ctrl.runner.overlaySnapshot() : pane.overlay;
        const blob = await exportPng(pane.resultFrame.bitmap, pane, manifest, overlay);
        if (overlay && overlay !== pane.overlay) overlay.close();
        return { blob, frame: pane.resultFrame, manifest };
      });
      if (!taken) {
        notify('info', 'Nothing to export yet: open an image first.');
        return;
      }
      downloadBlob(taken.blob, pngFileName(await this.exportImage(taken.frame), taken.manifest.id));
    } catch (err) {
      notify('error', `Export failed: ${errorText(err)}`);
    }
  }

  /** A frame's name and id in the COCO files: the dataset's id (samples, a dropped ground truth), else the frame's own id. */
  private async exportImage(frame: ResultFrame): Promise<ExportImage> {
    const fileName = exportFileName(frame);
    const datasetId = frame.kind === 'image' ? ((await this.loadSampleIds()).get(fileName) ?? this.droppedImageIds.get(fileName)) : undefined;
    return {
      fileName,
      imageId: datasetId ?? frame.id,
      width: frame.width,
      height: frame.height,
      ...(frame.original ? { original: frame.original } : {}),
      fromDataset: datasetId !== undefined,
    };
  }
}

/** The browser's localStorage, or null where there is none or it is refused (sandboxed frames, privacy settings). */
function layoutStorage(): LayoutStorage | null {
  try {
    return typeof localStorage !== 'undefined' ? localStorage : null;
  } catch {
    return null;
  }
}

function adapterLabel(gpu: GpuContext): string {
  const a = gpu.adapter;
  return [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'WebGPU adapter';
}

function defaultSettings(d: PostprocessSettings & { confThreshold?: number }): PostprocessSettings {
  return { scoreThreshold: d.scoreThreshold, topK: d.topK, nmsIou: d.nmsIou, nmsKind: d.nmsKind, maxDetections: d.maxDetections };
}

function viewOf(p: PaneState): OverlayView {
  return { highlight: p.highlight, hiddenClasses: p.hiddenClasses };
}

/** [2] → "Pane 2", [1, 3] → "Panes 1 and 3", [1, 2, 4] → "Panes 1, 2 and 4". */
function panesText(numbers: number[]): string {
  if (numbers.length === 1) return `Pane ${numbers[0]}`;
  return `Panes ${numbers.slice(0, -1).join(', ')} and ${numbers[numbers.length - 1]}`;
}

function paneIndex(key: number): number {
  return useStore.getState().panes.findIndex((p) => p.key === key);
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  if (typeof err === 'number') return `error code ${err}`;
  return String(err);
}

export const engine = new Engine(typeof location !== 'undefined' ? location.search : '');

// The engine holds the device, sessions and webcam: a hot update must not leave two of
// them. Any change that reaches this module (itself or a pipeline/store module it
// imports) reloads the page instead.
if (import.meta.hot) import.meta.hot.accept(() => location.reload());
