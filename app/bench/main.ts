/**
 * The benchmark page (bench.html): the app's own pipeline pieces, driven by scripts/bench.ts
 * through `window.__bench` (Playwright `page.evaluate`). Each entry point runs one part of
 * the benchmark and returns plain JSON:
 *
 * - `info()`: adapter, timestamp-query, bundled models.
 * - `pipeline(cfg)`: per model × frame, the app's runners ('wasm+gpu', 'wasm') end to end,
 *   with per-stage timings exactly as the app reports them (FrameResult.timings), a draw
 *   stage, main-thread busy time and bytes read back.
 * - `paths(cfg)`: per model × frame, ORT (wasm EP) run ONCE, its outputs uploaded once, then
 *   post-processing paths 1 (GPU, Fast NMS), 2 (GPU, greedy) and 3 (CPU way) on them.
 * - `scaling(cfg)`: paths 1–3 on synthetic outputs against candidates, kept instances and
 *   mask resolution.
 * - `yoloSeg(cfg)`: path 4 (the peer's graphs) on synthetic YOLO-seg-layout outputs.
 *
 * Warm-up runs are excluded; every figure is summarised over R repetitions (stats.ts).
 */
import type { ExecutionPath, ModelManifest, PostprocessSettings } from '../types';
import { acquireGpuDevice, type GpuContext } from '../gpu/device';
import { listModels } from '../models/registry';
import { Frame } from '../pipeline/frame';
import { GpuRunner } from '../pipeline/runners/gpu';
import { WasmRunner } from '../pipeline/runners/wasm';
import { runOnCpu } from '../pipeline/runners/common';
import { getSession } from '../pipeline/sessions';
import { maskSize, type PaneRunner } from '../pipeline/runner';
import { configureOrt, ort } from '../pipeline/ort';
import { preprocessReference, resizeGeometry } from '../reference/preprocess';
import { createGpuPostprocessor, type YolactGpuPostprocessor } from '../families/yolact/gpu';
import type { RawOutput } from '../families/yolact/reference';
import { startBusyProbe } from './busy';
import { summarize, summarizeKeys, type Summary } from './stats';
import {
  destroyOutputs,
  RawReadback,
  referenceRecords,
  runCpuPath,
  runGpuPath,
  runPeerYoloSegPath,
  sameRecords,
  uploadOutputs,
  type GpuOutputs,
  type PathRun,
  type PeerSessions,
} from './paths';
import { scaledManifest, scaledYolactOutputs, syntheticFrame, syntheticYoloSegOutputs, YOLO_CLASSES, YOLO_INPUT } from './synthetic';

export interface FrameSpec {
  /** 'samples/sample-1.jpg' (public/) or 'synthetic:SEED:WxH'. */
  id: string;
}

