/**
 * The benchmark page (bench.html): the app's own pipeline pieces, driven by scripts/bench.ts
 * through `window.__bench` (Playwright `page.evaluate`). Each entry point runs one part of
 * the benchmark and returns plain JSON:
 *
 * - `info()`: adapter, timestamp-query, the models benchmarked (every model the registry
 *   lists; where no YOLO-seg model is bundled, the untrained test network
 *   models/yoloseg/test/yoloseg-tiny-320-nc80.onnx stands in, labelled so).
 * - `pipeline(cfg)`: per model × frame, the app's runners ('wasm+gpu', 'wasm') end to end,
 *   with per-stage timings exactly as the app reports them (FrameResult.timings), a draw
 *   stage, main-thread busy time and bytes read back. A model whose family has no runner in
 *   this build is skipped with the runner's reason.
 * - `paths(cfg)`: per model × frame, ORT (wasm EP) run ONCE on the real frame, its outputs
 *   uploaded once, then post-processing paths 1 (GPU, Fast NMS), 2 (GPU, greedy) and 3 (CPU
 *   way) on them, and for YOLO-seg models path 4 (the peer's graphs) on the same outputs.
 * - `scaling(cfg)`: paths 1–3 on synthetic outputs against candidates, kept instances and
 *   mask resolution.
 * - `yoloSeg(cfg)`: paths 1–4 on SYNTHETIC YOLO-seg-layout outputs against the instance
 *   count (how path 4 grows).
 * - `official(cfg)`: path 5, the official Ultralytics runtime (installed at bench time, served
 *   by the bench script) on the YOLO-seg model and frames, against our runner and path 1
 *   (official.ts).
 *
 * Warm-up runs are excluded; every figure is summarised over R repetitions (stats.ts).
 */
import type { ExecutionPath, ModelManifest, PostprocessSettings } from '../types';
import { manifestFromOnnx } from '../families/detect';
import { syntheticYoloSegManifest } from '../families/yoloSeg/synthetic';
import { confThresholdOf as yoloSegConfThreshold, yoloSegLayout } from '../families/yoloSeg/manifest';
import { acquireGpuDevice, type GpuContext } from '../gpu/device';
import { kernelCacheStats } from '../gpu/kernelCache';
import { listModels } from '../models/registry';
import { Frame } from '../pipeline/frame';
import { createRunner } from '../pipeline/stages/stageRunner';
import { runOnCpu } from '../pipeline/stages/onnx';
import { getSession } from '../pipeline/sessions';
import { maskSize, type PaneRunner } from '../pipeline/runner';
import { configureOrt, ort } from '../pipeline/ort';
import { preprocessReference, resizeGeometry } from '../reference/preprocess';
import type { RawOutput } from '../families/yolact/reference';
import { startBusyProbe } from './busy';
import { summarize, summarizeKeys, type Summary } from './stats';
import {
  destroyOutputs,
  familyChain,
  peerConfigFor,
  RawReadback,
  runCpuPath,
  runGpuPath,
  PEER_CONFIG,
  runPeerYoloSegPath,
  sameRecords,
  uploadOutputs,
  type BenchPostprocessor,
  type FamilyChain,
  type GpuOutputs,
  type PathRun,
  type PeerNmsConfig,
  type PeerSessions,
} from './paths';
import { runOfficial, type OfficialResult, type OfficialRunConfig } from './official';
import { scaledManifest, scaledYolactOutputs, syntheticFrame, syntheticYoloSegOutputs, YOLO_CLASSES, YOLO_INPUT } from './synthetic';

export interface FrameSpec {
  /** 'samples/sample-1.jpg' (public/) or 'synthetic:SEED:WxH'. */
  id: string;
}

export interface BenchCommon {
  /**
   * Model ids; empty = every model the registry lists (+ the YOLO-seg stand-in). '@smallest':
   * the YOLACT model with the smallest input; '@yoloseg': the YOLO-seg model with the
   * smallest input (smoke runs).
   */
  models: string[];
  frames: string[];
  warmup: number;
  reps: number;
}

let gpu: Promise<GpuContext> | null = null;
function context(): Promise<GpuContext> {
  gpu ??= acquireGpuDevice({ onUncapturedError: (m) => console.error(`[bench] uncaptured GPU error: ${m}`) });
  return gpu;
}

function log(message: string): void {
  console.log(`[bench] ${message}`);
}

