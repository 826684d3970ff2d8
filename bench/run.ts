/**
 * The benchmark's orchestration, shared by the CLI (scripts/bench.ts) and the smoke spec
 * (e2e/bench.spec.ts): given a Playwright page on the app's dev server, it opens
 * bench.html, runs each part through `window.__bench`, runs the Fast-vs-greedy evaluation
 * in Node (scripts/eval.ts), and writes results JSON + a markdown report (+ chart PNG).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import type { BenchApi, PathsRow, PipelineRow, ScalingRow, Skipped, YoloSegRow } from '../app/bench/main';
import type { OfficialResult } from '../app/bench/official';
import { modelStates, staleReasons, type ModelState } from './freshness';
import {
  declaredEndpoints,
  guardNetwork,
  installOfficialPeer,
  OFFICIAL_PACKAGE,
  OFFICIAL_ROUTE,
  OFFICIAL_VERSION,
  probeNetwork,
  serveOfficialPeer,
  type OffOriginRequest,
  type ProbeOutcome,
} from './officialPeer';
import { renderReport } from './report';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The peer's graphs: read from ../shared at bench time, never copied into the repository. */
export const PEER_DIR = resolve(REPO_ROOT, '../shared/peers/yolov8-seg-onnxruntime-web');
const PEER_ROUTE = '/__bench-peer/';

export type BenchMode = 'smoke' | 'quick' | 'full';

export interface BenchPlan {
  mode: BenchMode;
  models: string[];
  frames: string[];
  warmup: number;
  reps: number;
  /** Repetitions of the scaling cases and of the peer path (the slowest parts on an emulated GPU). */
  scalingReps: number;
  pipelinePaths: ('wasm+gpu' | 'wasm')[];
  scaling: { candidates: number[]; kept: number[]; masks: [number, number][]; candidatesAt: number; keptAt: number; maskAt: [number, number] };
  yoloSeg: { objects: number[]; duplicates: number };
  /** Images of the val split per NMS kind for the accuracy comparison (0 = skip). */
  evalLimit: number;
  /**
   * Manifests evaluated with each NMS kind; '@yoloseg' = every YOLO-seg manifest bundled
   * under models/yoloseg/ (none yet: reported as skipped).
   */
  evalModels: string[];
  /**
   * Path 5, the official Ultralytics runtime: per device, its frames and repetitions
   * ('webgpu' first: the peer's ORT build is chosen by its first load), and whether to run
   * the network probe (`probeTimeoutMs`: how long its default CDN loader may take to settle).
   */
  official: { devices: { device: 'cpu' | 'webgpu'; frames: string[]; warmup: number; reps: number }[]; probeTimeoutMs: number };
}

/** Val images of emoji-COCO with several objects: frames on which the YOLO-seg model finds instances to compare. */
const VAL_FRAMES = ['models/data/emoji-coco/val/val_000001.jpg', 'models/data/emoji-coco/val/val_000007.jpg'];

/** The evaluation's manifests: YOLACT-550 and the bundled YOLO-seg model(s). */
const EVAL_MODELS = ['models/yolact/yolact-550.json', '@yoloseg'];

