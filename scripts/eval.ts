/**
 * `npm run eval -- --model models/yolact/yolact-550.json --data models/data/emoji-coco
 *   --split val [--limit N] [--nms fast|greedy] [--score S] [--out bench/results/eval-<model>.json]
 *   [--results-out FILE.json] [--ann GT.json --images DIR] [--set path=value ...] [--record]`
 *
 * `--set centerMask.roiLevels=scale` (repeatable) replaces a manifest field for this run
 * only: the ablations of a model's options on the same weights. Not with `--record`.
 *
 * `--record` writes the figures, the command and the ONNX file's sha256 into
 * `accuracy.json` beside the manifest (keyed by model id): the accuracy a bundled model is
 * known to have, which the end-to-end accuracy test reads. A two-stage model (three ONNX
 * parts) records `modelSha256` of its parts (one hash over the three, see there) and each
 * part's own sha256 in `partsSha256`.
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
 *
 * Models of several ONNX parts (two-stage Mask R-CNNs, `manifest.twoStage`: backbone, box
 * head, mask head; CenterMask, `manifest.centerMask`: detector, mask head): ORT wasm sessions
 * of the parts, the family program's reference steps between them (`runStepsOnCpu`, the
 * app's 'wasm' path). Their default score threshold is the manifest's `confThreshold` (0.05, the
 * box head's candidate test, as torchvision and Detectron evaluate a Mask R-CNN, and as
 * models/maskrcnn/evaluate.py does); `--score 0` takes every candidate. Public single-file
 * Mask R-CNN exports go through `postprocessMaskRcnnReference` like a one-session family
 * (their CHW input and integer labels are handled).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { frameToDetectionResults } from '../app/eval/cocoExport';
import { evaluateCoco, type DetectionResult, type EvalResult, type IouType } from '../app/eval/cocoEval';
import { loadCocoGroundTruth, type CocoDataset } from '../app/eval/dataset';
import { toCocoRle } from '../app/eval/rle';
import { preprocessReference } from '../app/reference/preprocess';
import type { Detection, FrameResult, InstanceMasks, ModelManifest, NmsKind, PostprocessSettings, RecordedAccuracy, StageTimings } from '../app/types';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A raw model output on the CPU, keyed by the family's logical name (`loc`, `conf`, …). */
export interface CpuTensor {
  data: Float32Array;
  dims: readonly number[];
}
export type CpuOutputs = Record<string, CpuTensor>;

/** The CPU stages a post-processor may time (two-stage models time all of them). */
export type PostStage = 'rpn' | 'roi' | 'heads' | 'decode' | 'nms' | 'masks';
export const POST_STAGES: readonly PostStage[] = ['rpn', 'roi', 'heads', 'decode', 'nms', 'masks'];

export interface PostprocessOutput {
  detections: Detection[];
  masks: InstanceMasks;
  timings?: Partial<Pick<StageTimings, PostStage>>;
}

/** One image's post-processing; a two-stage model's is async (its heads run in between). */
export type PostprocessFn = (
  outputs: CpuOutputs,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  imageSize: { width: number; height: number },
) => PostprocessOutput | Promise<PostprocessOutput>;

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
  /**
   * Manifest fields replaced before the run (`--set centerMask.roiLevels=scale`): the
   * ablations of a model's own options (level assignment, rescoring) on the same weights.
   */
  overrides?: ManifestOverride[];
  log?: (line: string) => void;
}

