/**
 * Synthetic YOLACT-shaped inputs for the box-side conformance suites: the 550 priors as
 * MODELS.md §1 defines them, and random loc / conf with a chosen share of candidates.
 */
import { rng } from './common';

/**
 * YOLACT-550 priors [N, 4] (cx, cy, w, h): levels 69, 35, 18, 9, 5; scale 24·2^l px;
 * aspect ratios 1, 1/2, 2 with square anchors (h = w). Order: level, row j, col i, ratio.
 */
export function yolactPriors(size = 550): Float32Array {
  const levels = [69, 35, 18, 9, 5];
  const scales = [24, 48, 96, 192, 384];
  const ratios = [1, 0.5, 2];
  const out: number[] = [];
  levels.forEach((s, l) => {
    for (let j = 0; j < s; j++) {
      for (let i = 0; i < s; i++) {
        for (const ar of ratios) {
          const w = (scales[l]! * Math.sqrt(ar)) / size;
          out.push((i + 0.5) / s, (j + 0.5) / s, w, w);
        }
      }
    }
  });
  return new Float32Array(out);
}

/** Approximately normal(0, 1) via the sum of uniforms. */
function normal(r: () => number): number {
  return r() + r() + r() + r() - 2;
}

export interface RandomHeads {
  loc: Float32Array;
  conf: Float32Array;
  priors: Float32Array;
}

/**
 * Random head outputs for `priors`: loc ~ N(0, 1); conf a softmax over C + 1 logits in
 * which a share `candidateShare` of the priors get a strong foreground class (likely
 * candidates) and the rest a strong background.
 */
export function randomHeads(priors: Float32Array, numClasses: number, candidateShare: number, seed: number): RandomHeads {
  const r = rng(seed);
  const n = priors.length / 4;
  const loc = new Float32Array(4 * n);
  for (let i = 0; i < loc.length; i++) loc[i] = normal(r);
  const stride = numClasses + 1;
  const conf = new Float32Array(n * stride);
  const logits = new Float64Array(stride);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < stride; c++) logits[c] = normal(r);
    if (r() < candidateShare) logits[1 + Math.floor(r() * numClasses)]! += 2 + 6 * r();
    else logits[0]! += 8;
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    let sum = 0;
    for (let c = 0; c < stride; c++) sum += Math.exp(logits[c]! - max);
    for (let c = 0; c < stride; c++) conf[i * stride + c] = Math.exp(logits[c]! - max) / sum;
  }
  return { loc, conf, priors };
}

/** Random priors inside [0, 1] with sizes 0.01–0.5 (for small cases). */
export function randomPriors(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const p = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) p.set([r(), r(), 0.01 + 0.49 * r(), 0.01 + 0.49 * r()], 4 * i);
  return p;
}

/** Fisher–Yates shuffle (seeded), returns a new array. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const r = rng(seed);
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
