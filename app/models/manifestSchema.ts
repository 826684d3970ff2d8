/**
 * Full validation of a ModelManifest (app/types.ts) read from JSON — a bundled manifest, a
 * `?manifest=<url>`, a remote catalogue entry or one stored with a user model — with one
 * readable error per problem, each naming the field's path (`input.mean[2]`).
 * Every field the pipeline reads is checked, and what a manifest may ask the GPU for is
 * bounded (input size, topK, maxDetections, the bit-mask buffer: see the limits below).
 * `registry.isModelManifest` is this check as a type guard.
 */
import type { CenterMaskConfig, ModelManifest, TwoStageConfig } from '../types';
import { maskSize } from '../pipeline/runner';
import { MAX_FRAME_SIDE } from '../pipeline/sources';

export type ManifestCheck = { ok: true; manifest: ModelManifest } | { ok: false; errors: string[] };

const FAMILIES = ['yolact', 'yolo-seg', 'maskrcnn', 'centermask', 'blendmask'] as const;

/** Logical outputs each family needs (yolo-seg: one of output0 / detections, and protos). */
const REQUIRED_OUTPUTS: Record<(typeof FAMILIES)[number], string[][]> = {
  yolact: [['loc'], ['conf'], ['mask'], ['priors'], ['proto']],
  'yolo-seg': [['output0', 'detections'], ['protos']],
  maskrcnn: [],
  centermask: [],
  blendmask: [],
};

// ------------------------------------------------------------------ limits

/**
 * Input side. The input tensor (3·W·H f32) is one GPU buffer written by `preprocess`:
 * 2048² is 48 MiB, well inside the 128 MiB binding every adapter allows; real exports stop
 * at 1280–1344.
 */
export const MAX_INPUT_SIDE = 2048;
/** Per-class candidates: the in-workgroup sort capacity of class_topk.wgsl (MAX_TOP_K in app/gpu/kernels/classTopK.ts). */
export const MAX_TOP_K = 512;
/** Kept instances: the most any export asks for (YOLO end-to-end: 300; COCO evaluation: 100). */
export const MAX_DETECTIONS = 300;
/** Classes: greedy NMS keeps a 32 KiB suppression matrix per class, 32 MiB at this count. */
export const MAX_CLASSES = 1000;
/** One ONNX file: protobuf cannot parse a larger one, so a bigger `bytes` is wrong or hostile. */
export const MAX_MODEL_BYTES = 2 ** 31;
/**
 * The bit-mask buffer (`maskBits`, app/gpu/kernels/maskUpsample.ts) is bound whole as one
 * storage buffer; above WebGPU's default maxStorageBufferBindingSize (128 MiB, what every
 * adapter gives) the bind group is invalid and the frame reads back zeros. Manifests are
 * checked against the largest frame (MAX_FRAME_SIDE square, whose mask is MAX_MASK_SIDE
 * square): 300 detections need 59 MiB there; 10000 at 1280x720 would need 1.15 GB.
 */
export const MAX_MASK_BUFFER_BYTES = 128 * 2 ** 20;

/**
 * Bytes of the bit masks a runner allocates for `maxDetections` on a `width`×`height` frame:
 * D · maskH · ceil(maskW / 32) · 4 with the mask size the runners use (runner.ts `maskSize`);
 * the same as `maskBitsBytes(maskSize(w, h), D)`. The runtime can check user settings with it.
 */
export function maskBufferBytes(maxDetections: number, width: number, height: number): number {
  const mask = maskSize(width, height);
  return Math.max(4, maxDetections * mask.height * Math.ceil(mask.width / 32) * 4);
}

/** Whether `maxDetections` fits MAX_MASK_BUFFER_BYTES on every frame the app accepts. */
export function maskBudgetFits(maxDetections: number): boolean {
  return maskBufferBytes(maxDetections, MAX_FRAME_SIDE, MAX_FRAME_SIDE) <= MAX_MASK_BUFFER_BYTES;
}

const isRemote = (url: unknown) => typeof url === 'string' && /^https?:\/\//i.test(url);
const SHA256 = /^[0-9a-f]{64}$/i;