export function planFor(mode: BenchMode, overrides: Partial<Pick<BenchPlan, 'reps' | 'warmup' | 'evalLimit' | 'models'>> = {}): BenchPlan {
  const plans: Record<BenchMode, BenchPlan> = {
    smoke: {
      mode,
      models: ['@smallest', '@yoloseg'],
      frames: ['synthetic:1:320x240'],
      warmup: 0,
      reps: 1,
      scalingReps: 1,
      pipelinePaths: ['wasm+gpu'],
      scaling: { candidates: [10], kept: [], masks: [], candidatesAt: 10, keptAt: 1, maskAt: [320, 240] },
      yoloSeg: { objects: [2], duplicates: 2 },
      evalLimit: 0,
      evalModels: EVAL_MODELS,
      official: { devices: [{ device: 'cpu', frames: ['synthetic:1:320x240'], warmup: 0, reps: 1 }], probeTimeoutMs: 15_000 },
    },
    quick: {
      mode,
      models: [],
      frames: ['samples/sample-1.jpg', 'synthetic:1:1280x720'],
      warmup: 1,
      reps: 3,
      scalingReps: 3,
      pipelinePaths: ['wasm+gpu', 'wasm'],
      scaling: {
        candidates: [10, 1000, 19248],
        kept: [1, 10, 100],
        masks: [
          [640, 480],
          [1920, 1080],
        ],
        candidatesAt: 1000,
        keptAt: 10,
        maskAt: [640, 480],
      },
      yoloSeg: { objects: [1, 10], duplicates: 20 },
      evalLimit: 10,
      evalModels: EVAL_MODELS,
      official: { devices: [{ device: 'cpu', frames: ['samples/sample-1.jpg', VAL_FRAMES[0]!], warmup: 1, reps: 3 }], probeTimeoutMs: 20_000 },
    },
    full: {
      mode,
      models: [],
      frames: ['samples/sample-1.jpg', 'samples/sample-2.jpg', 'synthetic:2:1280x720'],
      warmup: 1,
      reps: 5,
      scalingReps: 5,
      pipelinePaths: ['wasm+gpu', 'wasm'],
      scaling: {
        candidates: [10, 100, 1000, 5000, 19248],
        kept: [1, 10, 50, 100],
        masks: [
          [640, 480],
          [1280, 720],
          [1920, 1080],
        ],
        candidatesAt: 1000,
        keptAt: 10,
        maskAt: [640, 480],
      },
      yoloSeg: { objects: [1, 10, 50, 100], duplicates: 20 },
      // 100 val images per model and NMS kind. Measured for YOLACT-550 on this shared
      // 2-core machine: 1.6 s of CPU an image (inference + post-processing of ≤ 100
      // detections at score threshold 0); wall 2.6 s an image inside a full bench (50 images
      // in 129 s), 6.7 s under the heaviest load seen. YOLO-seg-416 is faster. So ~4–11 min
      // per model and NMS kind; `--eval-limit 50` halves it.
      evalLimit: 100,
      evalModels: EVAL_MODELS,
      // The peer on WebGPU: ORT's WebGPU EP on SwiftShader took 42 s for the first inference
      // of yoloseg-416 and 27 s for the next, so one frame, one repetition: it gives the
      // bytes its WebGPU way reads back. On the CPU (wasm EP, as our 'wasm+gpu' inference):
      // the bench frames + two val images with objects.
      official: {
        devices: [
          { device: 'webgpu', frames: [VAL_FRAMES[0]!], warmup: 1, reps: 1 },
          { device: 'cpu', frames: ['samples/sample-1.jpg', 'samples/sample-2.jpg', 'synthetic:2:1280x720', ...VAL_FRAMES], warmup: 1, reps: 5 },
        ],
        probeTimeoutMs: 20_000,
      },
    },
  };
  const p = plans[mode];
  return { ...p, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
}

export interface EvalFigures {
  nms: 'fast' | 'greedy';
  model: string;
  images: number;
  maskAp?: number;
  maskAp50?: number;
  boxAp?: number;
  /** Mean post-processing ms per image in Node (reference path: decode + NMS + masks). */
  postprocessMs?: number;
  /** Mean ms per image of the NMS stage alone (part of postprocessMs). */
  nmsMs?: number;
  /** Wall seconds of the whole evaluation run (model + post-processing + COCO evaluation). */
  wallS?: number;
  /**
   * Which weights: the ONNX file's bytes, modification time and sha256, and the manifest's
   * notes (they state the training step of bundled models).
   */
  onnx?: { path: string; bytes: number; modified: string; sha256: string; notes: string };
  error?: string;
}

/** Reads the ONNX file a manifest points at: size, mtime and sha256 (training may replace it between runs). */
export function onnxInfo(manifestPath: string): EvalFigures['onnx'] {
  try {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, manifestPath), 'utf8')) as { url: string; notes?: string };
    const path = join(REPO_ROOT, manifest.url);
    const st = statSync(path);
    const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    return { path: manifest.url, bytes: st.size, modified: st.mtime.toISOString(), sha256, notes: manifest.notes ?? '' };
  } catch {
    return undefined;
  }
}

