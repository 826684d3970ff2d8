/**
 * `npm run eval -- --model models/yolact/yolact-550.json --data models/data/emoji-coco
 *   --split val [--limit N] [--nms fast|greedy] [--score S] [--out bench/results/eval-<model>.json]
 *   [--results-out FILE.json] [--ann GT.json --images DIR] [--record]`
 *
 * `--record` writes the figures, the command and the ONNX file's sha256 into
 * `accuracy.json` beside the manifest (keyed by model id): the accuracy a bundled model is
 * known to have, which the end-to-end accuracy test reads.
 *
 * `--ann` / `--images` evaluate any COCO-format set, e.g. the demo samples:
 * `--ann public/samples/annotations.json --images public/samples`.
 *
 * Runs a bundled model over a COCO-format split in Node, the same way the app's 'wasm'
 * path does (ORT wasm EP, the TypeScript reference preprocess and the family's TypeScript
 * reference post-processing), then evaluates with app/eval (COCO mask AP, box AP,
 * Boundary AP) and writes a JSON report.
 *
 * Images: `<data>/<split>/<file_name>` (or `<data>/<file_name>`), JPEG or PNG, decoded
 * with jpeg-js / pngjs. Ground truth: `<data>/annotations/instances_<split>.json`.
 * Settings: the manifest's defaults, except the display threshold `scoreThreshold`,
 * which is 0 unless `--score` is given (COCO evaluation takes every detection ≤ 100, as
 * YOLACT's own evaluation does).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { frameToDetectionResults } from '../app/eval/cocoExport';
import { evaluateCoco, type DetectionResult, type EvalResult, type IouType } from '../app/eval/cocoEval';
import { loadCocoGroundTruth, type CocoDataset } from '../app/eval/dataset';
import { toCocoRle } from '../app/eval/rle';
import { preprocessReference } from '../app/reference/preprocess';
import type { Detection, FrameResult, InstanceMasks, ModelManifest, NmsKind, PostprocessSettings } from '../app/types';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A raw model output on the CPU, keyed by the family's logical name (`loc`, `conf`, …). */
export interface CpuTensor {
  data: Float32Array;
  dims: readonly number[];
}
export type CpuOutputs = Record<string, CpuTensor>;

export type PostprocessFn = (
  outputs: CpuOutputs,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  imageSize: { width: number; height: number },
) => { detections: Detection[]; masks: InstanceMasks; timings?: { nms?: number } };

/** Runs the model on one input tensor `[1, 3, H, W]`. */
export type ModelRunner = (input: Float32Array) => Promise<CpuOutputs>;

export interface EvalOptions {
  manifestPath: string;
  dataDir: string;
  split: string;
  /** GT file; default `<dataDir>/annotations/instances_<split>.json`. */
  annotations?: string;
  /** Image folder; default `<dataDir>/<split>`, then `<dataDir>`. */
  imagesDir?: string;
  limit?: number;
  nms?: NmsKind;
  scoreThreshold?: number;
  out?: string;
  resultsOut?: string;
  /** Which evaluations to run (default all three). */
  iouTypes?: IouType[];
  log?: (line: string) => void;
}

export interface EvalDeps {
  /** Default: an ORT wasm session on the manifest's ONNX file. */
  createRunner?: (manifest: ModelManifest, manifestPath: string) => Promise<ModelRunner>;
  /** Default: `postprocess<Family>Reference` of app/families/<family>/reference.ts. */
  postprocess?: PostprocessFn;
}

/** One evaluation in the report: summary numbers, per-category AP, mean PR curves. */
export interface EvalSection {
  stats: number[];
  summary: EvalResult['summary'];
  perCategory: EvalResult['perCategory'];
  prCurves: { recall: number[]; mean: EvalResult['prCurves']['mean'] };
  elapsedMs: number;
}

export interface EvalReport {
  model: string;
  manifest: string;
  data: string;
  split: string;
  images: number;
  groundTruths: number;
  detections: number;
  settings: PostprocessSettings;
  path: string;
  /** Mean milliseconds per image. */
  timings: { decode: number; preprocess: number; inference: number; postprocess: number; encode: number; nms?: number };
  mask?: EvalSection;
  box?: EvalSection;
  boundary?: EvalSection;
  date: string;
}