export interface EvalDeps {
  /** Default: an ORT wasm session on the manifest's ONNX file. */
  createRunner?: (manifest: ModelManifest, manifestPath: string) => Promise<ModelRunner>;
  /**
   * Default: `postprocess<Family>Reference` of app/families/<folder>/reference.ts; for a
   * two-stage model, `maskRcnnTwoStageReference` with ORT wasm sessions of its heads.
   */
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
  /** The `--set` manifest overrides of this run (`path=value`), when any. */
  overrides?: string[];
  path: string;
  /**
   * Mean milliseconds per image (`decode` = the image file's decode). `inference` is the
   * (backbone) session; `nms` and, for two-stage models, all of `stages` (rpn, roi, heads =
   * the box + mask head sessions, decode = the box decode, nms, masks) are parts of
   * `postprocess`, as the family's reference times them.
   */
  timings: {
    decode: number;
    preprocess: number;
    inference: number;
    postprocess: number;
    encode: number;
    nms?: number;
    stages?: Partial<Record<PostStage, number>>;
  };
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

/**
 * A model whose CPU steps run as its family's program (the app's 'wasm' path): several ONNX
 * parts (our two-stage Mask R-CNN, CenterMask, B2Inst: heads between our steps), or a family
 * with no single post-processing function (BlendMask).
 */
export function isTwoStageManifest(manifest: ModelManifest): boolean {
  return modelFiles(manifest).length > 1 || manifest.family === 'blendmask';
}

/** The ONNX files of a model, relative to the app root: the one file; backbone, box head, mask head; or detector, mask head. */
export function modelFiles(manifest: Pick<ModelManifest, 'url' | 'twoStage' | 'centerMask' | 'blendMask'> & { family?: string }): string[] {
  if (manifest.twoStage) return [manifest.url, manifest.twoStage.boxHeadUrl, manifest.twoStage.maskHeadUrl];
  if (manifest.centerMask) return [manifest.url, manifest.centerMask.maskHeadUrl];
  if (manifest.blendMask?.scoringHeadUrl) return [manifest.url, manifest.blendMask.scoringHeadUrl];
  return [manifest.url];
}

/** An ONNX file of a manifest: `url` is relative to the app root (the repository root), else the manifest's folder. */
export function locateOnnx(url: string, manifestPath: string): string {
  const candidates = [resolve(REPO_ROOT, url), resolve(dirname(manifestPath), basename(url))];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`ONNX file not found: tried ${candidates.join(', ')}`);
  return found;
}

/**
 * sha256 (hex) of a model's ONNX bytes. One file: the file's sha256. Several (a two-stage
 * model): sha256 of the parts' hex digests joined in `modelFiles` order (backbone, box head,
 * mask head), so a change to any part changes it.
 */
export function modelSha256(
  manifest: Pick<ModelManifest, 'url' | 'twoStage' | 'centerMask' | 'blendMask'>,
  manifestPath: string,
): { sha256: string; parts: Record<string, string> } {
  const parts: Record<string, string> = {};
  for (const url of modelFiles(manifest))
    parts[url] = createHash('sha256')
      .update(readFileSync(locateOnnx(url, manifestPath)))
      .digest('hex');
  const digests = Object.values(parts);
  const sha256 = digests.length === 1 ? digests[0]! : createHash('sha256').update(digests.join('')).digest('hex');
  return { sha256, parts };
}

type Ort = typeof import('onnxruntime-web');

async function loadOrt(): Promise<Ort> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = join(REPO_ROOT, 'node_modules', 'onnxruntime-web', 'dist') + '/';
  return ort;
}

/**
 * An output as f32, as the app's runner does (app/pipeline/stages/onnx.ts asFloat32): integer outputs (the int64 / int32
 * labels of public Mask R-CNN exports) converted exactly; other types refused.
 */
function outputAsFloat32(t: import('onnxruntime-web').Tensor, name: string): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'int64' || t.type === 'int32' || t.type === 'float64') return Float32Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
  throw new Error(`output "${name}" is ${t.type}, expected float32`);
}

async function ortRunner(manifest: ModelManifest, manifestPath: string): Promise<ModelRunner> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(readFileSync(locateOnnx(manifest.url, manifestPath)), { executionProviders: ['wasm'] });
  const { name, width, height } = manifest.input;
  // Public Mask R-CNN exports take one image [3, H, W] (input.layout 'chw').
  const dims = manifest.input.layout === 'chw' ? [3, height, width] : [1, 3, height, width];
  return async (input) => {
    const results = await session.run({ [name]: new ort.Tensor('float32', input, dims) });
    const outputs: CpuOutputs = {};
    for (const [logical, tensorName] of Object.entries(manifest.outputs)) {
      const t = results[tensorName];
      if (!t) throw new Error(`the model returned no "${tensorName}"`);
      outputs[logical] = { data: outputAsFloat32(t, tensorName), dims: t.dims };
    }
    return outputs;
  };
}