export function validateManifest(value: unknown): ManifestCheck {
  const errors: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const str = (v: unknown, path: string, nonEmpty = true) => {
    if (typeof v !== 'string' || (nonEmpty && v.length === 0)) errors.push(`${path}: expected a${nonEmpty ? ' non-empty' : ''} string`);
  };
  const num = (v: unknown, path: string, lo = -Infinity, hi = Infinity, integer = false) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
      errors.push(
        `${path}: expected ${integer ? 'an integer' : 'a number'}${lo > -Infinity ? ` ≥ ${lo}` : ''}${hi < Infinity ? ` and ≤ ${hi}` : ''}, got ${JSON.stringify(v)}`,
      );
    }
  };
  const oneOf = (v: unknown, path: string, options: readonly string[]) => {
    if (typeof v !== 'string' || !options.includes(v))
      errors.push(`${path}: expected one of ${options.map((o) => `"${o}"`).join(', ')}, got ${JSON.stringify(v)}`);
  };
  const triple = (v: unknown, path: string, positive: boolean) => {
    if (!Array.isArray(v) || v.length !== 3) errors.push(`${path}: expected three numbers`);
    else if (!positive) v.forEach((x, i) => num(x, `${path}[${i}]`));
    else
      v.forEach(
        (x, i) => !(typeof x === 'number' && x > 0 && Number.isFinite(x)) && errors.push(`${path}[${i}]: expected a positive number, got ${JSON.stringify(x)}`),
      );
  };

  if (!isObject(value)) return { ok: false, errors: ['manifest: expected a JSON object'] };
  const m = value;
  str(m.id, 'id');
  str(m.name, 'name');
  oneOf(m.family, 'family', FAMILIES);
  str(m.url, 'url');
  if (m.bytes !== undefined) num(m.bytes, 'bytes', 1, MAX_MODEL_BYTES, true);
  if (m.sha256 !== undefined && !(typeof m.sha256 === 'string' && SHA256.test(m.sha256))) errors.push('sha256: expected 64 hex digits');
  // A download from another host is only trusted once its size and digest match.
  if (isRemote(m.url)) {
    if (m.bytes === undefined) errors.push('bytes: a remote model (http/https url) must give its size in bytes');
    if (m.sha256 === undefined) errors.push('sha256: a remote model (http/https url) must give the sha256 of its ONNX file');
  }
  if (m.notes !== undefined) str(m.notes, 'notes', false);

  if (!isObject(m.input)) errors.push('input: expected an object');
  else {
    const i = m.input;
    str(i.name, 'input.name');
    num(i.width, 'input.width', 1, MAX_INPUT_SIDE, true);
    num(i.height, 'input.height', 1, MAX_INPUT_SIDE, true);
    oneOf(i.resize, 'input.resize', ['stretch', 'letterbox']);
    oneOf(i.channels, 'input.channels', ['rgb', 'bgr']);
    num(i.scale, 'input.scale', 0);
    triple(i.mean, 'input.mean', false);
    triple(i.std, 'input.std', true);
    if (i.padValue !== undefined) num(i.padValue, 'input.padValue', 0, 255);
    if (i.layout !== undefined) oneOf(i.layout, 'input.layout', ['nchw', 'chw']);
  }

  if (!isObject(m.outputs)) errors.push('outputs: expected an object of logical name → ONNX output name');
  else {
    for (const [k, v] of Object.entries(m.outputs)) str(v, `outputs.${k}`);
    const required = REQUIRED_OUTPUTS[m.family as (typeof FAMILIES)[number]] ?? [];
    for (const alternatives of required) {
      if (!alternatives.some((a) => typeof (m.outputs as Record<string, unknown>)[a] === 'string')) {
        errors.push(`outputs: a ${String(m.family)} model needs “${alternatives.join('” or “')}”`);
      }
    }
    // A one-file Mask R-CNN is a public export (NMS in the graph): app/families/maskRcnn/exported.ts.
    if (m.family === 'maskrcnn' && m.twoStage === undefined) {
      for (const alternatives of EXPORTED_MASK_RCNN_OUTPUTS) {
        if (!alternatives.some((a) => typeof (m.outputs as Record<string, unknown>)[a] === 'string')) {
          errors.push(`outputs: a one-file maskrcnn export needs “${alternatives.join('” or “')}” (or a “twoStage” block)`);
        }
      }
    }
  }

  if (!Array.isArray(m.classes) || m.classes.length === 0) errors.push('classes: expected a non-empty list of class names');
  else if (m.classes.length > MAX_CLASSES) errors.push(`classes: at most ${MAX_CLASSES} classes, got ${m.classes.length}`);
  else m.classes.forEach((c, i) => str(c, `classes[${i}]`));
  if (m.categoryIds !== undefined) {
    if (!Array.isArray(m.categoryIds) || (Array.isArray(m.classes) && m.categoryIds.length !== m.classes.length)) {
      errors.push('categoryIds: expected one integer per class');
    } else m.categoryIds.forEach((c, i) => num(c, `categoryIds[${i}]`, 0, Infinity, true));
  }

  if (!isObject(m.defaults)) errors.push('defaults: expected an object');
  else {
    const d = m.defaults;
    num(d.confThreshold, 'defaults.confThreshold', 0, 1);
    num(d.scoreThreshold, 'defaults.scoreThreshold', 0, 1);
    num(d.topK, 'defaults.topK', 1, MAX_TOP_K, true);
    num(d.nmsIou, 'defaults.nmsIou', 0, 1);
    oneOf(d.nmsKind, 'defaults.nmsKind', ['fast', 'greedy']);
    num(d.maxDetections, 'defaults.maxDetections', 1, MAX_DETECTIONS, true);
    const max = d.maxDetections;
    if (typeof max === 'number' && Number.isFinite(max) && max >= 1 && !maskBudgetFits(max)) {
      const mib = (maskBufferBytes(max, MAX_FRAME_SIDE, MAX_FRAME_SIDE) / 2 ** 20).toFixed(0);
      errors.push(
        `defaults.maxDetections: ${max} masks of the largest frame need ${mib} MiB of bit masks, above the ${MAX_MASK_BUFFER_BYTES / 2 ** 20} MiB one GPU buffer may hold`,
      );
    }
  }
  if (m.twoStage !== undefined) checkTwoStage(m.twoStage, m.family, m.outputs, errors);
  if (m.centerMask !== undefined) checkCenterMask(m.centerMask, m.family, m.outputs, m.input, Array.isArray(m.classes) ? m.classes.length : 0, errors);
  else if (m.family === 'centermask') errors.push('centerMask: a centermask model needs its “centerMask” block (mask head, strides, RoI levels)');
  if (m.blendMask !== undefined) checkBlendMask(m.blendMask, m.family, m.outputs, m.input, Array.isArray(m.classes) ? m.classes.length : 0, errors);
  else if (m.family === 'blendmask') errors.push('blendMask: a blendmask model needs its “blendMask” block (bases, attentions, strides)');
  return errors.length === 0 ? { ok: true, manifest: value as unknown as ModelManifest } : { ok: false, errors };
}