// ---------------------------------------------------------------------------

/** Decode a JPEG or PNG file to RGBA `[h, w, 4]`. */
export function decodeImage(path: string): { data: Uint8Array; width: number; height: number } {
  const bytes = readFileSync(path);
  const ext = extname(path).toLowerCase();
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50;
  if (isPng || ext === '.png') {
    const png = PNG.sync.read(bytes);
    return { data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length), width: png.width, height: png.height };
  }
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 });
  return { data: img.data, width: img.width, height: img.height };
}

async function ortRunner(manifest: ModelManifest, manifestPath: string): Promise<ModelRunner> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = join(REPO_ROOT, 'node_modules', 'onnxruntime-web', 'dist') + '/';
  // `url` is relative to the app root (the repository root); fall back to the manifest's folder.
  const candidates = [resolve(REPO_ROOT, manifest.url), resolve(dirname(manifestPath), basename(manifest.url))];
  const onnxPath = candidates.find((p) => existsSync(p));
  if (!onnxPath) throw new Error(`ONNX file not found: tried ${candidates.join(', ')}`);
  const session = await ort.InferenceSession.create(readFileSync(onnxPath), { executionProviders: ['wasm'] });
  const { name, width, height } = manifest.input;
  return async (input) => {
    const results = await session.run({ [name]: new ort.Tensor('float32', input, [1, 3, height, width]) });
    const outputs: CpuOutputs = {};
    for (const [logical, tensorName] of Object.entries(manifest.outputs)) {
      const t = results[tensorName];
      if (!t) throw new Error(`the model returned no "${tensorName}"`);
      if (t.type !== 'float32') throw new Error(`output "${tensorName}" is ${t.type}, expected float32`);
      outputs[logical] = { data: t.data as Float32Array, dims: t.dims };
    }
    return outputs;
  };
}

async function familyPostprocess(family: string): Promise<PostprocessFn> {
  // Folder in camelCase, as app/pipeline/families.ts: 'yolo-seg' → app/families/yoloSeg/.
  const folder = family.split('-').map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
  const file = join(REPO_ROOT, 'app', 'families', folder, 'reference.ts');
  if (!existsSync(file)) throw new Error(`no CPU post-processing for the ${family} family (${file} is missing)`);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const name = `postprocess${family.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}Reference`;
  const fn = mod[name];
  if (typeof fn !== 'function') throw new Error(`${file} has no ${name}`);
  return fn as PostprocessFn;
}

function imagePath(dataDir: string, split: string, fileName: string, imagesDir?: string): string {
  if (imagesDir !== undefined) return join(imagesDir, fileName);
  const a = join(dataDir, split, fileName);
  if (existsSync(a)) return a;
  const b = join(dataDir, fileName);
  if (existsSync(b)) return b;
  throw new Error(`image not found: ${a}`);
}

function section(r: EvalResult): EvalSection {
  return {
    stats: r.stats,
    summary: r.summary,
    perCategory: r.perCategory.filter((c) => c.numGt > 0 || c.numDt > 0),
    prCurves: { recall: r.prCurves.recall, mean: r.prCurves.mean },
    elapsedMs: r.elapsedMs,
  };
}