/** A model (or a model × part) the bench could not run, and why. */
export interface Skipped {
  model: string;
  family: string;
  part: 'pipeline' | 'paths' | 'peer';
  reason: string;
}

/** The untrained YOLO-seg test network that stands in while no YOLO-seg model is bundled. */
export const YOLOSEG_STAND_IN = 'models/yoloseg/test/yoloseg-tiny-320-nc80.onnx';
/** Untrained: scores near 0.5 everywhere, so every anchor is a candidate; 40 kept keeps mask work bounded. */
const STAND_IN_MAX_DETECTIONS = 40;

let standIn: Promise<ModelManifest | null> | null = null;
function yoloSegStandIn(): Promise<ModelManifest | null> {
  standIn ??= (async () => {
    const r = await fetch(`/${YOLOSEG_STAND_IN}`);
    if (!r.ok) return null;
    const { manifest } = manifestFromOnnx(new Uint8Array(await r.arrayBuffer()), { fileName: 'yoloseg-tiny-320-nc80.onnx', url: YOLOSEG_STAND_IN });
    return {
      ...manifest,
      id: 'yoloseg-test-320-untrained',
      name: 'YOLO-seg test network (untrained)',
      notes: `UNTRAINED tiny network with the Ultralytics YOLO-seg interface (${YOLOSEG_STAND_IN}); stands in until a trained YOLO-seg model is bundled. Its outputs are real ONNX outputs, but its detections mean nothing; maxDetections lowered to ${STAND_IN_MAX_DETECTIONS}.`,
      defaults: { ...manifest.defaults, maxDetections: STAND_IN_MAX_DETECTIONS },
    };
  })();
  return standIn;
}

/** Every model the registry lists, plus the YOLO-seg stand-in where no YOLO-seg model is bundled. */
async function allModels(): Promise<ModelManifest[]> {
  const all = listModels();
  if (!all.some((m) => m.family === 'yolo-seg')) {
    const extra = await yoloSegStandIn();
    if (extra) all.push(extra);
  }
  return all;
}

const byInputArea = (a: ModelManifest, b: ModelManifest) => a.input.width * a.input.height - b.input.width * b.input.height;

async function models(ids: string[]): Promise<ModelManifest[]> {
  const all = await allModels();
  if (ids.length === 0) return all;
  return ids.map((id) => {
    const family = id === '@smallest' ? 'yolact' : id === '@yoloseg' ? 'yolo-seg' : null;
    const m = family ? [...all].filter((x) => x.family === family).sort(byInputArea)[0] : all.find((x) => x.id === id);
    if (!m) throw new Error(`no model “${id}” (have ${all.map((x) => x.id).join(', ')})`);
    return m;
  });
}

async function loadFrame(id: string): Promise<ImageBitmap> {
  const synthetic = /^synthetic:(\d+):(\d+)x(\d+)$/.exec(id);
  if (synthetic) return syntheticFrame(Number(synthetic[1]), Number(synthetic[2]), Number(synthetic[3]));
  const response = await fetch(`/${id}`);
  if (!response.ok) throw new Error(`${id}: HTTP ${response.status}`);
  return createImageBitmap(await response.blob(), { imageOrientation: 'from-image' });
}

function settingsOf(manifest: ModelManifest, nmsKind: PostprocessSettings['nmsKind']): PostprocessSettings {
  const { scoreThreshold, topK, nmsIou, maxDetections } = manifest.defaults;
  return { scoreThreshold, topK, nmsIou, maxDetections, nmsKind };
}

let frameIds = 1;

/** The bench has no pane canvas: the overlay reaches the CPU by one read-back (counted in bytes). */
const BENCH_PANE_KEY = -1;
/** Draws what the app's Overlay draws (frame, overlay, boxes + labels) into a 2D canvas. */
function drawResult(canvas: OffscreenCanvas, bitmap: ImageBitmap, overlay: ImageBitmap | null, boxes: [number, number, number, number][]): void {
  if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
  }
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  if (overlay) ctx.drawImage(overlay, 0, 0, bitmap.width, bitmap.height);
  ctx.strokeStyle = '#ffcc00';
  ctx.lineWidth = 2;
  ctx.font = '12px sans-serif';
  ctx.fillStyle = '#ffcc00';
  boxes.forEach((b, i) => {
    ctx.strokeRect(b[0], b[1], b[2] - b[0], b[3] - b[1]);
    ctx.fillText(`#${i}`, b[0] + 2, b[1] + 12);
  });
  // Force the raster work to happen now (getImageData of one pixel flushes the canvas).
  ctx.getImageData(0, 0, 1, 1);
}

