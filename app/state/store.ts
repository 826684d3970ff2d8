/**
 * The app's zustand store, split into slices:
 * - env: what the browser offers (WebGPU, adapter, fallback adapter) and the URL defaults;
 * - sources: the current frame's source (image or webcam), its size and frame counter,
 *   the displayed bitmap, the camera list;
 * - panes: one entry per pane: model, requested and running execution path, settings,
 *   status, the last FrameResult and overlay, hover/hidden classes, fps;
 * - notices: messages shown to the user (errors and infos);
 * - evaluation: the in-browser evaluation in progress (each pane keeps its last figures).
 *
 * The engine (app/pipeline/engine.ts) writes results here; React components subscribe to
 * slices; Konva draws only from this state. Non-serialisable members (ImageBitmaps) are
 * left out of `snapshot()`, the test hook's view.
 */
import { create } from 'zustand';
import type { ExecutionPath, FrameResult, PostprocessSettings } from '../types';

export type PaneStatus = 'idle' | 'loading' | 'running' | 'done' | 'error';

export interface EnvSlice {
  /** navigator.gpu exists and gave an adapter (and `?nowebgpu=1` was not given). */
  webgpu: boolean;
  /** The adapter is a software one (SwiftShader): the WebGPU EP is very slow there. */
  fallbackAdapter: boolean;
  adapterName: string;
  /** Resolved once the env probe finished. */
  envReady: boolean;
  /** The path a new pane gets. */
  defaultPath: ExecutionPath;
  /**
   * How GPU panes show their overlay: 'canvas' (drawn by the GPU into the pane's WebGPU
   * canvas, no read-back) or 'readback' (read back every frame, a Konva bitmap).
   */
  overlayMode: 'canvas' | 'readback';
}

/** A dropped model saved in IndexedDB (app/models/userModels.ts), as the UI lists it. */
export interface SavedModelInfo {
  id: string;
  name: string;
  family: string;
  classes: number;
  bytes: number;
}

/** The class-names dialog: a dropped model whose file does not name its classes. */
export interface ClassNamesRequest {
  modelId: string;
  modelName: string;
  /** How many names the outputs need (null: any count, end-to-end exports). */
  count: number | null;
  /** What went wrong with the last answer, if anything. */
  error: string;
}

export interface ModelsSlice {
  /** Bumped whenever a model is added to or removed from the registry (pickers re-render). */
  modelsVersion: number;
  savedModels: SavedModelInfo[];
  classNamesRequest: ClassNamesRequest | null;
}

export interface CameraInfo {
  deviceId: string;
  label: string;
}

export interface SourceSlice {
  sourceKind: 'none' | 'image' | 'webcam';
  sourceName: string;
  /** Size of the working frame (after a downscale of huge images). */
  frameWidth: number;
  frameHeight: number;
  /** Increments with every new frame; a pane's result says which frame it belongs to. */
  frameId: number;
  /** The frame as displayed under the overlays. */
  frameBitmap: ImageBitmap | null;
  cameras: CameraInfo[];
  cameraId: string | null;
  webcamActive: boolean;
}

/** A pane's accuracy from the in-browser evaluation (Engine.evaluate), COCO-style. */
export interface PaneEvaluation {
  /** "samples" or the dropped ground-truth file's name. */
  source: string;
  /** Images scored, of `of` in the source (fewer when the evaluation was stopped or an image failed). */
  images: number;
  of: number;
  /** Ground-truth instances (not crowd) on the images scored. */
  instances: number;
  /** What ran: the figures belong to this model, path and NMS. */
  modelId: string;
  path: ExecutionPath;
  nmsKind: PostprocessSettings['nmsKind'];
  /** The display threshold used while evaluating (the candidate threshold). */
  scoreThreshold: number;
  maskAP: number;
  maskAP50: number;
  maskAP75: number;
  boxAP: number;
  boundaryAP: number;
}

/** The evaluation in progress: images done of total. */
export interface EvalRun {
  source: string;
  done: number;
  total: number;
}

