/**
 * The engine: the app's machinery outside React, as one object the UI calls (`engine`
 * below). It wires the parts in ./engine/, each with one job and each constructible in a
 * unit test with fakes:
 *
 * - `DeviceKeeper` (engine/device.ts): the GPU device — acquired, lost, re-acquired;
 * - `FrameSources` (engine/frames.ts): image, webcam, video file → the current Frame;
 * - `PaneScheduler` (engine/scheduler.ts): one PaneController per pane, the pump, runner
 *   creation and path choice, recompose, holds for exports;
 * - `ModelLibrary` (engine/library.ts): saved, dropped, `?manifest=` and cached remote models,
 *   the class-names dialog, deletion;
 * - `Evaluation` (engine/evaluation.ts), `Exporter` (engine/exports.ts), `LayoutKeeper`
 *   (engine/layout.ts).
 *
 * One frame's way: a source becomes a `Frame` (frames), every pane's controller is pumped
 * (scheduler): it makes sure its runner (model × path) exists on the device (device), runs
 * it on the frame, and stores the FrameResult and overlay. See app/CONTEXT.md.
 */
import type { ExecutionPath, PostprocessSettings } from '../types';
import { importOnnx, userModels } from '../models/fromOnnx';
import { loadManifestFromUrl } from '../models/manifestUrl';
import { cachedManifests } from '../models/catalog';
import type { PaneState } from '../state/store';
import { Frame } from './frame';
import { downloadBlob, exportPng } from './exports';
import { createRunner } from './stages/stageRunner';
import { dropWebGpuSessions, forgetModel, setSavedModelBytes } from './sessions';
import { decodeImage, listCameras, Webcam } from './sources';
import { useVideoTransport, videoType, VideoFile } from './videoSource';
import { droppedSource, evaluationSettings, loadSamples, samplesSource } from '../eval/evalSource';
import { EvalSession } from '../eval/session';
import { browserAcquirer, DeviceKeeper, environment, type DeviceAcquirer } from './engine/device';
import { FrameSources } from './engine/frames';
import { PaneScheduler, type CreateRunner } from './engine/scheduler';
import { MAX_PANES, ModelLibrary, type SavedModelStore } from './engine/library';
import { Evaluation } from './engine/evaluation';
import { Exporter } from './engine/exports';
import { browserLayoutStorage, LayoutKeeper } from './engine/layout';
import { appModels, appStore, type EngineStore, type ModelCatalog } from './engine/ports';

export { EXECUTION_PATHS } from './engine/device';
export { errorText } from './engine/ports';

export const NO_WEBGPU_NOTICE = 'WebGPU is not available in this browser: running on the CPU (ORT wasm + TypeScript post-processing)';

/** What the engine is made of outside itself; the browser's by default (`browserEngineDeps`). */
export interface EngineDeps {
  store: EngineStore;
  models: ModelCatalog;
  acquire: DeviceAcquirer;
  createRunner: CreateRunner;
  saved: SavedModelStore | null;
}

export function browserEngineDeps(): EngineDeps {
  return { store: appStore, models: appModels, acquire: browserAcquirer, createRunner, saved: userModels };
}

export class Engine {
  readonly device: DeviceKeeper;
  readonly frames: FrameSources;
  readonly scheduler: PaneScheduler;
  readonly library: ModelLibrary;
  readonly evaluation: Evaluation;
  readonly exporter: Exporter;
  readonly layout: LayoutKeeper;
  private readonly params: URLSearchParams;
  private readonly store: EngineStore;
  private readonly models: ModelCatalog;
  readonly ready: Promise<void>;

