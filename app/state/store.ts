/**
 * The app's zustand store, split into slices:
 * - env: what the browser offers (WebGPU, adapter, fallback adapter) and the URL defaults;
 * - sources: the current frame's source (image or webcam), its size and frame counter,
 *   the displayed bitmap, the camera list;
 * - panes: one entry per pane: model, requested and running execution path, settings,
 *   status, the last FrameResult and overlay, hover/hidden classes, fps;
 * - notices: messages shown to the user (errors stay, infos fade; repeats counted) and a
 *   bounded log of them;
 * - evaluation: the in-browser evaluation in progress (each pane keeps its last figures).
 *
 * The engine (app/pipeline/engine.ts) writes results here; React components subscribe to
 * slices; Konva draws only from this state. Non-serialisable members (ImageBitmaps) are
 * left out of `snapshot()`, the test hook's view.
 */
import { create } from 'zustand';
import type { ExecutionPath, FrameResult, PostprocessSettings } from '../types';
import { withDrawTime } from './drawTimes';

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
  /**
   * Threads ORT's wasm EP got in the CPU worker (app/pipeline/cpu/client.ts): several only
   * when the page is cross-origin isolated; null until the worker has started.
   */
  cpuThreads: number | null;
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
  sourceKind: 'none' | 'image' | 'webcam' | 'video';
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

/** One frame as a pane's result keeps it (PaneState.resultFrame). */
export interface ResultFrame {
  /** The store's frameId when it was the latest frame. */
  id: number;
  bitmap: ImageBitmap;
  /** The working size (the result's coordinates). */
  width: number;
  height: number;
  kind: Exclude<SourceSlice['sourceKind'], 'none'>;
  /** The source's name (file name, or the camera's). */
  name: string;
  /** Size of the original image when it was downscaled for the app (MAX_FRAME_SIDE), else null. */
  original: { width: number; height: number } | null;
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
  /** The highlight was pinned by a click (overlay or list): hover leaves it until a click again or Escape. */
  pinned?: boolean;
  /** The frame `result` was computed on: the pane draws its result on it, and exports take both together. */
  resultFrame?: ResultFrame | null;
  /** How the masks overlay is drawn over the frame, 0–1 (default 1: the overlay's own alpha). */
  maskOpacity?: number;
  /** Boxes or labels switched off for this pane (drawing and PNG export). */
  hideBoxes?: boolean;
  hideLabels?: boolean;
  fps: number;
  /** Frames processed since the source started. */
  frames: number;
  /**
   * Webcam / video frames of the current stream this pane never ran because its own runs
   * were all in flight (app/pipeline/engine/scheduler.ts); absent before the first.
   */
  dropped?: number;
  /** The last in-browser evaluation of this pane's model, if any (cleared when the model changes). */
  evaluation: PaneEvaluation | null;
}

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
  /** How many times it was notified (repeats collapse into one notice). */
  count: number;
  /** A notice with a topic replaces the previous one of that topic (device lost → recovered). */
  topic?: string;
}

/** One entry of the notice history: every notice shown, also after it faded or was dismissed. */
export interface NoticeLogEntry {
  id: number;
  kind: Notice['kind'];
  text: string;
  count: number;
}

export interface NoticesSlice {
  /** On screen, oldest first. */
  notices: Notice[];
  /** The last NOTICE_LOG_LENGTH notices shown, oldest first. */
  noticeLog: NoticeLogEntry[];
}

export type State = EnvSlice & SourceSlice & { panes: PaneState[] } & NoticesSlice & ModelsSlice & { evalRun: EvalRun | null };

export const useStore = create<State>()(() => ({
  webgpu: false,
  fallbackAdapter: false,
  adapterName: '',
  envReady: false,
  defaultPath: 'wasm',
  overlayMode: 'canvas',
  cpuThreads: null,

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
  noticeLog: [],
  evalRun: null,
}));

let nextNoticeId = 1;
let nextPaneKey = 1;

// ---- actions (plain functions: the engine and the UI call them) ----

/** How long an info notice stays (restarted when it repeats, or when the pointer/focus leaves the notices). Errors stay until dismissed. */
export const INFO_FADE_MS = 8000;
/** Notices kept at most (oldest dropped first); the UI shows only a few of them at once. */
const MAX_NOTICES = 30;
/** Entries kept in `noticeLog`. */
export const NOTICE_LOG_LENGTH = 50;

/**
 * Fading counts ticks, not clock time: while the page is blocked (a long wasm inference on the
 * main thread) no tick comes, and the one after the block counts once, so a busy page does
 * not use up the time an info is there to be read.
 */