export interface PaneState {
  /** Stable key (pane index may change when a pane is removed). */
  key: number;
  modelId: string;
  /** Path asked for by the user (or the default). */
  path: ExecutionPath;
  /** Path actually running (may differ: e.g. no WebGPU → 'wasm'); null before the first run. */
  activePath: ExecutionPath | null;
  /** Why activePath differs from path, or what the path means here. */
  pathNote: string;
  settings: PostprocessSettings;
  status: PaneStatus;
  message: string;
  result: FrameResult | null;
  /** Frame id of `result`. */
  resultFrameId: number;
  overlay: ImageBitmap | null;
  /** The last result's overlay is drawn in the pane's WebGPU canvas (not in `overlay`). */
  overlayOnCanvas: boolean;
  hiddenClasses: number[];
  /** Index into result.detections of the hovered instance. */
  highlight: number | null;
  fps: number;
  /** Frames processed since the source started. */
  frames: number;
  /** The last in-browser evaluation of this pane's model, if any (cleared when the model changes). */
  evaluation: PaneEvaluation | null;
}

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export interface NoticesSlice {
  notices: Notice[];
}

export type State = EnvSlice & SourceSlice & { panes: PaneState[] } & NoticesSlice & ModelsSlice & { evalRun: EvalRun | null };

export const useStore = create<State>()(() => ({
  webgpu: false,
  fallbackAdapter: false,
  adapterName: '',
  envReady: false,
  defaultPath: 'wasm',
  overlayMode: 'canvas',

  modelsVersion: 0,
  savedModels: [],
  classNamesRequest: null,

  sourceKind: 'none',
  sourceName: '',
  frameWidth: 0,
  frameHeight: 0,
  frameId: 0,
  frameBitmap: null,
  cameras: [],
  cameraId: null,
  webcamActive: false,

  panes: [],
  notices: [],
  evalRun: null,
}));

let nextNoticeId = 1;
let nextPaneKey = 1;

// ---- actions (plain functions: the engine and the UI call them) ----

export function notify(kind: Notice['kind'], text: string): number {
  const id = nextNoticeId++;
  useStore.setState((s) => ({ notices: [...s.notices.filter((n) => n.text !== text), { id, kind, text }].slice(-6) }));
  return id;
}

export function dismissNotice(id: number): void {
  useStore.setState((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
}

export function newPaneKey(): number {
  return nextPaneKey++;
}

export function updatePane(key: number, patch: Partial<PaneState> | ((p: PaneState) => Partial<PaneState>)): void {
  useStore.setState((s) => ({
    panes: s.panes.map((p) => (p.key === key ? { ...p, ...(typeof patch === 'function' ? patch(p) : patch) } : p)),
  }));
}

export function getPane(key: number): PaneState | undefined {
  return useStore.getState().panes.find((p) => p.key === key);
}

/** JSON-serialisable view of the store for tests (`window.__segarena.getState()`). */
export function snapshot() {
  const s = useStore.getState();
  return {
    webgpu: s.webgpu,
    fallbackAdapter: s.fallbackAdapter,
    adapterName: s.adapterName,
    defaultPath: s.defaultPath,
    overlayMode: s.overlayMode,
    savedModels: s.savedModels.map((m) => ({ ...m })),
    classNamesRequest: s.classNamesRequest ? { ...s.classNamesRequest } : null,
    source: {
      kind: s.sourceKind,
      name: s.sourceName,
      width: s.frameWidth,
      height: s.frameHeight,
      frameId: s.frameId,
      webcamActive: s.webcamActive,
      cameraId: s.cameraId,
    },
    panes: s.panes.map((p, index) => ({
      index,
      modelId: p.modelId,
      path: p.path,
      activePath: p.activePath,
      settings: { ...p.settings },
      status: p.status,
      message: p.message,
      hiddenClasses: [...p.hiddenClasses],
      highlight: p.highlight,
      fps: p.fps,
      frames: p.frames,
      resultFrameId: p.resultFrameId,
      overlayOnCanvas: p.overlayOnCanvas,
      result: p.result ? JSON.parse(JSON.stringify(p.result)) as FrameResult : null,
      evaluation: p.evaluation ? { ...p.evaluation } : null,
    })),
    notices: s.notices.map((n) => ({ kind: n.kind, text: n.text })),
    evalRun: s.evalRun ? { ...s.evalRun } : null,
  };
}