/** sha256, size and mtime of a model file (path relative to the repository), or undefined. */
export function fileInfo(relPath: string): { sha256: string; bytes: number; modified: string } | undefined {
  try {
    const path = join(REPO_ROOT, relPath);
    const st = statSync(path);
    return { sha256: createHash('sha256').update(readFileSync(path)).digest('hex'), bytes: st.size, modified: st.mtime.toISOString() };
  } catch {
    return undefined;
  }
}

/** The manifests to evaluate: '@yoloseg' → every YOLO-seg manifest under models/yoloseg/. */
export function resolveEvalModels(specs: string[]): { models: string[]; skipped: string[] } {
  const models: string[] = [];
  const skipped: string[] = [];
  for (const spec of specs) {
    if (spec !== '@yoloseg') {
      if (existsSync(join(REPO_ROOT, spec))) models.push(spec);
      else skipped.push(`${spec}: not in the tree`);
      continue;
    }
    const dir = join(REPO_ROOT, 'models/yoloseg');
    const found = (existsSync(dir) ? readdirSync(dir) : [])
      .filter((f) => f.endsWith('.json'))
      .map((f) => `models/yoloseg/${f}`)
      .filter((f) => {
        try {
          const m = JSON.parse(readFileSync(join(REPO_ROOT, f), 'utf8')) as { family?: string; url?: string };
          return m.family === 'yolo-seg' && typeof m.url === 'string' && existsSync(join(REPO_ROOT, m.url));
        } catch {
          return false;
        }
      });
    if (found.length) models.push(...found);
    else skipped.push('YOLO-seg: no trained model bundled under models/yoloseg/ yet (the untrained test network is not evaluated: its AP is meaningless)');
  }
  return { models, skipped };
}

export interface BenchResults {
  plan: BenchPlan;
  date: string;
  commit: string;
  info: Awaited<ReturnType<BenchApi['info']>>;
  /** Each benchmarked model's ONNX file when the bench started (training may replace it during a run). */
  weights: Record<string, { sha256: string; bytes: number; modified: string } | undefined>;
  pipeline: PipelineRow[];
  paths: PathsRow[];
  /** Models (or parts) not run, with the reason (families whose runner is not in the tree, …). */
  skipped: Skipped[];
  scaling: ScalingRow[];
  yoloSeg: YoloSegRow[] | { skipped: string };
  eval: EvalFigures[] | { skipped: string };
  /** Evaluation entries not run, with the reason. */
  evalSkipped: string[];
  /** Path 5: the official Ultralytics runtime, and what it tried to send over the network. */
  official?: OfficialPart;
  /** Every bundled model's files, hashes and accuracy record at the start and at the end of the run (bench/freshness.ts). */
  modelsAtStart?: ModelState[];
  modelsAtEnd?: ModelState[];
  /** Why this report does not describe the bundled models (empty = fresh). */
  stale?: string[];
  /** Set when path 5 was re-run on its own (`--official-only`) after the rest of the bench. */
  officialRerun?: { date: string; commit: string; elapsedS: number };
  /** Set when section 5 was re-run on its own (`--eval-only`) after the rest of the bench. */
  evalRerun?: { date: string; commit: string; elapsedS: number };
  elapsedS: number;
}

export interface OfficialPart {
  package: string;
  version?: string;
  license?: string;
  installS?: number;
  /** The ONNX Runtime Web build served to it instead of its CDN's (the app's own onnxruntime-web). */
  ortVersion?: string;
  result?: OfficialResult | { skipped: string };
  /** Why path 5 did not run at all. */
  skipped?: string;
  /** Off-origin requests: of the measured bench page (localhost, automation) and of the probe pages. */
  requests: OffOriginRequest[];
  probes: ProbeOutcome[];
  /** URLs written in the package's installed code, by file. */
  declared: { file: string; urls: string[] }[];
}