/** Run the model over the split and evaluate. */
export async function runModelEvaluation(opts: EvalOptions, deps: EvalDeps = {}): Promise<EvalReport> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const manifestPath = resolve(opts.manifestPath);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ModelManifest;
  const annPath = opts.annotations ?? join(opts.dataDir, 'annotations', `instances_${opts.split}.json`);
  const dataset: CocoDataset = loadCocoGroundTruth(JSON.parse(readFileSync(annPath, 'utf8')));
  const images = [...dataset.images].sort((a, b) => a.id - b.id).slice(0, opts.limit ?? Infinity);
  const imageIds = new Set(images.map((im) => im.id));
  const gts = dataset.gts.filter((g) => imageIds.has(g.imageId));

  const settings: PostprocessSettings = {
    scoreThreshold: opts.scoreThreshold ?? 0,
    topK: manifest.defaults.topK,
    nmsIou: manifest.defaults.nmsIou,
    nmsKind: opts.nms ?? manifest.defaults.nmsKind,
    maxDetections: manifest.defaults.maxDetections,
  };
  const runner = await (deps.createRunner ?? ortRunner)(manifest, manifestPath);
  const postprocess = deps.postprocess ?? (await familyPostprocess(manifest.family));
  log(`${manifest.id}: ${images.length} ${opts.split} images, ${gts.length} instances, nms ${settings.nmsKind}`);

  const totals = { decode: 0, preprocess: 0, inference: 0, postprocess: 0, encode: 0, nms: 0 };
  const dts: DetectionResult[] = [];
  const tStart = performance.now();
  for (let n = 0; n < images.length; n++) {
    const im = images[n]!;
    const t0 = performance.now();
    const img = decodeImage(imagePath(opts.dataDir, opts.split, im.fileName ?? String(im.id), opts.imagesDir));
    if (img.width !== im.width || img.height !== im.height) {
      throw new Error(`${im.fileName}: decoded ${img.width}x${img.height}, annotations say ${im.width}x${im.height}`);
    }
    const t1 = performance.now();
    const { tensor } = preprocessReference(img.data, img.width, img.height, manifest.input);
    const t2 = performance.now();
    const outputs = await runner(tensor);
    const t3 = performance.now();
    const post = postprocess(outputs, manifest, settings, { width: img.width, height: img.height });
    const t4 = performance.now();
    const frame: FrameResult = {
      imageWidth: img.width,
      imageHeight: img.height,
      detections: post.detections,
      maskWidth: post.masks.width,
      maskHeight: post.masks.height,
      timings: { source: 'cpu' },
      bytesReadBack: 0,
      path: 'wasm',
    };
    dts.push(...frameToDetectionResults(frame, post.masks, manifest, im.id));
    const t5 = performance.now();
    totals.decode += t1 - t0;
    totals.preprocess += t2 - t1;
    totals.inference += t3 - t2;
    totals.postprocess += t4 - t3;
    totals.nms += post.timings?.nms ?? 0;
    totals.encode += t5 - t4;
    if ((n + 1) % 25 === 0 || n + 1 === images.length) {
      const s = (performance.now() - tStart) / 1000;
      log(`  ${n + 1}/${images.length} images, ${dts.length} detections, ${s.toFixed(1)} s`);
    }
  }
  const count = Math.max(1, images.length);
  const timings = {
    decode: totals.decode / count,
    preprocess: totals.preprocess / count,
    inference: totals.inference / count,
    postprocess: totals.postprocess / count,
    encode: totals.encode / count,
    /** The NMS stage alone, as the family's reference times it (part of postprocess). */
    nms: totals.nms / count,
  };

  const report: EvalReport = {
    model: manifest.id,
    manifest: opts.manifestPath,
    data: opts.annotations ?? opts.dataDir,
    split: opts.annotations !== undefined ? '-' : opts.split,
    images: images.length,
    groundTruths: gts.length,
    detections: dts.length,
    settings,
    path: 'wasm (ORT wasm EP + TypeScript reference post-processing)',
    timings,
    date: new Date().toISOString(),
  };
  const key: Record<IouType, 'mask' | 'box' | 'boundary'> = { segm: 'mask', bbox: 'box', boundary: 'boundary' };
  for (const iouType of opts.iouTypes ?? (['segm', 'bbox', 'boundary'] as IouType[])) {
    const r = evaluateCoco({ images, categories: dataset.categories, gts, dts, iouType });
    report[key[iouType]] = section(r);
  }
  log(formatReport(report));

  if (opts.out) {
    mkdirSync(dirname(resolve(opts.out)), { recursive: true });
    writeFileSync(opts.out, JSON.stringify(report, null, 1) + '\n');
    log(`report → ${opts.out}`);
  }
  if (opts.resultsOut) {
    const byId = new Map(images.map((im) => [im.id, im]));
    const entries = dts.map((d) => ({
      image_id: d.imageId,
      file_name: byId.get(d.imageId)?.fileName,
      category_id: d.categoryId,
      bbox: d.bbox.map((v) => Math.round(v * 100) / 100),
      score: d.score,
      segmentation: toCocoRle(d.segmentation!),
    }));
    mkdirSync(dirname(resolve(opts.resultsOut)), { recursive: true });
    writeFileSync(opts.resultsOut, '[\n' + entries.map((e) => JSON.stringify(e)).join(',\n') + '\n]\n');
    log(`COCO results → ${opts.resultsOut}`);
  }
  return report;
}

