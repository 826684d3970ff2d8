/**
 * YOLACT output layout, from a manifest (GPU path: buffers carry no shapes) or from the
 * output tensors' dims (CPU path), with readable errors when a model does not fit.
 *
 *   loc    [1, N, 4]        conf  [1, N, C + 1]     mask  [1, N, K]
 *   priors [N, 4]           proto [1, P, P, K]  (NHWC, P = 2 · P3 size)
 *
 * N follows from the input size: P3..P7 sizes by YOLACT's ceil-halving (550 → 69, 35, 18,
 * 9, 5), 3 priors a cell: N = 3 · Σ S_l² (19248 at 550, 9207 at 384). See
 * /work/shared/MODELS.md §1.
 */
import type { ModelManifest } from '../../types';

export const YOLACT_OUTPUTS = ['loc', 'conf', 'mask', 'priors', 'proto'] as const;
export type YolactOutputName = (typeof YOLACT_OUTPUTS)[number];

/** Priors a feature-map cell: aspect ratios {1, 1/2, 2}, one scale a level. */
export const PRIORS_PER_CELL = 3;
/** Mask prototypes (and coefficients a prior). */
export const YOLACT_PROTOTYPES = 32;
/** Candidate threshold on a prior's best foreground score when the manifest gives none. */
export const DEFAULT_CONF_THRESHOLD = 0.05;

export interface YolactLayout {
  numPriors: number;
  /** Foreground classes C (conf has C + 1 columns, background first). */
  numClasses: number;
  numPrototypes: number;
  protoWidth: number;
  protoHeight: number;
}

const halve = (v: number) => Math.ceil(v / 2);

/** Side lengths of P3..P7 for one input side (stride 8 by three ceil-halvings, then ×½). */
export function levelSizes(side: number): number[] {
  const sizes = [halve(halve(halve(side)))];
  for (let l = 1; l < 5; l++) sizes.push(halve(sizes[l - 1]!));
  return sizes;
}

/** Layout implied by the manifest's input size and class list. */
export function yolactLayout(manifest: ModelManifest): YolactLayout {
  if (manifest.family !== 'yolact') throw new Error(`${manifest.id}: family ${manifest.family}, not yolact`);
  const ws = levelSizes(manifest.input.width);
  const hs = levelSizes(manifest.input.height);
  const numPriors = PRIORS_PER_CELL * ws.reduce((sum, w, l) => sum + w * hs[l]!, 0);
  for (const name of YOLACT_OUTPUTS) {
    if (!manifest.outputs[name]) throw new Error(`${manifest.id}: the manifest names no “${name}” output (YOLACT needs ${YOLACT_OUTPUTS.join(', ')})`);
  }
  return {
    numPriors,
    numClasses: manifest.classes.length,
    numPrototypes: YOLACT_PROTOTYPES,
    protoWidth: 2 * ws[0]!,
    protoHeight: 2 * hs[0]!,
  };
}

/** Layout read from the output dims; throws a readable error when they are not YOLACT's. */
export function yolactLayoutFromDims(dims: Record<string, readonly number[]>): YolactLayout {
  const get = (name: YolactOutputName): readonly number[] => {
    const d = dims[name];
    if (!d) throw new Error(`YOLACT output “${name}” is missing`);
    return d[0] === 1 && d.length > 2 ? d.slice(1) : d;
  };
  const loc = get('loc');
  const conf = get('conf');
  const mask = get('mask');
  const priors = get('priors');
  const proto = get('proto');
  const n = priors[0]!;
  const shape = (d: readonly number[]) => `[${d.join(', ')}]`;
  if (priors.length !== 2 || priors[1] !== 4) throw new Error(`priors ${shape(priors)}: expected [N, 4]`);
  if (loc.length !== 2 || loc[0] !== n || loc[1] !== 4) throw new Error(`loc ${shape(loc)}: expected [1, ${n}, 4]`);
  if (conf.length !== 2 || conf[0] !== n || conf[1]! < 2) throw new Error(`conf ${shape(conf)}: expected [1, ${n}, C + 1]`);
  if (mask.length !== 2 || mask[0] !== n) throw new Error(`mask ${shape(mask)}: expected [1, ${n}, K]`);
  if (proto.length !== 3 || proto[2] !== mask[1]) throw new Error(`proto ${shape(proto)}: expected [1, P, P, ${mask[1]}] (NHWC)`);
  return {
    numPriors: n,
    numClasses: conf[1]! - 1,
    numPrototypes: mask[1]!,
    protoHeight: proto[0]!,
    protoWidth: proto[1]!,
  };
}

/** Float counts of each output for a layout (for buffer-size checks). */
export function yolactOutputFloats(layout: YolactLayout): Record<YolactOutputName, number> {
  const { numPriors: n, numClasses: c, numPrototypes: k } = layout;
  return {
    loc: n * 4,
    conf: n * (c + 1),
    mask: n * k,
    priors: n * 4,
    proto: layout.protoWidth * layout.protoHeight * k,
  };
}

/** The candidate threshold of a manifest (its defaults.confThreshold, else YOLACT's 0.05). */
export function confThresholdOf(manifest: ModelManifest): number {
  return manifest.defaults?.confThreshold ?? DEFAULT_CONF_THRESHOLD;
}