const FADE_TICK_MS = 250;
/** Info id → ms it has left on screen. */
const fadeLeft = new Map<number, number>();
let fadeTimer: ReturnType<typeof setTimeout> | null = null;
/** True while the user points at or focuses the notices: infos do not fade under them. */
let fadeHeld = false;

function armFadeTick(): void {
  if (fadeTimer === null && !fadeHeld && fadeLeft.size > 0) fadeTimer = setTimeout(fadeTick, FADE_TICK_MS);
}

function fadeTick(): void {
  fadeTimer = null;
  for (const [id, left] of fadeLeft) {
    if (left <= FADE_TICK_MS) dismissNotice(id);
    else fadeLeft.set(id, left - FADE_TICK_MS);
  }
  armFadeTick();
}

function clearFade(id: number): void {
  fadeLeft.delete(id);
  // Nothing left to fade: no ticking.
  if (fadeLeft.size === 0 && fadeTimer !== null) {
    clearTimeout(fadeTimer);
    fadeTimer = null;
  }
}

function scheduleFade(id: number): void {
  fadeLeft.set(id, INFO_FADE_MS);
  armFadeTick();
}

/**
 * Shows a notice, newest last. The same kind and text again collapses into the shown one
 * (its count goes up, it moves to the end); a `topic` replaces the shown notice of that topic.
 * Returns the notice's id.
 */
export function notify(kind: Notice['kind'], text: string, options: { topic?: string } = {}): number {
  const { topic } = options;
  const { notices, noticeLog } = useStore.getState();
  const same = notices.find((n) => n.kind === kind && n.text === text);
  const notice: Notice = same ? { ...same, count: same.count + 1, topic: topic ?? same.topic } : { id: nextNoticeId++, kind, text, count: 1, topic };
  const replaced = notices.filter((n) => n.id !== notice.id && topic !== undefined && n.topic === topic);
  const dropped = new Set([notice.id, ...replaced.map((n) => n.id)]);
  const kept = [...notices.filter((n) => !dropped.has(n.id)), notice];
  for (const n of [...replaced, ...kept.slice(0, -MAX_NOTICES)]) clearFade(n.id);
  const logged = noticeLog.some((e) => e.id === notice.id);
  useStore.setState({
    notices: kept.slice(-MAX_NOTICES),
    noticeLog: logged
      ? noticeLog.map((e) => (e.id === notice.id ? { ...e, count: notice.count } : e))
      : [...noticeLog, { id: notice.id, kind, text, count: notice.count }].slice(-NOTICE_LOG_LENGTH),
  });
  if (kind === 'info') scheduleFade(notice.id);
  return notice.id;
}

export function dismissNotice(id: number): void {
  clearFade(id);
  useStore.setState((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
}

/** Holds the infos' fading while the user reads (pointer over or focus in the notices); on release each info gets INFO_FADE_MS again. */
export function holdNoticeFading(hold: boolean): void {
  if (hold === fadeHeld) return;
  fadeHeld = hold;
  if (fadeTimer !== null) clearTimeout(fadeTimer);
  fadeTimer = null;
  if (!hold) for (const id of fadeLeft.keys()) scheduleFade(id);
}

export function newPaneKey(): number {
  return nextPaneKey++;
}

/**
 * Writes a patch into one pane. A patch that changes nothing (every field already holds that
 * value) is no write: subscribers are not woken and nothing re-renders (the engine sets a
 * pane 'running' before each run; on the webcam it already is).
 */
export function updatePane(key: number, patch: Partial<PaneState> | ((p: PaneState) => Partial<PaneState>)): void {
  const current = useStore.getState().panes.find((p) => p.key === key);
  if (!current) return;
  const changes = typeof patch === 'function' ? patch(current) : patch;
  if ((Object.keys(changes) as Array<keyof PaneState>).every((k) => Object.is(current[k], changes[k]))) return;
  useStore.setState((s) => ({
    panes: s.panes.map((p) => (p.key === key ? { ...p, ...changes } : p)),
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
    cpuThreads: s.cpuThreads,
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
      dropped: p.dropped ?? 0,
      resultFrameId: p.resultFrameId,
      overlayOnCanvas: p.overlayOnCanvas,
      // With its draw time (measured after the result was stored: state/drawTimes.ts).
      result: p.result ? (JSON.parse(JSON.stringify(withDrawTime(p.result))) as FrameResult) : null,
      evaluation: p.evaluation ? { ...p.evaluation } : null,
    })),
    notices: s.notices.map((n) => ({ kind: n.kind, text: n.text, count: n.count })),
    noticeLog: s.noticeLog.map((n) => ({ kind: n.kind, text: n.text, count: n.count })),
    evalRun: s.evalRun ? { ...s.evalRun } : null,
  };
}