/**
 * Lets Node (tsx, `npm run eval`) import the WGSL the kernels' host modules pull in as
 * `x.wgsl?raw` (Vite's raw import: the file's text as the default export). The two-stage
 * reference imports kernel constants from those modules. Vitest has Vite's own, so this is
 * only registered outside it, once.
 */
const RAW_IMPORT_HOOKS = `
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
export async function resolve(specifier, context, next) {
  if (!specifier.endsWith('?raw')) return next(specifier, context);
  const r = await next(specifier.slice(0, -4), context);
  return { url: r.url + '?raw', shortCircuit: true };
}
export async function load(url, context, next) {
  if (!url.endsWith('?raw')) return next(url, context);
  const text = readFileSync(fileURLToPath(url.slice(0, -4)), 'utf8');
  return { format: 'module', source: 'export default ' + JSON.stringify(text) + ';', shortCircuit: true };
}`;
let rawImportsReady = false;
function enableRawImports(): void {
  if (rawImportsReady || process.env.VITEST) return;
  register('data:text/javascript,' + encodeURIComponent(RAW_IMPORT_HOOKS));
  rawImportsReady = true;
}

/** Folder of a family, as app/pipeline/families.ts: camelCase of the name, 'maskrcnn' → maskRcnn/. */
export function familyFolder(family: string): string {
  if (family === 'maskrcnn') return 'maskRcnn';
  return family
    .split('-')
    .map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1)))
    .join('');
}

async function familyPostprocess(family: string): Promise<PostprocessFn> {
  const folder = familyFolder(family);
  const file = join(REPO_ROOT, 'app', 'families', folder, 'reference.ts');
  if (!existsSync(file)) throw new Error(`no CPU post-processing for the ${family} family (${file} is missing)`);
  enableRawImports();
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  // 'yoloSeg' → postprocessYoloSegReference, 'maskRcnn' → postprocessMaskRcnnReference.
  const name = `postprocess${folder[0]!.toUpperCase()}${folder.slice(1)}Reference`;
  const fn = mod[name];
  if (typeof fn !== 'function') throw new Error(`${file} has no ${name}`);
  return fn as PostprocessFn;
}

/**
 * The CPU steps of a model of several ONNX parts (our two-stage Mask R-CNN, CenterMask)
 * after its first part, exactly as the app's 'wasm' path runs them: the family's program
 * (app/families/<family>/program.ts) through `runStepsOnCpu`, its later parts on ORT wasm
 * sessions here (a Mask R-CNN mask head sees at least one row; a row depends on its own
 * features alone).
 */