/** Outputs of a one-file Mask R-CNN export (exportedLayout in app/families/maskRcnn/exported.ts). */
const EXPORTED_MASK_RCNN_OUTPUTS = [['boxes'], ['labels'], ['scores'], ['pastedMasks', 'roiMasks']];

/**
 * Integrity of the two heads, as `bytes` / `sha256` are for the backbone: checked on download
 * (required when a head url is remote) and the key of their recorded accuracy
 * (registry.recordedAccuracy).
 */
export type TwoStageIntegrity = Pick<TwoStageConfig, 'boxHeadBytes' | 'boxHeadSha256' | 'maskHeadBytes' | 'maskHeadSha256'>;

/** Backbone outputs a two-stage Mask R-CNN names (TwoStageConfig in app/types.ts). */
export const TWO_STAGE_OUTPUTS = ['p2', 'p3', 'p4', 'p5', 'objectness', 'rpnDeltas'] as const;

/**
 * `twoStage` (TwoStageConfig): part URLs, the FPN/RPN constants and the pooler. Levels:
 * strides / anchorSizes give one entry per RPN level (P2..P6, so minLevel..maxLevel must lie
 * within them); the box coder weights are four positive numbers.
 */
/** The checks of one block's fields (`<path>.<key>`), each problem pushed to `errors`. */
function blockChecks(path: string, t: Record<string, unknown>, errors: string[]) {
  return {
    int: (key: string, lo: number, hi = Infinity): void => {
      const v = t[key];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
        errors.push(`${path}.${key}: expected an integer ≥ ${lo}${hi < Infinity ? ` and ≤ ${hi}` : ''}, got ${JSON.stringify(v)}`);
      }
    },
    fraction: (key: string, lo: number, hi: number, open: boolean): void => {
      const v = t[key];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (open && v === lo)) {
        errors.push(`${path}.${key}: expected a number in ${open ? '(' : '['}${lo}, ${hi}], got ${JSON.stringify(v)}`);
      }
    },
    /** An ONNX part of the block: `<head>Url`, and `<head>Bytes` / `<head>Sha256` (required when the url is remote). */
    part: (head: string): void => {
      const url = t[`${head}Url`];
      if (typeof url !== 'string' || url.length === 0) errors.push(`${path}.${head}Url: expected a non-empty string`);
      const bytes = t[`${head}Bytes`];
      const sha = t[`${head}Sha256`];
      if (bytes !== undefined && !(typeof bytes === 'number' && Number.isInteger(bytes) && bytes >= 1 && bytes <= MAX_MODEL_BYTES)) {
        errors.push(`${path}.${head}Bytes: expected an integer ≥ 1 and ≤ ${MAX_MODEL_BYTES}, got ${JSON.stringify(bytes)}`);
      }
      if (sha !== undefined && !(typeof sha === 'string' && SHA256.test(sha))) errors.push(`${path}.${head}Sha256: expected 64 hex digits`);
      if (isRemote(url)) {
        if (bytes === undefined) errors.push(`${path}.${head}Bytes: a remote head (http/https url) must give its size in bytes`);
        if (sha === undefined) errors.push(`${path}.${head}Sha256: a remote head (http/https url) must give the sha256 of its ONNX file`);
      }
    },
  };
}

