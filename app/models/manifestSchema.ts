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
  return errors.length === 0 ? { ok: true, manifest: value as unknown as ModelManifest } : { ok: false, errors };
}