async function programPostprocess(manifest: ModelManifest, manifestPath: string): Promise<PostprocessFn> {
  enableRawImports();
  const { familyProgram } = (await import(pathToFileURL(join(REPO_ROOT, 'app', 'families', 'registry.ts')).href)) as typeof import('../app/families/registry');
  const { runStepsOnCpu } = (await import(
    pathToFileURL(join(REPO_ROOT, 'app', 'pipeline', 'stages', 'execute.ts')).href
  )) as typeof import('../app/pipeline/stages/execute');
  const { FrameTensors } = (await import(
    pathToFileURL(join(REPO_ROOT, 'app', 'pipeline', 'stages', 'tensors.ts')).href
  )) as typeof import('../app/pipeline/stages/tensors');
  const { resizeGeometry } = (await import(
    pathToFileURL(join(REPO_ROOT, 'app', 'reference', 'preprocess.ts')).href
  )) as typeof import('../app/reference/preprocess');
  const { maskSizeFor } = (await import(
    pathToFileURL(join(REPO_ROOT, 'app', 'reference', 'maskAssembly.ts')).href
  )) as typeof import('../app/reference/maskAssembly');
  const program = await familyProgram(manifest);
  const steps = program.steps.slice(1);
  const ort = await loadOrt();
  const sessions = new Map<string, import('onnxruntime-web').InferenceSession>();
  for (const step of steps) {
    if (step.kind === 'onnx')
      sessions.set(step.name, await ort.InferenceSession.create(readFileSync(locateOnnx(step.part.url, manifestPath)), { executionProviders: ['wasm'] }));
  }
  return async (outputs, m, settings, imageSize) => {
    const tensors = new FrameTensors(null, null, (_where, fn) => fn());
    for (const [name, t] of Object.entries(outputs)) tensors.putCpu(name, t);
    const timings: Partial<StageTimings> = {};
    const cpu = program.createCpu();
    const frame = {
      manifest: m,
      settings,
      transform: resizeGeometry(imageSize.width, imageSize.height, m.input).transform,
      image: imageSize,
      mask: maskSizeFor(imageSize.width, imageSize.height),
    };
    await runStepsOnCpu(
      steps,
      cpu,
      tensors,
      frame,
      async (step, t) => {
        const input = await t.takeCpu(step.input);
        const r = await sessions.get(step.name)!.run({ [step.part.input.name]: new ort.Tensor('float32', input.data, input.dims) });
        for (const [logical, name] of Object.entries(step.outputs)) {
          const out = r[name];
          if (!out) throw new Error(`${step.name} returned no "${name}"`);
          t.putCpu(logical, { data: outputAsFloat32(out, name), dims: out.dims });
        }
      },
      timings,
    );
    if (!cpu.result) throw new Error(`${m.id}: the last step left no instances`);
    for (const [k, v] of Object.entries(cpu.timings)) if (typeof v === 'number') timings[k as PostStage] = (timings[k as PostStage] ?? 0) + v;
    return { detections: cpu.result.detections, masks: cpu.result.masks, timings };
  };
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
  const manifest = applyOverrides(JSON.parse(readFileSync(manifestPath, 'utf8')) as ModelManifest, opts.overrides ?? []);
  const annPath = opts.annotations ?? join(opts.dataDir, 'annotations', `instances_${opts.split}.json`);
  const dataset: CocoDataset = loadCocoGroundTruth(JSON.parse(readFileSync(annPath, 'utf8')));
  const images = [...dataset.images].sort((a, b) => a.id - b.id).slice(0, opts.limit ?? Infinity);
  const imageIds = new Set(images.map((im) => im.id));
  const gts = dataset.gts.filter((g) => imageIds.has(g.imageId));

  const twoStage = isTwoStageManifest(manifest);
  const settings: PostprocessSettings = {
    scoreThreshold: opts.scoreThreshold ?? (twoStage ? (manifest.defaults.confThreshold ?? 0.05) : 0),
    topK: manifest.defaults.topK,
    nmsIou: manifest.defaults.nmsIou,
    nmsKind: opts.nms ?? manifest.defaults.nmsKind,
    maxDetections: manifest.defaults.maxDetections,
  };
  const runner = await (deps.createRunner ?? ortRunner)(manifest, manifestPath);
  const postprocess = deps.postprocess ?? (twoStage ? await programPostprocess(manifest, manifestPath) : await familyPostprocess(manifest.family));
  log(
    `${manifest.id}: ${images.length} ${opts.split} images, ${gts.length} instances, nms ${settings.nmsKind}` +
      (manifest.twoStage ? `, two-stage (${manifest.twoStage.pooler === 'pool' ? 'RoIPool' : 'RoIAlign'}), score > ${settings.scoreThreshold}` : '') +
      (manifest.centerMask ? `, detector + mask head (RoI levels: ${manifest.centerMask.roiLevels}), score > ${settings.scoreThreshold}` : ''),
  );

  const totals = { decode: 0, preprocess: 0, inference: 0, postprocess: 0, encode: 0 };
  const stageTotals: Partial<Record<PostStage, number>> = {};
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
    const post = await postprocess(outputs, manifest, settings, { width: img.width, height: img.height });
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
    for (const stage of POST_STAGES) {
      const v = post.timings?.[stage];
      if (v !== undefined) stageTotals[stage] = (stageTotals[stage] ?? 0) + v;
    }
    totals.encode += t5 - t4;
    if ((n + 1) % 25 === 0 || n + 1 === images.length) {
      const s = (performance.now() - tStart) / 1000;
      log(`  ${n + 1}/${images.length} images, ${dts.length} detections, ${s.toFixed(1)} s`);
    }
  }
  const count = Math.max(1, images.length);
  const timings: EvalReport['timings'] = {
    decode: totals.decode / count,
    preprocess: totals.preprocess / count,
    inference: totals.inference / count,
    postprocess: totals.postprocess / count,
    encode: totals.encode / count,
    /** The NMS stage alone, as the family's reference times it (part of postprocess). */
    nms: (stageTotals.nms ?? 0) / count,
  };
  if (twoStage) {
    timings.stages = Object.fromEntries(Object.entries(stageTotals).map(([k, v]) => [k, v / count]));
  }

  const report: EvalReport = {
    model: manifest.id,
    manifest: opts.manifestPath,
    data: opts.annotations ?? opts.dataDir,
    split: opts.annotations !== undefined ? '-' : opts.split,
    images: images.length,
    groundTruths: gts.length,
    detections: dts.length,
    settings,
    ...(opts.overrides?.length ? { overrides: opts.overrides.map((o) => `${o.path}=${JSON.stringify(o.value)}`) } : {}),
    path: twoStage
      ? `wasm (ORT wasm EP for ${manifest.twoStage ? 'backbone, box head and mask head' : 'detector and mask head'} + TypeScript reference steps between them)`
      : 'wasm (ORT wasm EP + TypeScript reference post-processing)',
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
  for (const [label, s] of [
    ['mask', r.mask],
    ['box', r.box],
    ['boundary', r.boundary],
  ] as const) {
    if (!s) continue;
    const m = s.summary;
    lines.push(`${label.padEnd(9)} ${[m.ap, m.ap50, m.ap75, m.apSmall, m.apMedium, m.apLarge, m.ar100].map(f).join(' ')}`);
  }
  const t = r.timings;
  lines.push(
    `per image (ms): decode ${t.decode.toFixed(1)}, preprocess ${t.preprocess.toFixed(1)}, inference ${t.inference.toFixed(1)}, ` +
      `postprocess ${t.postprocess.toFixed(1)}, RLE ${t.encode.toFixed(1)}`,
  );
  if (t.stages) {
    const st = t.stages;
    lines.push(`  of postprocess (ms): ${POST_STAGES.map((k) => `${k === 'decode' ? 'box decode' : k} ${(st[k] ?? 0).toFixed(1)}`).join(', ')}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------

/** One `--set path=value`: a dotted manifest path and a JSON value (a bare word is a string). */
export interface ManifestOverride {
  path: string;
  value: unknown;
}

export function parseOverride(text: string): ManifestOverride {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`--set ${text}: expected path=value, e.g. centerMask.rescore=false`);
  const raw = text.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  return { path: text.slice(0, eq), value };
}

/**
 * A copy of the manifest with each override's field set. The object holding the field must
 * exist, and a field the manifest has keeps its type; a field it leaves out (one with a
 * default, as `centerMask.rescore`) can be set too, so the report lists what was set.
 */
export function applyOverrides(manifest: ModelManifest, overrides: readonly ManifestOverride[]): ModelManifest {
  const copy = structuredClone(manifest) as unknown as Record<string, unknown>;
  for (const { path, value } of overrides) {
    const keys = path.split('.');
    let node: Record<string, unknown> = copy;
    for (const key of keys.slice(0, -1)) {
      const next = node[key];
      if (typeof next !== 'object' || next === null) throw new Error(`--set ${path}: the manifest has no object at "${key}"`);
      node = next as Record<string, unknown>;
    }
    const last = keys[keys.length - 1];
    if (last in node && typeof node[last] !== typeof value) throw new Error(`--set ${path}: expected a ${typeof node[last]}, got ${JSON.stringify(value)}`);
    node[last] = value;
  }
  return copy as unknown as ModelManifest;
}

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
        '[--ann GT.json --images DIR] [--limit N] [--nms fast|greedy] [--score S] [--set path=value] [--out FILE] [--results-out FILE]',
    );
  }
  const nms = get('nms');
  if (nms !== undefined && nms !== 'fast' && nms !== 'greedy') throw new Error('--nms must be fast or greedy');
  const limit = get('limit');
  const score = get('score');
  const id = basename(manifestPath, '.json');
  const overrides = argv.flatMap((a, i) => (a === '--set' ? [parseOverride(argv[i + 1] ?? '')] : []));
  const tag = overrides.map((o) => `-${o.path.split('.').pop()}-${String(o.value)}`).join('');
  return {
    manifestPath,
    ...(overrides.length ? { overrides } : {}),
    dataDir: get('data') ?? 'models/data/emoji-coco',
    split: get('split') ?? 'val',
    ...(get('ann') !== undefined ? { annotations: get('ann')! } : {}),
    ...(get('images') !== undefined ? { imagesDir: get('images')! } : {}),
    ...(limit !== undefined ? { limit: Number(limit) } : {}),
    ...(nms !== undefined ? { nms } : {}),
    ...(score !== undefined ? { scoreThreshold: Number(score) } : {}),
    out: get('out') ?? `bench/results/eval-${id}${nms ? `-${nms}` : ''}${tag}.json`,
    ...(get('results-out') !== undefined ? { resultsOut: get('results-out')! } : {}),
  };
}

export type { RecordedAccuracy };

/** Writes the report's figures into `accuracy.json` beside the manifest (keyed by model id); returns the entry. */
export function recordAccuracy(manifestPath: string, report: EvalReport, argv: string[], log: (line: string) => void = console.log): RecordedAccuracy {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ModelManifest;
  const { sha256, parts } = modelSha256(manifest, manifestPath);
  const file = resolve(dirname(manifestPath), 'accuracy.json');
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, RecordedAccuracy>) : {};
  if (!report.mask || !report.box) throw new Error('--record needs the mask and box evaluations');
  const twoStage = manifest.twoStage;
  const entry: RecordedAccuracy = {
    onnxSha256: sha256,
    ...(Object.keys(parts).length > 1 ? { partsSha256: parts } : {}),
    split: report.split,
    images: report.images,
    maskAP: report.mask.summary.ap,
    maskAP50: report.mask.summary.ap50,
    maskAP75: report.mask.summary.ap75,
    boxAP: report.box.summary.ap,
    ...(report.boundary ? { boundaryAP: report.boundary.summary.ap } : {}),
    nms: report.settings.nmsKind,
    ...(twoStage ? { pooler: twoStage.pooler, scoreThreshold: report.settings.scoreThreshold } : {}),
    ...(manifest.centerMask ? { roiLevels: manifest.centerMask.roiLevels, scoreThreshold: report.settings.scoreThreshold } : {}),
    ...(manifest.blendMask ? { scoreCombination: manifest.blendMask.scoreCombination, scoreThreshold: report.settings.scoreThreshold } : {}),
    command: `npm run eval -- ${argv.join(' ')}`,
    date: report.date,
  };
  all[manifest.id] = entry;
  writeFileSync(file, JSON.stringify(all, null, 1) + '\n');
  log(`accuracy recorded → ${file}`);
  return entry;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = parseArgs(argv);
  const report = await runModelEvaluation(opts);
  if (argv.includes('--record') && opts.overrides?.length) throw new Error('--record takes the bundled manifest as it is: leave out --set');
  if (argv.includes('--record')) recordAccuracy(opts.manifestPath, report, argv);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