export interface BenchCommon {
  /** Model ids; empty = every bundled model. */
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

function models(ids: string[]): ModelManifest[] {
  const all = listModels().filter((m) => m.family === 'yolact');
  if (ids.length === 0) return all;
  // '@smallest': the bundled YOLACT model with the smallest input (smoke runs).
  if (ids.length === 1 && ids[0] === '@smallest') {
    const smallest = [...all].sort((a, b) => a.input.width * a.input.height - b.input.width * b.input.height)[0];
    if (!smallest) throw new Error('no bundled YOLACT model');
    return [smallest];
  }
  return ids.map((id) => {
    const m = all.find((x) => x.id === id);
    if (!m) throw new Error(`no bundled YOLACT model “${id}” (have ${all.map((x) => x.id).join(', ')})`);
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
/**
 * `GpuRunner.create` with the pane key and overlay mode of the newer pipeline (overlay drawn
 * into a pane's WebGPU canvas, or read back); an older create taking (path, manifest,
 * device) ignores the two extra arguments.
 */
const createGpuRunner = GpuRunner.create as unknown as (
  path: 'wasm+gpu' | 'webgpu',
  manifest: ModelManifest,
  device: GPUDevice,
  paneKey: number,
  overlayMode: 'canvas' | 'readback',
) => Promise<GpuRunner>;

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
}

async function pipeline(cfg: BenchCommon & { paths: ExecutionPath[] }): Promise<PipelineRow[]> {
  const { device } = await context();
  const rows: PipelineRow[] = [];
  const canvas = new OffscreenCanvas(1, 1);
  for (const manifest of models(cfg.models)) {
    for (const path of cfg.paths) {
      const runner: PaneRunner = path === 'wasm' ? await WasmRunner.create(manifest) : await createGpuRunner(path, manifest, device, BENCH_PANE_KEY, 'readback');
      for (const frameId of cfg.frames) {
        const bitmap = await loadFrame(frameId);
        const settings = settingsOf(manifest, 'fast');
        const samples: Record<string, number>[] = [];
        let last = { instances: 0, bytes: 0, source: 'cpu' as 'gpu' | 'cpu' };
        for (let r = 0; r < cfg.warmup + cfg.reps; r++) {
          const frame = new Frame(frameIds++, bitmap, bitmap.width, bitmap.height);
          const probe = startBusyProbe();
          const out = await runner.run(frame, settings, { highlight: null, hiddenClasses: [] });
          const t0 = performance.now();
          drawResult(canvas, bitmap, out.overlay, out.result.detections.map((d) => d.box));
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
        rows.push({
          model: manifest.id,
          path,
          frame: frameId,
          size: [bitmap.width, bitmap.height],
          timingSource: last.source,
          instances: last.instances,
          bytesReadBack: last.bytes,
          stages: summarizeKeys(samples),
        });
        log(`pipeline ${manifest.id} ${path} ${frameId}: total ${rows.at(-1)!.stages.total?.median.toFixed(1)} ms`);
        bitmap.close();
      }
      runner.dispose();
    }
  }
  return rows;
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
  frame: string;
  size: [number, number];
  mask: [number, number];
  candidates?: number;
  kept?: number;
  paths: Record<'gpu-fast' | 'gpu-greedy' | 'cpu', PathSummary>;
  /** Path 1 = CPU reference with Fast NMS; path 2 = path 3 (both greedy): same kept instances. */
  agree: { fastVsReference: boolean; greedyVsCpu: boolean };
}

let cachedPost: { key: string; post: YolactGpuPostprocessor } | null = null;

/** One post-processor per (device, model, mask size), kept while consecutive cases share it (pipelines are compiled once). */
function postprocessorFor(device: GPUDevice, manifest: ModelManifest, mask: { width: number; height: number }): YolactGpuPostprocessor {
  const key = `${manifest.id}|${mask.width}x${mask.height}`;
  if (cachedPost?.key !== key) {
    cachedPost?.post.destroy();
    cachedPost = { key, post: createGpuPostprocessor(device, manifest, mask) };
  }
  return cachedPost.post;
}

/** Paths 1–3 on one set of outputs, R repetitions each after warm-up, interleaved per repetition. */
async function comparePaths(
  device: GPUDevice,
  manifest: ModelManifest,
  raw: Record<string, RawOutput>,
  base: PostprocessSettings,
  image: { width: number; height: number },
  mask: { width: number; height: number },
  warmup: number,
  reps: number,
): Promise<Omit<PathsRow, 'model' | 'frame' | 'size'>> {
  const post = postprocessorFor(device, manifest, mask);
  const readback = new RawReadback(device);
  const outputs: GpuOutputs = uploadOutputs(device, manifest.id, raw);
  const transform = resizeGeometry(image.width, image.height, manifest.input).transform;
  const fast = { ...base, nmsKind: 'fast' as const };
  const greedy = { ...base, nmsKind: 'greedy' as const };
  const runs: Record<'gpu-fast' | 'gpu-greedy' | 'cpu', PathRun[]> = { 'gpu-fast': [], 'gpu-greedy': [], cpu: [] };
  let agree = { fastVsReference: true, greedyVsCpu: true };
  try {
    for (let r = 0; r < warmup + reps; r++) {
      const a = await runGpuPath(device, post, outputs, fast, transform, image);
      const b = await runGpuPath(device, post, outputs, greedy, transform, image);
      const c = await runCpuPath(readback, outputs, manifest, greedy, image, mask);
      if (r === 0) {
        agree = {
          fastVsReference: sameRecords(a.records, referenceRecords(raw, manifest, fast)),
          greedyVsCpu: sameRecords(b.records, c.records),
        };
      }
      if (r < warmup) continue;
      runs['gpu-fast'].push(a);
      runs['gpu-greedy'].push(b);
      runs.cpu.push(c);
    }
  } finally {
    readback.destroy();
    destroyOutputs(outputs);
  }
  return {
    mask: [mask.width, mask.height],
    paths: { 'gpu-fast': summarizeRuns(runs['gpu-fast']), 'gpu-greedy': summarizeRuns(runs['gpu-greedy']), cpu: summarizeRuns(runs.cpu) },
    agree,
  };
}

async function paths(cfg: BenchCommon): Promise<PathsRow[]> {
  const { device } = await context();
  const rows: PathsRow[] = [];
  for (const manifest of models(cfg.models)) {
    const session = await getSession(manifest, 'wasm');
    for (const frameId of cfg.frames) {
      const bitmap = await loadFrame(frameId);
      const frame = new Frame(frameIds++, bitmap, bitmap.width, bitmap.height);
      const px = frame.pixels();
      const pre = preprocessReference(px.data, px.width, px.height, manifest.input);
      // ORT once per frame: every path below post-processes these very outputs.
      const raw = await runOnCpu(session, manifest, pre.tensor);
      const image = { width: bitmap.width, height: bitmap.height };
      const row = await comparePaths(device, manifest, raw, settingsOf(manifest, 'fast'), image, maskSize(image.width, image.height), cfg.warmup, cfg.reps);
      rows.push({ model: manifest.id, frame: frameId, size: [image.width, image.height], ...row });
      log(`paths ${manifest.id} ${frameId}: gpu-fast ${row.paths['gpu-fast'].ms.median.toFixed(1)} ms, cpu ${row.paths.cpu.ms.median.toFixed(1)} ms`);
      bitmap.close();
    }
  }
  return rows;
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
    rows.push({ axis: c.axis, model: manifest.id, frame: 'synthetic', size: c.mask, candidates: c.candidates, kept: c.kept, ...row });
    log(`scaling ${c.axis} candidates=${c.candidates} kept=${c.kept} mask=${c.mask.join('x')}: gpu-fast ${row.paths['gpu-fast'].ms.median.toFixed(1)} ms (${row.paths['gpu-fast'].instances} inst), cpu ${row.paths.cpu.ms.median.toFixed(1)} ms`);
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

export interface YoloSegRow {
  synthetic: true;
  objects: number;
  candidates: number;
  path: 'peer-yoloseg';
  result: PathSummary;
}

async function yoloSeg(cfg: YoloSegConfig): Promise<YoloSegRow[]> {
  const { device } = await context();
  configureOrt();
  const fetchGraph = async (name: string) => {
    const r = await fetch(`${cfg.peerBase}${name}`);
    if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  };
  const sessions: PeerSessions = {
    nms: await ort.InferenceSession.create(await fetchGraph('nms-yolov8.onnx'), { executionProviders: ['wasm'] }),
    mask: await ort.InferenceSession.create(await fetchGraph('mask-yolov8-seg.onnx'), { executionProviders: ['wasm'] }),
  };
  const rows: YoloSegRow[] = [];
  const readback = new RawReadback(device);
  try {
    for (const objects of cfg.objects) {
      const raw = syntheticYoloSegOutputs(99 + objects, objects, cfg.duplicates);
      const outputs = uploadOutputs(device, 'yoloseg', { output0: raw.output0, output1: raw.output1 });
      const runs: PathRun[] = [];
      for (let r = 0; r < cfg.warmup + cfg.reps; r++) {
        const run = await runPeerYoloSegPath(readback, outputs, sessions, YOLO_CLASSES, YOLO_INPUT);
        if (r >= cfg.warmup) runs.push(run);
      }
      destroyOutputs(outputs);
      rows.push({ synthetic: true, objects, candidates: objects * (cfg.duplicates + 1), path: 'peer-yoloseg', result: summarizeRuns(runs) });
      log(`yolo-seg peer objects=${objects}: ${rows.at(-1)!.result.ms.median.toFixed(1)} ms, ${rows.at(-1)!.result.instances} kept`);
    }
  } finally {
    readback.destroy();
    await sessions.nms.release();
    await sessions.mask.release();
  }
  return rows;
}

async function info() {
  const ctx = await context();
  return {
    adapter: ctx.adapter,
    timestamps: ctx.timestamps,
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated,
    models: listModels().map((m) => ({ id: m.id, family: m.family, input: [m.input.width, m.input.height], classes: m.classes.length, notes: m.notes ?? '' })),
  };
}

const api = { info, pipeline, paths, scaling, yoloSeg };
export type BenchApi = typeof api;
(window as unknown as { __bench: BenchApi }).__bench = api;
document.getElementById('status')!.textContent = 'ready';
document.getElementById('status')!.dataset.state = 'ready';