/** The FCOS decode's key lists: 8 bytes a (location, class) pair over all levels, within one binding. */
function checkFcosKeys(path: string, strides: number[], input: unknown, numClasses: number, errors: string[]): void {
  if (strides.length === 0 || typeof input !== 'object' || input === null || numClasses <= 0) return;
  const { width, height } = input as { width?: unknown; height?: unknown };
  if (!(typeof width === 'number' && typeof height === 'number' && width > 0 && height > 0)) return;
  let locations = 0;
  strides.forEach((s) => (locations += Math.ceil(width / s) * Math.ceil(height / s)));
  if (8 * locations * numClasses > MAX_FCOS_KEY_BYTES) {
    errors.push(
      `${path}: ${locations} FCOS locations × ${numClasses} classes need ${((8 * locations * numClasses) / 2 ** 20).toFixed(0)} MiB of decode keys, above ${MAX_FCOS_KEY_BYTES / 2 ** 20} MiB`,
    );
  }
}

function checkTwoStage(value: unknown, family: unknown, outputs: unknown, errors: string[]): void {
  const path = 'twoStage';
  if (family !== 'maskrcnn') errors.push(`${path}: only a maskrcnn model can be two-stage, this one is ${JSON.stringify(family)}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`${path}: expected an object`);
    return;
  }
  const t = value as Record<string, unknown>;
  const { int, part } = blockChecks(path, t, errors);
  const positive = (v: unknown, p: string) => {
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) errors.push(`${p}: expected a positive number, got ${JSON.stringify(v)}`);
  };
  const list = (key: string, length?: number): unknown[] | null => {
    const v = t[key];
    if (!Array.isArray(v) || v.length === 0 || (length !== undefined && v.length !== length)) {
      errors.push(`${path}.${key}: expected ${length ?? 'a non-empty list of'} positive numbers`);
      return null;
    }
    v.forEach((x, i) => positive(x, `${path}.${key}[${i}]`));
    return v as unknown[];
  };
  for (const head of ['boxHead', 'maskHead']) part(head);
  int('channels', 1, 4096);
  const strides = list('strides');
  const sizes = list('anchorSizes');
  if (strides && sizes && strides.length !== sizes.length) {
    errors.push(`${path}.anchorSizes: expected one size per level (${strides.length} strides), got ${sizes.length}`);
  }
  list('anchorRatios');
  int('rpnPreNmsTopN', 1, 100000);
  int('rpnPostNmsTopN', 1, 10000);
  const iou = t.rpnNmsIou;
  if (typeof iou !== 'number' || !(iou > 0 && iou <= 1)) errors.push(`${path}.rpnNmsIou: expected a number in (0, 1], got ${JSON.stringify(iou)}`);
  positive(t.canonicalScale, `${path}.canonicalScale`);
  int('canonicalLevel', 0, 16);
  int('minLevel', 0, 16);
  int('maxLevel', 0, 16);
  if (typeof t.minLevel === 'number' && typeof t.maxLevel === 'number') {
    if (t.minLevel > t.maxLevel) errors.push(`${path}.minLevel: ${t.minLevel} is above maxLevel ${t.maxLevel}`);
    // RoIs are pooled from the backbone's p2..p5 outputs (P6 only feeds the RPN).
    else if (t.minLevel < 2 || t.maxLevel > 5 || (strides && t.maxLevel - 2 >= strides.length)) {
      errors.push(`${path}.maxLevel: levels ${t.minLevel}..${t.maxLevel} must lie within P2..P5 (the backbone's p2..p5)`);
    }
  }
  if (t.pooler !== 'align' && t.pooler !== 'pool') errors.push(`${path}.pooler: expected one of "align", "pool", got ${JSON.stringify(t.pooler)}`);
  if (typeof t.samplingRatio !== 'number' || !Number.isInteger(t.samplingRatio))
    errors.push(`${path}.samplingRatio: expected an integer (≤ 0 = adaptive), got ${JSON.stringify(t.samplingRatio)}`);
  if (typeof t.aligned !== 'boolean') errors.push(`${path}.aligned: expected true or false, got ${JSON.stringify(t.aligned)}`);
  list('boxWeights', 4);
  int('maskSize', 1, 256);
  int('boxPool', 1, 64);
  int('maskPool', 1, 64);
  if (typeof outputs === 'object' && outputs !== null) {
    for (const name of TWO_STAGE_OUTPUTS) {
      if (typeof (outputs as Record<string, unknown>)[name] !== 'string') errors.push(`outputs: a two-stage maskrcnn model needs “${name}”`);
    }
  }
}