export function formatReport(r: EvalReport): string {
  const f = (v: number | undefined): string => (v === undefined || v < 0 ? '   -  ' : v.toFixed(3).padStart(6));
  const lines = [
    `${r.model} on ${r.data} / ${r.split}: ${r.images} images, ${r.groundTruths} instances, ${r.detections} detections`,
    `            AP     AP50   AP75   APs    APm    APl    AR100`,
  ];
  for (const [label, s] of [['mask', r.mask], ['box', r.box], ['boundary', r.boundary]] as const) {
    if (!s) continue;
    const m = s.summary;
    lines.push(`${label.padEnd(9)} ${[m.ap, m.ap50, m.ap75, m.apSmall, m.apMedium, m.apLarge, m.ar100].map(f).join(' ')}`);
  }
  const t = r.timings;
  lines.push(
    `per image (ms): decode ${t.decode.toFixed(1)}, preprocess ${t.preprocess.toFixed(1)}, inference ${t.inference.toFixed(1)}, ` +
      `postprocess ${t.postprocess.toFixed(1)}, RLE ${t.encode.toFixed(1)}`,
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------

function parseArgs(argv: string[]): EvalOptions {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
    return v;
  };
  const manifestPath = get('model');
  if (!manifestPath) {
    throw new Error(
      'usage: npm run eval -- --model models/yolact/yolact-550.json [--data models/data/emoji-coco] [--split val] ' +
        '[--ann GT.json --images DIR] [--limit N] [--nms fast|greedy] [--score S] [--out FILE] [--results-out FILE]',
    );
  }
  const nms = get('nms');
  if (nms !== undefined && nms !== 'fast' && nms !== 'greedy') throw new Error('--nms must be fast or greedy');
  const limit = get('limit');
  const score = get('score');
  const id = basename(manifestPath, '.json');
  return {
    manifestPath,
    dataDir: get('data') ?? 'models/data/emoji-coco',
    split: get('split') ?? 'val',
    ...(get('ann') !== undefined ? { annotations: get('ann')! } : {}),
    ...(get('images') !== undefined ? { imagesDir: get('images')! } : {}),
    ...(limit !== undefined ? { limit: Number(limit) } : {}),
    ...(nms !== undefined ? { nms } : {}),
    ...(score !== undefined ? { scoreThreshold: Number(score) } : {}),
    out: get('out') ?? `bench/results/eval-${id}${nms ? `-${nms}` : ''}.json`,
    ...(get('results-out') !== undefined ? { resultsOut: get('results-out')! } : {}),
  };
}

/** Recorded accuracy of a bundled model (`<manifest dir>/accuracy.json`, keyed by model id). */
export interface RecordedAccuracy {
  onnxSha256: string;
  split: string;
  images: number;
  maskAP: number;
  maskAP50: number;
  maskAP75: number;
  boxAP: number;
  boundaryAP?: number;
  nms: string;
  command: string;
  date: string;
}

function recordAccuracy(manifestPath: string, report: EvalReport, argv: string[]): void {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { id: string; url: string };
  const onnx = readFileSync(resolve(manifest.url));
  const file = resolve(dirname(manifestPath), 'accuracy.json');
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, RecordedAccuracy>) : {};
  if (!report.mask || !report.box) throw new Error('--record needs the mask and box evaluations');
  all[manifest.id] = {
    onnxSha256: createHash('sha256').update(onnx).digest('hex'),
    split: report.split,
    images: report.images,
    maskAP: report.mask.summary.ap,
    maskAP50: report.mask.summary.ap50,
    maskAP75: report.mask.summary.ap75,
    boxAP: report.box.summary.ap,
    ...(report.boundary ? { boundaryAP: report.boundary.summary.ap } : {}),
    nms: report.settings.nmsKind,
    command: `npm run eval -- ${argv.join(' ')}`,
    date: report.date,
  };
  writeFileSync(file, JSON.stringify(all, null, 1) + '\n');
  console.log(`accuracy recorded → ${file}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = parseArgs(argv);
  const report = await runModelEvaluation(opts);
  if (argv.includes('--record')) recordAccuracy(opts.manifestPath, report, argv);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