export interface PipelineRow {
  model: string;
  path: ExecutionPath;
  frame: string;
  size: [number, number];
  timingSource: 'gpu' | 'cpu';
  instances: number;
  bytesReadBack: number;
  /** Summaries of upload, preprocess, inference, decode, nms, masks, readback, draw, total, busy. */
  stages: Record<string, Summary>;
  /**
   * Compute pipelines compiled (app/gpu/kernelCache.ts) when the runner was made (a model
   * switch: counted on the frame's first row of the runner only) and during this frame's runs
   * (a new image size: 0 when the kernel cache holds).
   */
  compiles: { onCreate: number | null; onFrame: number };
  /**
   * Main-thread task time of one more run of the frame, without the busy probe (the page's
   * `TaskDuration` from the browser, read before and after); null where the bench runs
   * without it (the smoke spec's page).
   */
  mainTaskMs: number | null;
}

/** The browser's count of the page's main-thread task time (bench/run.ts), when the bench provides it. */
async function mainThreadTaskMs(): Promise<number | null> {
  const read = (window as unknown as { __mainThreadTaskMs?: () => Promise<number> }).__mainThreadTaskMs;
  return read ? read() : null;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function pipeline(cfg: BenchCommon & { paths: ExecutionPath[] }): Promise<{ rows: PipelineRow[]; skipped: Skipped[] }> {
  const { device } = await context();
  const rows: PipelineRow[] = [];
  const skipped: Skipped[] = [];
  const canvas = new OffscreenCanvas(1, 1);
  for (const manifest of await models(cfg.models)) {
    for (const path of cfg.paths) {
      let runner: PaneRunner;
      const compiledBefore = kernelCacheStats(device).pipelines;
      let onCreate: number | null;
      try {
        // The app's own factory: single-stage families and the two-stage Mask R-CNN alike.
        runner = await createRunner(path, manifest, { device: path === 'wasm' ? null : device, paneKey: BENCH_PANE_KEY, overlayMode: 'readback' });
        onCreate = kernelCacheStats(device).pipelines - compiledBefore;
      } catch (e) {
        skipped.push({ model: manifest.id, family: manifest.family, part: 'pipeline', reason: `${path} runner: ${message(e)}` });
        log(`pipeline ${manifest.id} ${path}: SKIPPED (${message(e)})`);
        continue;
      }
      try {
        await runPipelineFrames(runner, manifest, path, cfg, canvas, rows, device, onCreate);
      } catch (e) {
        skipped.push({ model: manifest.id, family: manifest.family, part: 'pipeline', reason: `${path} runner failed: ${message(e)}` });
        log(`pipeline ${manifest.id} ${path}: FAILED (${message(e)})`);
      } finally {
        runner.dispose();
      }
    }
  }
  return { rows, skipped };
}

async function runPipelineFrames(
  runner: PaneRunner,
  manifest: ModelManifest,
  path: ExecutionPath,
  cfg: BenchCommon,
  canvas: OffscreenCanvas,
  rows: PipelineRow[],
  device: GPUDevice,
  onCreate: number | null,
): Promise<void> {
  for (const frameId of cfg.frames) {
    const bitmap = await loadFrame(frameId);
    const compiledBefore = kernelCacheStats(device).pipelines;
    const settings = settingsOf(manifest, 'fast');
    const samples: Record<string, number>[] = [];
    let last = { instances: 0, bytes: 0, source: 'cpu' as 'gpu' | 'cpu' };
    for (let r = 0; r < cfg.warmup + cfg.reps; r++) {
      const frame = new Frame(frameIds++, bitmap, bitmap.width, bitmap.height);
      const probe = startBusyProbe();
      const out = await runner.run(frame, settings, { highlight: null, hiddenClasses: [] });
      const t0 = performance.now();
      drawResult(
        canvas,
        bitmap,
        out.overlay,
        out.result.detections.map((d) => d.box),
      );
      const draw = performance.now() - t0;
      const busy = probe.stop();
      out.overlay?.close();
      if (r < cfg.warmup) continue;
      const t = out.result.timings;
      samples.push({
        ...Object.fromEntries(Object.entries(t).filter(([, v]) => typeof v === 'number')),
        draw,
        busy,
        total: (t.total ?? 0) + draw,
      });
      last = { instances: out.result.detections.length, bytes: out.result.bytesReadBack, source: t.source };
    }
    // One more run, without the ping loop, timed by the browser's main-thread task counter.
    let mainTaskMs: number | null = null;
    const before = await mainThreadTaskMs();
    if (before !== null) {
      const out = await runner.run(new Frame(frameIds++, bitmap, bitmap.width, bitmap.height), settings, { highlight: null, hiddenClasses: [] });
      drawResult(
        canvas,
        bitmap,
        out.overlay,
        out.result.detections.map((d) => d.box),
      );
      out.overlay?.close();
      const after = await mainThreadTaskMs();
      mainTaskMs = after !== null ? after - before : null;
    }
    log(`pipeline ${manifest.id} ${path} ${frameId}: main-thread tasks ${mainTaskMs?.toFixed(1) ?? '–'} ms a frame`);
    rows.push({
      model: manifest.id,
      path,
      frame: frameId,
      size: [bitmap.width, bitmap.height],
      timingSource: last.source,
      instances: last.instances,
      bytesReadBack: last.bytes,
      stages: summarizeKeys(samples),
      compiles: { onCreate: frameId === cfg.frames[0] ? onCreate : null, onFrame: kernelCacheStats(device).pipelines - compiledBefore },
      mainTaskMs,
    });
    log(`pipeline ${manifest.id} ${path} ${frameId}: total ${rows.at(-1)!.stages.total?.median.toFixed(1)} ms`);
    bitmap.close();
  }
}

export interface PathSummary {
  ms: Summary;
  busyMs: Summary;
  stages: Record<string, Summary>;
  bytesReadBack: number;
  instances: number;
  timingSource: string;
}

function summarizeRuns(runs: PathRun[]): PathSummary {
  const last = runs[runs.length - 1]!;
  return {
    ms: summarize(runs.map((r) => r.ms)),
    busyMs: summarize(runs.map((r) => r.busyMs)),
    stages: summarizeKeys(runs.map((r) => Object.fromEntries(Object.entries(r.stages).filter(([, v]) => typeof v === 'number')) as Record<string, number>)),
    bytesReadBack: last.bytesReadBack,
    instances: last.instances,
    timingSource: String(last.stages.source ?? 'cpu'),
  };
}

export interface PathsRow {
  model: string;
  family: string;
  frame: string;
  size: [number, number];
  mask: [number, number];
  candidates?: number;
  kept?: number;
  /** 'real': ORT ran the model on the frame; 'synthetic': seeded outputs (app/bench/synthetic.ts). */
  outputs: 'real' | 'synthetic';
  paths: Record<'gpu-fast' | 'gpu-greedy' | 'cpu', PathSummary>;
  /** Path 4, the peer's graphs on the same outputs (YOLO-seg raw heads, where ../shared is present). */
  peer?: PathSummary & { config: PeerNmsConfig };
  /** Path 1 = CPU reference with Fast NMS; path 2 = path 3 (both greedy): same kept instances. */
  agree: { fastVsReference: boolean; greedyVsCpu: boolean };
}

let cachedPost: { key: string; post: BenchPostprocessor } | null = null;

/** One post-processor per (device, model, mask size), kept while consecutive cases share it (pipelines are compiled once). */
function postprocessorFor(device: GPUDevice, chain: FamilyChain, manifest: ModelManifest, mask: { width: number; height: number }): BenchPostprocessor {
  const key = `${manifest.id}|${mask.width}x${mask.height}`;
  if (cachedPost?.key !== key) {
    cachedPost?.post.destroy();
    cachedPost = { key, post: chain.createGpu(device, manifest, mask) };
  }
  return cachedPost.post;
}

/** Path 4's inputs: the peer's sessions and the config its NMS graph gets. */
interface PeerCase {
  sessions: PeerSessions;
  config: PeerNmsConfig;
}

/** Paths 1–3 (and 4 when `peer` is given) on one set of outputs, R repetitions each after warm-up, interleaved per repetition. */
async function comparePaths(
  device: GPUDevice,
  manifest: ModelManifest,
  raw: Record<string, RawOutput>,
  base: PostprocessSettings,
  image: { width: number; height: number },
  mask: { width: number; height: number },
  warmup: number,
  reps: number,
  peer: PeerCase | null = null,
): Promise<Pick<PathsRow, 'mask' | 'paths' | 'peer' | 'agree'>> {
  const chain = familyChain(manifest.family);
  if (!chain) throw new Error(`no post-processing chains for the ${manifest.family} family`);
  const post = postprocessorFor(device, chain, manifest, mask);
  const readback = new RawReadback(device);
  const outputs: GpuOutputs = uploadOutputs(device, manifest.id, raw);
  const transform = resizeGeometry(image.width, image.height, manifest.input).transform;
  const fast = { ...base, nmsKind: 'fast' as const };
  const greedy = { ...base, nmsKind: 'greedy' as const };
  const runs: Record<'gpu-fast' | 'gpu-greedy' | 'cpu' | 'peer', PathRun[]> = { 'gpu-fast': [], 'gpu-greedy': [], cpu: [], peer: [] };
  let agree = { fastVsReference: true, greedyVsCpu: true };
  try {
    for (let r = 0; r < warmup + reps; r++) {
      const a = await runGpuPath(device, post, outputs, fast, transform, image);
      const b = await runGpuPath(device, post, outputs, greedy, transform, image);
      const c = await runCpuPath(readback, outputs, chain, manifest, greedy, image, mask);
      const d = peer ? await runPeerYoloSegPath(readback, outputs, peer.sessions, manifest.classes.length, manifest.input.width, peer.config) : null;
      if (r === 0) {
        agree = {
          fastVsReference: sameRecords(a.records, chain.records(raw, manifest, fast)),
          greedyVsCpu: sameRecords(b.records, c.records),
        };
      }
      if (r < warmup) continue;
      runs['gpu-fast'].push(a);
      runs['gpu-greedy'].push(b);
      runs.cpu.push(c);
      if (d) runs.peer.push(d);
    }
  } finally {
    readback.destroy();
    destroyOutputs(outputs);
  }
  return {
    mask: [mask.width, mask.height],
    paths: { 'gpu-fast': summarizeRuns(runs['gpu-fast']), 'gpu-greedy': summarizeRuns(runs['gpu-greedy']), cpu: summarizeRuns(runs.cpu) },
    ...(peer && runs.peer.length ? { peer: { ...summarizeRuns(runs.peer), config: peer.config } } : {}),
    agree,
  };
}

/** The peer's two graphs as wasm-EP sessions, fetched from `peerBase` (the bench script routes it to ../shared). */
async function peerSessions(peerBase: string): Promise<PeerSessions> {
  configureOrt();
  const fetchGraph = async (name: string) => {
    const r = await fetch(`${peerBase}${name}`);
    if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  };
  return {
    nms: await ort.InferenceSession.create(await fetchGraph('nms-yolov8.onnx'), { executionProviders: ['wasm'] }),
    mask: await ort.InferenceSession.create(await fetchGraph('mask-yolov8-seg.onnx'), { executionProviders: ['wasm'] }),
  };
}

async function releasePeer(sessions: PeerSessions | null): Promise<void> {
  await sessions?.nms.release();
  await sessions?.mask.release();
}

/** Why path 4 cannot run on a model's outputs, or null when it can. */
function peerUnfit(manifest: ModelManifest): string | null {
  if (manifest.family !== 'yolo-seg') return 'path 4 exists for the YOLO-seg layout only';
  let layout: ReturnType<typeof yoloSegLayout>;
  try {
    layout = yoloSegLayout(manifest);
  } catch (e) {
    return message(e);
  }
  if (layout.head !== 'raw') return "an end-to-end export (NMS inside the model): the peer's NMS graph needs the raw head";
  if (manifest.input.width !== manifest.input.height)
    return `the peer's mask graph paints a square S×S overlay; the input is ${manifest.input.width}x${manifest.input.height}`;
  return null;
}

async function paths(cfg: BenchCommon & { peerBase?: string }): Promise<{ rows: PathsRow[]; skipped: Skipped[] }> {
  const { device } = await context();
  const rows: PathsRow[] = [];
  const skipped: Skipped[] = [];
  const list = await models(cfg.models);
  let peer: PeerSessions | null = null;
  try {
    if (cfg.peerBase && list.some((m) => peerUnfit(m) === null)) peer = await peerSessions(cfg.peerBase);
    for (const manifest of list) {
      if (!familyChain(manifest.family)) {
        const reason = `paths 1–3 compare single-stage post-processing chains (GPU and TypeScript reference); the ${manifest.family} family has none in the bench`;
        skipped.push({ model: manifest.id, family: manifest.family, part: 'paths', reason });
        log(`paths ${manifest.id}: SKIPPED (${reason})`);
        continue;
      }
      const unfit = manifest.family === 'yolo-seg' ? (peer ? peerUnfit(manifest) : "the peer's graphs are not available here (../shared absent)") : null;
      if (unfit) skipped.push({ model: manifest.id, family: manifest.family, part: 'peer', reason: unfit });
      const settings = settingsOf(manifest, 'fast');
      const peerCase =
        peer && !unfit && manifest.family === 'yolo-seg' ? { sessions: peer, config: peerConfigFor(settings, yoloSegConfThreshold(manifest)) } : null;
      try {
        const session = await getSession(manifest, 'wasm');
        for (const frameId of cfg.frames) {
          const bitmap = await loadFrame(frameId);
          const frame = new Frame(frameIds++, bitmap, bitmap.width, bitmap.height);
          const px = frame.pixels();
          const pre = preprocessReference(px.data, px.width, px.height, manifest.input);
          // ORT once per frame: every path below post-processes these very outputs.
          const raw = await runOnCpu(session, manifest, pre.tensor);
          const image = { width: bitmap.width, height: bitmap.height };
          const row = await comparePaths(device, manifest, raw, settings, image, maskSize(image.width, image.height), cfg.warmup, cfg.reps, peerCase);
          rows.push({ model: manifest.id, family: manifest.family, frame: frameId, size: [image.width, image.height], outputs: 'real', ...row });
          log(
            `paths ${manifest.id} ${frameId}: gpu-fast ${row.paths['gpu-fast'].ms.median.toFixed(1)} ms, cpu ${row.paths.cpu.ms.median.toFixed(1)} ms${row.peer ? `, peer ${row.peer.ms.median.toFixed(1)} ms` : ''}`,
          );
          bitmap.close();
        }
      } catch (e) {
        skipped.push({ model: manifest.id, family: manifest.family, part: 'paths', reason: `failed: ${message(e)}` });
        log(`paths ${manifest.id}: FAILED (${message(e)})`);
      }
    }
  } finally {
    await releasePeer(peer);
  }
  return { rows, skipped };
}

export interface ScalingConfig {
  warmup: number;
  reps: number;
  /** Candidate counts (kept fixed at `keptAt`, mask at `maskAt`). */
  candidates: number[];
  /** Kept instance counts (candidates fixed at `candidatesAt`). */
  kept: number[];
  /** Mask (display) resolutions. */
  masks: [number, number][];
  candidatesAt: number;
  keptAt: number;
  maskAt: [number, number];
}

export interface ScalingRow extends PathsRow {
  axis: 'candidates' | 'kept' | 'mask';
}

async function scaling(cfg: ScalingConfig): Promise<ScalingRow[]> {
  const { device } = await context();
  const manifest = scaledManifest();
  // Score threshold 0.1: a candidate prior enters every class's top-k with its (tiny) other
  // class scores; the display threshold drops those, so exactly `kept` instances remain.
  const settings: PostprocessSettings = { scoreThreshold: 0.1, topK: 200, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100 };
  const rows: ScalingRow[] = [];
  const cases: { axis: ScalingRow['axis']; candidates: number; kept: number; mask: [number, number] }[] = [
    ...cfg.candidates.map((c) => ({ axis: 'candidates' as const, candidates: c, kept: Math.min(cfg.keptAt, c), mask: cfg.maskAt })),
    ...cfg.kept.map((k) => ({ axis: 'kept' as const, candidates: cfg.candidatesAt, kept: k, mask: cfg.maskAt })),
    ...cfg.masks.map((m) => ({ axis: 'mask' as const, candidates: cfg.candidatesAt, kept: cfg.keptAt, mask: m })),
  ];
  // A case shared by two axes (e.g. the defaults) is measured once and reported on both.
  const done = new Map<string, Awaited<ReturnType<typeof comparePaths>>>();
  for (const c of cases) {
    const key = `${c.candidates}|${c.kept}|${c.mask.join('x')}`;
    let row = done.get(key);
    if (!row) {
      const raw = scaledYolactOutputs(7 + c.candidates + 1000 * c.kept, c.candidates, c.kept);
      const image = { width: c.mask[0], height: c.mask[1] };
      row = await comparePaths(device, manifest, raw, settings, image, image, cfg.warmup, cfg.reps);
      done.set(key, row);
    }
    rows.push({
      axis: c.axis,
      model: manifest.id,
      family: manifest.family,
      frame: 'synthetic',
      size: c.mask,
      candidates: c.candidates,
      kept: c.kept,
      outputs: 'synthetic',
      ...row,
    });
    log(
      `scaling ${c.axis} candidates=${c.candidates} kept=${c.kept} mask=${c.mask.join('x')}: gpu-fast ${row.paths['gpu-fast'].ms.median.toFixed(1)} ms (${row.paths['gpu-fast'].instances} inst), cpu ${row.paths.cpu.ms.median.toFixed(1)} ms`,
    );
  }
  return rows;
}

export interface YoloSegConfig {
  warmup: number;
  reps: number;
  objects: number[];
  duplicates: number;
  /** URL prefix the peer's graphs are served under (the bench script routes it to ../shared). */
  peerBase: string;
}

export interface YoloSegRow extends PathsRow {
  synthetic: true;
  objects: number;
}

/**
 * Paths 1–4 on SYNTHETIC YOLO-seg outputs (640, 80 classes) against the instance count:
 * every path gets the peer's own defaults (top-k 100, IoU 0.45, score 0.25), so all four
 * keep exactly `objects` instances; the mask is the 640x640 input.
 */
async function yoloSeg(cfg: YoloSegConfig): Promise<YoloSegRow[]> {
  const { device } = await context();
  const sessions = await peerSessions(cfg.peerBase);
  const manifest = { ...syntheticYoloSegManifest(YOLO_INPUT, YOLO_CLASSES), id: 'synthetic-yolo-seg-640-bench' };
  const settings: PostprocessSettings = {
    scoreThreshold: PEER_CONFIG.score,
    topK: PEER_CONFIG.topK,
    nmsIou: PEER_CONFIG.iou,
    nmsKind: 'fast',
    maxDetections: PEER_CONFIG.topK,
  };
  const image = { width: YOLO_INPUT, height: YOLO_INPUT };
  const rows: YoloSegRow[] = [];
  try {
    for (const objects of cfg.objects) {
      const raw = syntheticYoloSegOutputs(99 + objects, objects, cfg.duplicates);
      const row = await comparePaths(device, manifest, { output0: raw.output0, protos: raw.output1 }, settings, image, image, cfg.warmup, cfg.reps, {
        sessions,
        config: PEER_CONFIG,
      });
      rows.push({
        synthetic: true,
        objects,
        candidates: objects * (cfg.duplicates + 1),
        model: manifest.id,
        family: manifest.family,
        frame: 'synthetic',
        size: [image.width, image.height],
        outputs: 'synthetic',
        ...row,
      });
      log(
        `yolo-seg synthetic objects=${objects}: gpu-fast ${row.paths['gpu-fast'].ms.median.toFixed(1)} ms, peer ${row.peer?.ms.median.toFixed(1)} ms, ${row.peer?.instances} kept`,
      );
    }
  } finally {
    await releasePeer(sessions);
  }
  return rows;
}

/** Path 5 on the YOLO-seg model `cfg.model` ('@yoloseg' = the bundled one with the smallest input). */
async function official(cfg: OfficialRunConfig & { model: string }): Promise<OfficialResult | { skipped: string }> {
  const { device } = await context();
  const [manifest] = await models([cfg.model]);
  if (!manifest || manifest.family !== 'yolo-seg') return { skipped: `path 5 runs a YOLO-seg model; ${cfg.model} is not one` };
  return runOfficial(cfg, { device, manifest, loadFrame, mainThreadTaskMs, paneKey: BENCH_PANE_KEY });
}

async function info() {
  const ctx = await context();
  const list = await allModels();
  return {
    adapter: ctx.adapter,
    timestamps: ctx.timestamps,
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated,
    models: list.map((m) => ({
      id: m.id,
      family: m.family,
      url: m.url,
      input: [m.input.width, m.input.height],
      classes: m.classes.length,
      maxDetections: m.defaults.maxDetections,
      notes: m.notes ?? '',
    })),
  };
}

const api = { info, pipeline, paths, scaling, yoloSeg, official };
export type BenchApi = typeof api;
(window as unknown as { __bench: BenchApi }).__bench = api;
document.getElementById('status')!.textContent = 'ready';
document.getElementById('status')!.dataset.state = 'ready';