/** FCOS levels the decode kernel's table holds (FCOS_MAX_LEVELS, app/gpu/kernels/fcosDecode.ts). */
export const MAX_FCOS_LEVELS = 8;
/** Pairs kept per level: the decode's gather capacity (FCOS_MAX_TOP_N). */
export const MAX_FCOS_TOP_N = 1024;
/**
 * The FCOS decode's key lists hold 8 bytes per (location, class) pair of the input, bound
 * whole as one storage buffer: within WebGPU's default 128 MiB binding (a 512 input has 5456
 * locations, so up to ~3000 classes).
 */
export const MAX_FCOS_KEY_BYTES = 128 * 2 ** 20;
/** The detector parts CenterMask's RoIs are pooled from: p3, p4, p5. */
export const CENTER_MASK_FPN = ['p3', 'p4', 'p5'] as const;
/** Logical output names of FCOS level `level` (3 = P3): clsP3, boxP3, ctrP3. */
export function fcosOutputNames(level: number): [string, string, string] {
  return [`clsP${level}`, `boxP${level}`, `ctrP${level}`];
}

/** Logical output names of BlendMask's FCOS level `level` (3 = P3): logitsP3, bboxRegP3, centernessP3, topFeatsP3. */
export function blendMaskLevelNames(level: number): { cls: string; box: string; ctr: string; attention: string } {
  return { cls: `logitsP${level}`, box: `bboxRegP${level}`, ctr: `centernessP${level}`, attention: `topFeatsP${level}` };
}