type BenchWindow = Window & { __bench: BenchApi };

function gitCommit(): string {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

/**
 * A frozen copy of a manifest and its ONNX file under `outDir/eval-snapshot/`: training
 * jobs rewrite both while the bench runs (a manifest's thresholds were seen to change
 * between the Fast and the greedy run), so both NMS kinds evaluate this copy. The copied
 * manifest's `url` is the snapshot's absolute path (scripts/eval.ts resolves it as is).
 */
function snapshotModel(model: string, outDir: string): { manifest: string; onnx: EvalFigures['onnx'] } {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, model), 'utf8')) as { id: string; url: string; notes?: string };
  const dir = join(outDir, 'eval-snapshot');
  mkdirSync(dir, { recursive: true });
  const onnxCopy = join(dir, `${manifest.id}.onnx`);
  copyFileSync(join(REPO_ROOT, manifest.url), onnxCopy);
  const manifestCopy = join(dir, `${manifest.id}.json`);
  writeFileSync(manifestCopy, JSON.stringify({ ...manifest, url: onnxCopy }, null, 1));
  const info = fileInfo(relative(REPO_ROOT, onnxCopy));
  return { manifest: manifestCopy, onnx: info && { ...info, path: manifest.url, notes: manifest.notes ?? '' } };
}

function runEval(
  plan: BenchPlan,
  model: string,
  nms: 'fast' | 'greedy',
  outDir: string,
  log: (s: string) => void,
  snapshot?: { manifest: string; onnx: EvalFigures['onnx'] },
): EvalFigures {
  const id = model.replace(/^.*\//, '').replace(/\.json$/, '');
  const out = join(outDir, `eval-${id}-${nms}.json`);
  const args = [
    'tsx',
    'scripts/eval.ts',
    '--model',
    snapshot?.manifest ?? model,
    '--data',
    'models/data/emoji-coco',
    '--split',
    'val',
    '--limit',
    String(plan.evalLimit),
    '--nms',
    nms,
    '--out',
    out,
  ];
  log(`eval: npx ${args.join(' ')}`);
  const onnx = snapshot?.onnx ?? onnxInfo(model);
  const t0 = Date.now();
  const r = spawnSync('npx', args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30 * 60_000 });
  const wallS = (Date.now() - t0) / 1000;
  if (r.status !== 0 || !existsSync(out)) {
    return { nms, model, images: 0, wallS, onnx, error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-3).join(' ') };
  }
  const report = JSON.parse(readFileSync(out, 'utf8')) as {
    images: number;
    mask?: { summary: { ap: number; ap50: number } };
    box?: { summary: { ap: number } };
    timings?: { postprocess?: number; nms?: number };
  };
  log(`eval ${model} ${nms}: ${report.images} images in ${wallS.toFixed(0)} s, mask AP ${report.mask?.summary.ap.toFixed(4)}`);
  return {
    nms,
    model,
    images: report.images,
    maskAp: report.mask?.summary.ap,
    maskAp50: report.mask?.summary.ap50,
    boxAp: report.box?.summary.ap,
    postprocessMs: report.timings?.postprocess,
    nmsMs: report.timings?.nms,
    wallS,
    onnx,
  };
}

export interface RunOptions {
  /** Where results go (default bench/results). */
  outDir?: string;
  /** Draw the chart PNG with /usr/bin/python3 + matplotlib (skipped with a note where absent). */
  chart?: boolean;
  log?: (line: string) => void;
}

/**
 * The bench's hooks on a page: its `[bench]` console lines and errors into the log, and the
 * main-thread task time (CDP Performance metrics, `TaskDuration`) as `__mainThreadTaskMs`:
 * what the page's main thread spent running tasks, without the ping loop of
 * app/bench/busy.ts, whose gaps on a 2-core machine also count the time the thread waited
 * for a core.
 */
