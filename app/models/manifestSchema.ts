/**
 * Full validation of a ModelManifest (app/types.ts) read from JSON — a bundled manifest, a
 * `?manifest=<url>`, a remote catalogue entry or one stored with a user model — with one
 * readable error per problem, each naming the field's path (`input.mean[2]`).
 * `registry.isModelManifest` is the cheap structural check; this is the one to show users.
 */
import type { ModelManifest } from '../types';

export type ManifestCheck = { ok: true; manifest: ModelManifest } | { ok: false; errors: string[] };

const FAMILIES = ['yolact', 'yolo-seg', 'maskrcnn'] as const;

/** Logical outputs each family needs (yolo-seg: one of output0 / detections, and protos). */
const REQUIRED_OUTPUTS: Record<(typeof FAMILIES)[number], string[][]> = {
  yolact: [['loc'], ['conf'], ['mask'], ['priors'], ['proto']],
  'yolo-seg': [['output0', 'detections'], ['protos']],
  maskrcnn: [],
};

export function validateManifest(value: unknown): ManifestCheck {
  const errors: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const str = (v: unknown, path: string, nonEmpty = true) => {
    if (typeof v !== 'string' || (nonEmpty && v.length === 0)) errors.push(`${path}: expected a${nonEmpty ? ' non-empty' : ''} string`);
  };
  const num = (v: unknown, path: string, lo = -Infinity, hi = Infinity, integer = false) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
      errors.push(`${path}: expected ${integer ? 'an integer' : 'a number'}${lo > -Infinity ? ` ≥ ${lo}` : ''}${hi < Infinity ? ` and ≤ ${hi}` : ''}, got ${JSON.stringify(v)}`);
    }
  };
  const oneOf = (v: unknown, path: string, options: readonly string[]) => {
    if (typeof v !== 'string' || !options.includes(v)) errors.push(`${path}: expected one of ${options.map((o) => `"${o}"`).join(', ')}, got ${JSON.stringify(v)}`);
  };
  const triple = (v: unknown, path: string, positive: boolean) => {
    if (!Array.isArray(v) || v.length !== 3) errors.push(`${path}: expected three numbers`);
    else if (!positive) v.forEach((x, i) => num(x, `${path}[${i}]`));
    else v.forEach((x, i) => !(typeof x === 'number' && x > 0 && Number.isFinite(x)) && errors.push(`${path}[${i}]: expected a positive number, got ${JSON.stringify(x)}`));
  };

  if (!isObject(value)) return { ok: false, errors: ['manifest: expected a JSON object'] };
  const m = value;
  str(m.id, 'id');
  str(m.name, 'name');
  oneOf(m.family, 'family', FAMILIES);
  str(m.url, 'url');
  if (m.bytes !== undefined) num(m.bytes, 'bytes', 0, Infinity, true);
  if (m.sha256 !== undefined && !(typeof m.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(m.sha256))) errors.push('sha256: expected 64 hex digits');
  if (m.notes !== undefined) str(m.notes, 'notes', false);

  if (!isObject(m.input)) errors.push('input: expected an object');
  else {
    const i = m.input;
    str(i.name, 'input.name');
    num(i.width, 'input.width', 1, 8192, true);
    num(i.height, 'input.height', 1, 8192, true);
    oneOf(i.resize, 'input.resize', ['stretch', 'letterbox']);
    oneOf(i.channels, 'input.channels', ['rgb', 'bgr']);
    num(i.scale, 'input.scale', 0);
    triple(i.mean, 'input.mean', false);
    triple(i.std, 'input.std', true);
    if (i.padValue !== undefined) num(i.padValue, 'input.padValue', 0, 255);
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
  }

  if (!Array.isArray(m.classes) || m.classes.length === 0) errors.push('classes: expected a non-empty list of class names');
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
    num(d.topK, 'defaults.topK', 1, 512, true);
    num(d.nmsIou, 'defaults.nmsIou', 0, 1);
    oneOf(d.nmsKind, 'defaults.nmsKind', ['fast', 'greedy']);
    num(d.maxDetections, 'defaults.maxDetections', 1, 10000, true);
  }
  if (m.twoStage !== undefined) checkTwoStage(m.twoStage, m.family, m.outputs, errors);
  return errors.length === 0 ? { ok: true, manifest: value as unknown as ModelManifest } : { ok: false, errors };
}

/** Backbone outputs a two-stage Mask R-CNN names (TwoStageConfig in app/types.ts). */
export const TWO_STAGE_OUTPUTS = ['p2', 'p3', 'p4', 'p5', 'objectness', 'rpnDeltas'] as const;

/**
 * `twoStage` (TwoStageConfig): part URLs, the FPN/RPN constants and the pooler. Levels:
 * strides / anchorSizes give one entry per RPN level (P2..P6, so minLevel..maxLevel must lie
 * within them); the box coder weights are four positive numbers.
 */
function checkTwoStage(value: unknown, family: unknown, outputs: unknown, errors: string[]): void {
  const path = 'twoStage';
  if (family !== 'maskrcnn') errors.push(`${path}: only a maskrcnn model can be two-stage, this one is ${JSON.stringify(family)}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`${path}: expected an object`);
    return;
  }
  const t = value as Record<string, unknown>;
  const int = (key: string, lo: number, hi = Infinity) => {
    const v = t[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      errors.push(`${path}.${key}: expected an integer ≥ ${lo}${hi < Infinity ? ` and ≤ ${hi}` : ''}, got ${JSON.stringify(v)}`);
    }
  };
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
    return v;
  };
  for (const key of ['boxHeadUrl', 'maskHeadUrl']) {
    if (typeof t[key] !== 'string' || (t[key] as string).length === 0) errors.push(`${path}.${key}: expected a non-empty string`);
  }
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
  if (typeof t.samplingRatio !== 'number' || !Number.isInteger(t.samplingRatio)) errors.push(`${path}.samplingRatio: expected an integer (≤ 0 = adaptive), got ${JSON.stringify(t.samplingRatio)}`);
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