/** The most bases the blender holds (BLENDER_MAX_BASES, app/gpu/kernels/blender.ts) and the FCOS levels it binds. */
const MAX_BLEND_BASES = 8;
const MAX_BLEND_LEVELS = 5;

export type CenterMaskIntegrity = Pick<CenterMaskConfig, 'maskHeadBytes' | 'maskHeadSha256'>;

/**
 * `centerMask` (CenterMaskConfig): the mask head part, the FCOS levels (strides: powers of two,
 * P3 first, one set of cls / box / ctr outputs each), the RoI pooling and the chain's
 * constants, bounded like `twoStage` and by the decode kernel's limits.
 */
function checkCenterMask(value: unknown, family: unknown, outputs: unknown, input: unknown, numClasses: number, errors: string[]): void {
  const path = 'centerMask';
  if (family !== 'centermask') errors.push(`${path}: only a centermask model has a centerMask block, this one is ${JSON.stringify(family)}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`${path}: expected an object`);
    return;
  }
  const t = value as Record<string, unknown>;
  const { int, fraction, part } = blockChecks(path, t, errors);
  part('maskHead');
  const strides = t.strides;
  const levels = checkStrides(strides, path, MAX_FCOS_LEVELS, errors);
  int('fpnChannels', 1, 4096);
  int('poolSize', 1, 64);
  int('maskSize', 1, 256);
  if (t.roiLevels !== 'ratio' && t.roiLevels !== 'scale')
    errors.push(`${path}.roiLevels: expected one of "ratio", "scale", got ${JSON.stringify(t.roiLevels)}`);
  int('minLevel', 3, 5);
  int('maxLevel', 3, 5);
  if (typeof t.minLevel === 'number' && typeof t.maxLevel === 'number' && t.minLevel > t.maxLevel)
    errors.push(`${path}.minLevel: ${t.minLevel} is above maxLevel ${t.maxLevel}`);
  int('preNmsTopN', 1, MAX_FCOS_TOP_N);
  fraction('candidateThreshold', 0, 1, false);
  fraction('nmsIou', 0, 1, true);
  int('maxDetections', 1, MAX_DETECTIONS);
  if (t.samplingRatio !== undefined && !(typeof t.samplingRatio === 'number' && Number.isInteger(t.samplingRatio) && t.samplingRatio <= 64)) {
    errors.push(`${path}.samplingRatio: expected an integer ≤ 64 (≤ 0 = adaptive), got ${JSON.stringify(t.samplingRatio)}`);
  }
  if (t.aligned !== undefined && typeof t.aligned !== 'boolean') errors.push(`${path}.aligned: expected true or false, got ${JSON.stringify(t.aligned)}`);
  if (t.rescore !== undefined && typeof t.rescore !== 'boolean') errors.push(`${path}.rescore: expected true or false, got ${JSON.stringify(t.rescore)}`);
  if (typeof outputs === 'object' && outputs !== null) {
    const names = [...CENTER_MASK_FPN, ...Array.from({ length: levels }, (_, i) => fcosOutputNames(3 + i)).flat()];
    for (const name of names) {
      if (typeof (outputs as Record<string, unknown>)[name] !== 'string') errors.push(`outputs: a centermask model needs “${name}”`);
    }
  }
  if (levels > 0) checkFcosKeys(path, strides as number[], input, numClasses, errors);
}

/** Bounds shared by the FCOS families' blocks: a power-of-two stride list, P3 first, each twice the last. */
function checkStrides(strides: unknown, path: string, maxLevels: number, errors: string[]): number {
  if (!Array.isArray(strides) || strides.length < 3 || strides.length > maxLevels) {
    errors.push(`${path}.strides: expected 3 to ${maxLevels} strides (P3 first)`);
    return 0;
  }
  strides.forEach((v, i) => {
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1024 && (v & (v - 1)) === 0)) {
      errors.push(`${path}.strides[${i}]: expected a power of two from 1 to 1024, got ${JSON.stringify(v)}`);
    } else if (i > 0 && v !== 2 * (strides[i - 1] as number)) errors.push(`${path}.strides[${i}]: expected twice the stride before it`);
  });
  return strides.length;
}

/**
 * `blendMask` (BlendMaskConfig): bases and attentions within the blender's limits, the FCOS
 * levels with their four outputs each, B2Inst's boundary basis inside the bases and its
 * scoring head (a url with integrity when remote), the score combination.
 */
function checkBlendMask(value: unknown, family: unknown, outputs: unknown, input: unknown, numClasses: number, errors: string[]): void {
  const path = 'blendMask';
  if (family !== 'blendmask') errors.push(`${path}: only a blendmask model has a blendMask block, this one is ${JSON.stringify(family)}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`${path}: expected an object`);
    return;
  }
  const t = value as Record<string, unknown>;
  const { int, fraction, part } = blockChecks(path, t, errors);
  int('numBases', 1, MAX_BLEND_BASES);
  int('attnSize', 1, 64);
  int('blendSize', 1, 128);
  int('basisStride', 1, 64);
  fraction('spatialScale', 0, 1, true);
  if (typeof t.basisStride === 'number' && typeof t.spatialScale === 'number' && Math.abs(t.spatialScale * t.basisStride - 1) > 1e-6)
    errors.push(`${path}.spatialScale: expected 1 / basisStride (${1 / t.basisStride}), got ${t.spatialScale}`);
  int('samplingRatio', 1, 64);
  if (typeof t.aligned !== 'boolean') errors.push(`${path}.aligned: expected true or false, got ${JSON.stringify(t.aligned)}`);
  const levels = checkStrides(t.strides, path, MAX_BLEND_LEVELS, errors);
  int('preNmsTopN', 1, MAX_FCOS_TOP_N);
  fraction('candidateThreshold', 0, 1, false);
  fraction('nmsIou', 0, 1, true);
  int('maxDetections', 1, MAX_DETECTIONS);
  fraction('maskThreshold', 0, 1, true);
  const boundary = t.boundaryBasisIndex;
  if (
    boundary !== null &&
    !(typeof boundary === 'number' && Number.isInteger(boundary) && boundary >= 0 && typeof t.numBases === 'number' && boundary < t.numBases)
  ) {
    errors.push(`${path}.boundaryBasisIndex: expected null or a basis index below numBases, got ${JSON.stringify(boundary)}`);
  }
  if (!['sqrt', 'product', 'cls'].includes(t.scoreCombination as string))
    errors.push(`${path}.scoreCombination: expected one of "sqrt", "product", "cls", got ${JSON.stringify(t.scoreCombination)}`);
  if (t.scoringHeadUrl !== undefined) {
    part('scoringHead');
    for (const key of ['scoringHeadInput', 'scoringHeadOutput']) {
      if (typeof t[key] !== 'string' || (t[key] as string).length === 0)
        errors.push(`${path}.${key}: a scoring head needs its ONNX ${key === 'scoringHeadInput' ? 'input' : 'output'} name`);
    }
  } else if (t.scoreCombination === 'sqrt' || t.scoreCombination === 'product') {
    errors.push(`${path}.scoreCombination: “${String(t.scoreCombination)}” needs the scoring head (scoringHeadUrl)`);
  }
  if (typeof outputs === 'object' && outputs !== null) {
    const names = ['bases', ...Array.from({ length: levels }, (_, i) => Object.values(blendMaskLevelNames(3 + i))).flat()];
    for (const name of names) {
      if (typeof (outputs as Record<string, unknown>)[name] !== 'string') errors.push(`outputs: a blendmask model needs “${name}”`);
    }
  }
  if (levels > 0) checkFcosKeys(path, t.strides as number[], input, numClasses, errors);
}