async function instrumentPage(page: Page, log: (s: string) => void): Promise<void> {
  page.on('console', (m) => {
    if (m.text().startsWith('[bench]')) log(m.text());
    else if (m.type() === 'error') log(`[page error] ${m.text()}`);
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.exposeFunction('__mainThreadTaskMs', async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return 1000 * (metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN);
  });
}

/** Runs the whole plan on `page` (served by the app's dev server at `baseURL`). */
export async function runBench(page: Page, baseURL: string, plan: BenchPlan, options: RunOptions = {}): Promise<{ results: BenchResults; files: string[] }> {
  const log = options.log ?? ((s: string) => console.log(s));
  const outDir = options.outDir ?? join(REPO_ROOT, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  const modelsAtStart = modelStates(REPO_ROOT);
  // Nothing leaves the browser: every request of the bench page to another origin is recorded and aborted.
  const requests: OffOriginRequest[] = [];
  await guardNetwork(page.context(), new URL(baseURL).origin, 'bench', requests);
  const install = installOfficialPeer(REPO_ROOT, log);
  if ('error' in install) log(`official peer: ${install.error}`);
  else {
    log(
      `official peer: ${OFFICIAL_PACKAGE}@${install.version} (${install.license}) installed in ${install.dir} (${install.installS.toFixed(0)} s); ORT ${install.ortVersion} served locally`,
    );
    // runOfficialPart removes it; should the bench fail before, the process's exit does.
    process.once('exit', () => install.remove());
  }
  await instrumentPage(page, log);
  const peerAvailable = existsSync(join(PEER_DIR, 'nms-yolov8.onnx')) && existsSync(join(PEER_DIR, 'mask-yolov8-seg.onnx'));
  if (peerAvailable) {
    await page.route(`**${PEER_ROUTE}*`, async (route) => {
      const name = new URL(route.request().url()).pathname.slice(PEER_ROUTE.length);
      if (!/^[\w.-]+\.onnx$/.test(name) || !existsSync(join(PEER_DIR, name))) return route.fulfill({ status: 404, body: 'not found' });
      return route.fulfill({ status: 200, contentType: 'application/octet-stream', body: readFileSync(join(PEER_DIR, name)) });
    });
  }
  await page.goto(new URL('/bench.html', baseURL).href);
  await page.waitForSelector('#status[data-state="ready"]', { timeout: 120_000 });

  const info = await page.evaluate(() => (window as unknown as BenchWindow).__bench.info());
  log(`adapter: ${JSON.stringify(info.adapter)} timestamps=${info.timestamps}`);
  const weights = Object.fromEntries(info.models.map((m) => [m.id, /^[a-z]+:/i.test(m.url) ? undefined : fileInfo(m.url)]));
  const common = { models: plan.models, frames: plan.frames, warmup: plan.warmup, reps: plan.reps };

  const pipeline = await page.evaluate((cfg) => (window as unknown as BenchWindow).__bench.pipeline(cfg), { ...common, paths: plan.pipelinePaths });
  const paths = await page.evaluate((cfg) => (window as unknown as BenchWindow).__bench.paths(cfg), {
    ...common,
    ...(peerAvailable ? { peerBase: PEER_ROUTE } : {}),
  });
  const skipped = [...pipeline.skipped, ...paths.skipped];
  for (const s of skipped) log(`skipped: ${s.model} (${s.family}) ${s.part}: ${s.reason}`);
  const scaling = await page.evaluate((cfg) => (window as unknown as BenchWindow).__bench.scaling(cfg), {
    warmup: plan.warmup,
    reps: plan.scalingReps,
    ...plan.scaling,
  });
  const yoloSeg = peerAvailable
    ? await page.evaluate((cfg) => (window as unknown as BenchWindow).__bench.yoloSeg(cfg), {
        warmup: plan.warmup,
        reps: plan.scalingReps,
        ...plan.yoloSeg,
        peerBase: PEER_ROUTE,
      })
    : { skipped: `the peer's graphs are read from ${PEER_DIR} at bench time and it is absent here: path 4 skipped` };

  const official = await runOfficialPart(page, baseURL, plan, install, requests, log);

  const { eval: evalFigures, evalSkipped } = runEvalPart(plan, outDir, log);
  const modelsAtEnd = modelStates(REPO_ROOT);
  const stale = staleReasons(modelsAtStart, modelsAtEnd);
  for (const s of stale) log(`STALE: ${s}`);

  const results: BenchResults = {
    plan,
    date: new Date().toISOString(),
    commit: gitCommit(),
    info,
    weights,
    pipeline: pipeline.rows,
    paths: paths.rows,
    skipped,
    scaling,
    yoloSeg,
    eval: evalFigures,
    evalSkipped,
    official,
    modelsAtStart,
    modelsAtEnd,
    stale,
    elapsedS: (Date.now() - started) / 1000,
  };
  return { results, files: writeResults(results, outDir, options, log) };
}

/** Path 5 on the bench page, then the network probe; the temporary install is removed in every case. */
async function runOfficialPart(
  page: Page,
  baseURL: string,
  plan: BenchPlan,
  install: ReturnType<typeof installOfficialPeer>,
  requests: OffOriginRequest[],
  log: (s: string) => void,
): Promise<OfficialPart> {
  const part: OfficialPart = { package: `${OFFICIAL_PACKAGE}@${OFFICIAL_VERSION}`, requests, probes: [], declared: [] };
  if ('error' in install) return { ...part, skipped: install.error };
  Object.assign(part, { version: install.version, license: install.license, installS: install.installS, ortVersion: install.ortVersion });
  try {
    part.declared = declaredEndpoints(install);
    // One fresh bench page per device: the peer initialises its ONNX Runtime once per page
    // and refuses another backend afterwards ("backend WebGPU cannot change to CPU").
    const result: OfficialResult = { model: '', loads: [], rows: [], notes: [] };
    for (const device of plan.official.devices) {
      const devPage = await page.context().newPage();
      try {
        await instrumentPage(devPage, log);
        await serveOfficialPeer(devPage, install);
        await devPage.goto(new URL('/bench.html', baseURL).href);
        await devPage.waitForSelector('#status[data-state="ready"]', { timeout: 120_000 });
        const r = await devPage.evaluate((cfg) => (window as unknown as BenchWindow).__bench.official(cfg), {
          model: '@yoloseg',
          moduleUrl: `${OFFICIAL_ROUTE}dist/index.js`,
          ortBaseUrl: `${OFFICIAL_ROUTE}ort/`,
          devices: [device],
        });
        if ('skipped' in r) {
          part.result = r;
          break;
        }
        result.model = r.model;
        result.loads.push(...r.loads);
        result.rows.push(...r.rows);
        result.notes.push(...r.notes);
      } finally {
        await devPage.close();
      }
    }
    part.result ??= result;
    for (const n of 'notes' in part.result ? part.result.notes : [part.result.skipped]) log(`official peer: ${n}`);
    const browser = page.context().browser();
    // The probe loads the same model file (the one path 5 ran; else the smallest bundled YOLO-seg model).
    const yoloSegs = modelStates(REPO_ROOT)
      .filter((m) => m.family === 'yolo-seg')
      .sort((a, b) => a.input[0] * a.input[1] - b.input[0] * b.input[1]);
    const probed = yoloSegs.find((m) => m.id === result.model) ?? yoloSegs[0];
    const yoloSeg = probed && { url: Object.keys(probed.files)[0]! };
    if (browser && yoloSeg) {
      part.probes = await probeNetwork(
        browser,
        install,
        { path: join(REPO_ROOT, yoloSeg.url) },
        { path: join(REPO_ROOT, 'public/samples/sample-1.jpg') },
        plan.official.probeTimeoutMs,
        requests,
      );
      for (const p of part.probes) log(`official peer probe ${p.scenario}: ${p.outcome}`);
    }
    for (const r of requests) log(`off-origin request (${r.page}): ${r.method} ${r.url}${r.bodyBytes ? ` (${r.bodyBytes} B body)` : ''}`);
  } catch (e) {
    part.skipped = `path 5 failed: ${e instanceof Error ? e.message : String(e)}`;
    log(`official peer: ${part.skipped}`);
  } finally {
    install.remove();
  }
  return part;
}

/** Section 5: each evaluated model with Fast and with greedy NMS (scripts/eval.ts in Node). */
function runEvalPart(plan: BenchPlan, outDir: string, log: (s: string) => void): Pick<BenchResults, 'eval' | 'evalSkipped'> {
  if (plan.evalLimit <= 0) return { eval: { skipped: 'evalLimit 0' }, evalSkipped: [] };
  if (!existsSync(join(REPO_ROOT, 'models/data/emoji-coco/annotations/instances_val.json'))) {
    return { eval: { skipped: 'models/data/emoji-coco (val split) not generated here' }, evalSkipped: [] };
  }
  const { models, skipped } = resolveEvalModels(plan.evalModels);
  for (const s of skipped) log(`eval skipped: ${s}`);
  const figures = models.flatMap((model) => {
    const snapshot = snapshotModel(model, outDir);
    log(`eval: ${model} frozen as ${snapshot.manifest} (ONNX sha256 ${snapshot.onnx?.sha256.slice(0, 12)}) for both NMS kinds`);
    return (['fast', 'greedy'] as const).map((nms) => runEval(plan, model, nms, outDir, log, snapshot));
  });
  return { eval: figures, evalSkipped: skipped };
}

/**
 * Re-runs section 5 only (`npm run bench -- --eval-only`): reads the last results of this
 * mode from `outDir`, evaluates again with `evalLimit` images, and rewrites JSON, chart and
 * report; the report says when and on which commit section 5 was re-run.
 */
export function rerunEval(plan: BenchPlan, options: RunOptions = {}): { results: BenchResults; files: string[] } {
  const log = options.log ?? ((s: string) => console.log(s));
  const outDir = options.outDir ?? join(REPO_ROOT, 'bench/results');
  const jsonPath = join(outDir, `bench-${plan.mode}.json`);
  if (!existsSync(jsonPath)) throw new Error(`--eval-only needs an earlier ${plan.mode} run: ${jsonPath} is missing`);
  const results = JSON.parse(readFileSync(jsonPath, 'utf8')) as BenchResults;
  const t0 = Date.now();
  const part = runEvalPart(plan, outDir, log);
  results.eval = part.eval;
  results.evalSkipped = part.evalSkipped;
  results.plan = { ...results.plan, evalLimit: plan.evalLimit, evalModels: plan.evalModels };
  results.evalRerun = { date: new Date().toISOString(), commit: gitCommit(), elapsedS: (Date.now() - t0) / 1000 };
  // Sections 1–4 measured the models read at the first run's start: still those?
  if (results.modelsAtStart) {
    results.modelsAtEnd = modelStates(REPO_ROOT);
    results.stale = staleReasons(results.modelsAtStart, results.modelsAtEnd);
  }
  return { results, files: writeResults(results, outDir, options, log) };
}

/** A virtual environment with matplotlib for the chart, kept beside the (ignored) results: see `chartPython`. */
export const CHART_VENV = 'bench/results/chart-venv';

/**
 * The Python that draws the chart: `BENCH_PYTHON`, else the chart venv when present
 * (`python3 -m venv bench/results/chart-venv && bench/results/chart-venv/bin/pip install
 * matplotlib`), else /usr/bin/python3 (needs matplotlib).
 */
function chartPython(): string {
  if (process.env.BENCH_PYTHON) return process.env.BENCH_PYTHON;
  const venv = join(REPO_ROOT, CHART_VENV, 'bin', 'python');
  if (existsSync(venv)) return venv;
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/**
 * Re-runs path 5 only (`npm run bench -- --official-only`) on `page`: reads the last results
 * of this mode, measures the official runtime again (and probes the network), and rewrites
 * JSON, chart and report; the report says when and on which commit path 5 was re-run.
 */
export async function rerunOfficial(
  page: Page,
  baseURL: string,
  plan: BenchPlan,
  options: RunOptions = {},
): Promise<{ results: BenchResults; files: string[] }> {
  const log = options.log ?? ((s: string) => console.log(s));
  const outDir = options.outDir ?? join(REPO_ROOT, 'bench/results');
  const jsonPath = join(outDir, `bench-${plan.mode}.json`);
  if (!existsSync(jsonPath)) throw new Error(`--official-only needs an earlier ${plan.mode} run: ${jsonPath} is missing`);
  const results = JSON.parse(readFileSync(jsonPath, 'utf8')) as BenchResults;
  const t0 = Date.now();
  const requests: OffOriginRequest[] = [];
  await guardNetwork(page.context(), new URL(baseURL).origin, 'bench', requests);
  const install = installOfficialPeer(REPO_ROOT, log);
  if (!('error' in install)) process.once('exit', () => install.remove());
  results.official = await runOfficialPart(page, baseURL, plan, install, requests, log);
  results.plan = { ...results.plan, official: plan.official };
  results.officialRerun = { date: new Date().toISOString(), commit: gitCommit(), elapsedS: (Date.now() - t0) / 1000 };
  if (results.modelsAtStart) {
    results.modelsAtEnd = modelStates(REPO_ROOT);
    results.stale = staleReasons(results.modelsAtStart, results.modelsAtEnd);
  }
  return { results, files: writeResults(results, outDir, options, log) };
}

/**
 * Writes the report again from the last results of this mode (`npm run bench -- --render-only`:
 * no browser, no evaluation), after a change to the report's wording. The model hashes are
 * those read when that run started; they are checked against the files now.
 */
export function rerender(plan: BenchPlan, options: RunOptions = {}): { results: BenchResults; files: string[] } {
  const log = options.log ?? ((s: string) => console.log(s));
  const outDir = options.outDir ?? join(REPO_ROOT, 'bench/results');
  const jsonPath = join(outDir, `bench-${plan.mode}.json`);
  if (!existsSync(jsonPath)) throw new Error(`--render-only needs an earlier ${plan.mode} run: ${jsonPath} is missing`);
  const results = JSON.parse(readFileSync(jsonPath, 'utf8')) as BenchResults;
  if (results.modelsAtStart) {
    results.modelsAtEnd = modelStates(REPO_ROOT);
    results.stale = staleReasons(results.modelsAtStart, results.modelsAtEnd);
  }
  return { results, files: writeResults(results, outDir, options, log) };
}

/** Results JSON, chart PNG (matplotlib) and the markdown report into `outDir`. */
function writeResults(results: BenchResults, outDir: string, options: RunOptions, log: (s: string) => void): string[] {
  const plan = results.plan;
  const files: string[] = [];
  const jsonPath = join(outDir, `bench-${plan.mode}.json`);
  writeFileSync(jsonPath, JSON.stringify(results, null, 1) + '\n');
  files.push(jsonPath);
  let chartNote = '';
  const chartPath = join(outDir, 'chart.png');
  if (options.chart !== false) {
    const python = chartPython();
    const r = spawnSync(python, [join(REPO_ROOT, 'bench/chart.py'), jsonPath, chartPath], { encoding: 'utf8' });
    if (r.status === 0) files.push(chartPath);
    else chartNote = `chart not drawn: ${(r.stderr || '').trim().split('\n').pop() ?? ''}`;
  }
  const mdPath = join(outDir, 'README.md');
  writeFileSync(mdPath, renderReport(results, { chart: files.includes(chartPath) ? 'chart.png' : null, note: chartNote }));
  files.push(mdPath);
  log(
    `bench: wrote ${files.join(', ')} (bench ${results.elapsedS.toFixed(0)} s${results.evalRerun ? `, section 5 re-run ${results.evalRerun.elapsedS.toFixed(0)} s` : ''})`,
  );
  return files;
}