  constructor(search: string, deps: EngineDeps = browserEngineDeps()) {
    const { store, models } = deps;
    this.store = store;
    this.models = models;
    const params = (this.params = new URLSearchParams(search));
    const preferredModel = { get: () => params.get('model'), set: (id: string) => params.set('model', id) };
    const baseUrl = import.meta.env.BASE_URL;
    const fetchSample = async (fileName: string) => {
      const response = await fetch(`${baseUrl}samples/${encodeURIComponent(fileName)}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.blob();
    };
    // COCO image ids of the samples (public/samples/annotations.json), for exports; none where it is missing.
    const sampleIds = () =>
      loadSamples(baseUrl)
        .then((gt) => gt.imageIdByFileName)
        .catch(() => new Map<string, number>());

    this.device = new DeviceKeeper({
      acquire: deps.acquire,
      store,
      hooks: {
        lost: () => {
          this.scheduler.deviceLost();
          Frame.dropGpu();
          dropWebGpuSessions();
        },
        settled: () => this.scheduler.pumpAll(),
      },
    });
    this.frames = new FrameSources({
      store,
      panes: {
        canTakeFrame: () => this.scheduler.canTakeFrame(),
        isBusy: (key) => this.scheduler.isBusy(key),
        framesInFlight: () => this.scheduler.framesInFlight(),
        resumeAll: () => this.scheduler.resumeAll(),
        pumpAll: () => this.scheduler.pumpAll(),
      },
      decodeImage,
      samples: {
        firstFileName: async () => (await loadSamples(baseUrl)).images.find((i) => i.fileName)?.fileName,
        fetch: fetchSample,
        warmIds: () => void sampleIds(),
      },
      openWebcam: (onFrame, onEnded) => new Webcam(onFrame, onEnded),
      openVideo: (file, onFrame, onChange) => new VideoFile(file, (_video, still) => onFrame(still), onChange),
      listCameras,
      capture: (source) => createImageBitmap(source),
      setTransport: (transport) => useVideoTransport.setState({ transport }),
    });
    this.scheduler = new PaneScheduler({ store, models, createRunner: deps.createRunner, gpu: this.device, frames: this.frames, preferredModel });
    this.library = new ModelLibrary({
      store,
      models,
      saved: deps.saved,
      importOnnx,
      loadManifestFromUrl,
      cachedManifests,
      forgetModel,
      panes: this.scheduler,
      preferredModel,
    });
    this.exporter = new Exporter({
      store,
      models,
      hold: (key, take) => this.scheduler.hold(key, take),
      renderPng: exportPng,
      download: downloadBlob,
      sampleIds,
    });
    this.evaluation = new Evaluation({
      store,
      models,
      frames: this.frames,
      panes: this.scheduler,
      samplesSource: () => samplesSource(baseUrl),
      droppedSource,
      newSession: (dataset) => new EvalSession(dataset),
      evaluationSettings,
      onDatasetIds: (ids) => this.exporter.useDatasetIds(ids),
    });
    this.layout = new LayoutKeeper({
      store,
      models,
      storage: browserLayoutStorage(),
      params,
      addPane: (id) => this.scheduler.addPane(id),
      onPageHide: (flush) => addEventListener('pagehide', flush),
    });
    // `user-model:<id>` urls (saved dropped models) are read from IndexedDB.
    const saved = deps.saved;
    setSavedModelBytes(saved ? (id) => saved.bytes(id) : null);
    this.ready = this.init();
  }

  private async init(): Promise<void> {
    const { store, params } = this;
    const gpu = params.get('nowebgpu') === '1' ? null : await this.device.start();
    const env = environment(gpu, params);
    store.setState({ ...env, envReady: true });
    // A software GPU is said in plain words under the top bar (ui/runsOn.ts), not as a notice.
    if (!env.webgpu) store.notify('info', NO_WEBGPU_NOTICE);
    await this.library.loadSavedModels();
    // `?manifest=` may be given several times (one model each), e.g. BlendMask beside B2Inst.
    for (const extra of params.getAll('manifest')) await this.library.addManifestFromUrl(extra);
    await this.library.registerCachedModels();
    if (this.models.list().length === 0) store.notify('error', 'No model manifests were found under models/.');
    const count = Math.max(1, Math.min(MAX_PANES, Number(params.get('panes')) || 1));
    if (!this.layout.restore()) for (let i = 0; i < count; i++) this.scheduler.addPane();
    this.layout.saveOnChange();
    void this.frames.refreshCameras();
    // The first screen shows a model at work: the first sample runs at once (`?autostart=0`:
    // an empty start, as the e2e specs open the app).
    if (params.get('autostart') !== '0') void this.frames.openFirstSample();
  }

  // ---------------------------------------------------------------- panes (engine/scheduler.ts)

  addPane(wanted?: string): void {
    this.scheduler.addPane(wanted);
  }
  removePane(key: number): void {
    this.scheduler.removePane(key);
  }
  resetPane(key: number): void {
    this.scheduler.resetPane(key);
  }
  setModel(key: number, modelId: string): void {
    this.scheduler.setModel(key, modelId);
  }
  setPath(key: number, path: ExecutionPath): void {
    this.scheduler.setPath(key, path);
  }
  setSettings(key: number, patch: Partial<PostprocessSettings>): void {
    this.scheduler.setSettings(key, patch);
  }
  setHighlight(key: number, highlight: number | null): void {
    this.scheduler.setHighlight(key, highlight);
  }
  pinHighlight(key: number, index: number | null): void {
    this.scheduler.pinHighlight(key, index);
  }
  setDisplay(key: number, patch: Partial<Pick<PaneState, 'maskOpacity' | 'hideBoxes' | 'hideLabels'>>): void {
    this.scheduler.setDisplay(key, patch);
  }
  toggleClass(key: number, classIndex: number): void {
    this.scheduler.toggleClass(key, classIndex);
  }

  // ---------------------------------------------------------------- sources (engine/frames.ts)

  /** A dropped / opened file: an ONNX model (added to the pickers and run in a new pane), a video or an image. */
  async openFile(file: File): Promise<void> {
    if (videoType(file)) return this.frames.openVideo(file);
    if (!/\.onnx$/i.test(file.name)) return this.frames.openImage(file, file.name);
    return this.library.addOnnxModel(file);
  }
  openImage(blob: Blob, name: string): Promise<void> {
    return this.frames.openImage(blob, name);
  }
  openSample(fileName: string): Promise<void> {
    return this.frames.openSample(fileName);
  }
  refreshCameras(): Promise<void> {
    return this.frames.refreshCameras();
  }
  selectCamera(deviceId: string): void {
    this.frames.selectCamera(deviceId);
  }
  startWebcam(): Promise<void> {
    return this.frames.startWebcam();
  }
  stopWebcam(): void {
    this.frames.stopWebcam();
  }
  openVideo(file: File): Promise<void> {
    return this.frames.openVideo(file);
  }
  playVideo(): Promise<void> {
    return this.frames.playVideo();
  }
  pauseVideo(): void {
    this.frames.pauseVideo();
  }
  stepVideo(): void {
    this.frames.stepVideo();
  }
  seekVideo(seconds: number): void {
    this.frames.seekVideo(seconds);
  }

  // ---------------------------------------------------------------- models (engine/library.ts)

  addManifestFromUrl(url: string): Promise<void> {
    return this.library.addManifestFromUrl(url);
  }
  addOnnxModel(file: File): Promise<void> {
    return this.library.addOnnxModel(file);
  }
  answerClassNames(text: string | null): Promise<void> {
    return this.library.answerClassNames(text);
  }
  deleteImpact(id: string): { panes: number[]; fallbackName: string } {
    return this.library.deleteImpact(id);
  }
  deleteSavedModel(id: string): Promise<void> {
    return this.library.deleteSavedModel(id);
  }

  // ---------------------------------------------------------------- evaluation, exports, device

  evaluateSamples(): Promise<void> {
    return this.evaluation.evaluateSamples();
  }
  evaluateDropped(json: File, files: File[]): Promise<void> {
    return this.evaluation.evaluateDropped(json, files);
  }
  stopEvaluation(): void {
    this.evaluation.stop();
  }
  exportJson(key: number): Promise<void> {
    return this.exporter.exportJson(key);
  }
  exportPng(key: number): Promise<void> {
    return this.exporter.exportPng(key);
  }
  /** For tests: simulate a device loss. */
  loseDevice(): void {
    this.device.loseDevice();
  }
}

export const engine = new Engine(typeof location !== 'undefined' ? location.search : '');

// The engine holds the device, sessions and webcam: a hot update must not leave two of
// them. Any change that reaches this module (itself or a pipeline/store module it
// imports) reloads the page instead.
if (import.meta.hot) import.meta.hot.accept(() => location.reload());
