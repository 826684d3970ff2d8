/**
 * Synthetic RPN head outputs for the RPN / RoI conformance cases: the bundled model's
 * geometry (512x512 input, P2..P6) and objectness / deltas with a few "objects" that many
 * anchors point at (so the proposal NMS has real work), plus noise.
 */
import type { TwoStageConfig } from '../../../app/types';
import { levelOffsets, rpnAnchors, rpnGeometry, type RpnGeometry } from '../../../app/reference/rpnDecode';
import { rng } from './common';

/** The RPN part of our bundled model's TwoStageConfig (contract of issue 6). */
export const MASKRCNN_512_RPN: Pick<TwoStageConfig, 'strides' | 'anchorSizes' | 'anchorRatios' | 'rpnPreNmsTopN' | 'rpnPostNmsTopN' | 'rpnNmsIou'> = {
  strides: [4, 8, 16, 32, 64],
  anchorSizes: [16, 32, 64, 128, 256],
  anchorRatios: [0.5, 1, 2],
  rpnPreNmsTopN: 1000,
  rpnPostNmsTopN: 500,
  rpnNmsIou: 0.7,
};

export const INPUT_512 = { width: 512, height: 512 };

export function geometry512(): RpnGeometry {
  const c = MASKRCNN_512_RPN;
  return rpnGeometry(INPUT_512, c.strides, c.anchorSizes, c.anchorRatios);
}

/** Standard normal samples (Box–Muller) from a seeded generator. */
export function normals(r: () => number, n: number, sigma = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12);
    out[i] = sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

/** Deltas (BoxCoder 1,1,1,1) that turn `anchor` into `target`. */
function encode(anchor: ArrayLike<number>, target: readonly number[]): number[] {
  const aw = anchor[2]! - anchor[0]!;
  const ah = anchor[3]! - anchor[1]!;
  const tw = target[2]! - target[0]!;
  const th = target[3]! - target[1]!;
  return [(target[0]! + tw / 2 - (anchor[0]! + aw / 2)) / aw, (target[1]! + th / 2 - (anchor[1]! + ah / 2)) / ah, Math.log(tw / aw), Math.log(th / ah)];
}

/**
 * objectness [A_total] and rpnDeltas [A_total, 4]: noise everywhere (logits N(−2, 2),
 * deltas N(0, 0.3), a few huge dw/dh to hit the clamp and a few tiny ones for invalid
 * boxes), and `objects` boxes that the anchors overlapping them regress onto (with jitter)
 * with high logits.
 */
export function syntheticRpnHeads(g: RpnGeometry, seed: number, objects = 6, input = INPUT_512) {
  const r = rng(seed);
  const { total } = levelOffsets(g);
  const anchors = rpnAnchors(g);
  const objectness = normals(r, total, 2).map((v) => v - 2);
  const rpnDeltas = normals(r, total * 4, 0.3);
  for (let i = 0; i < total; i++) {
    const u = r();
    if (u < 0.002)
      rpnDeltas[4 * i + 2] = 8 + 4 * r(); // clamped to log(1000/16)
    else if (u < 0.004) rpnDeltas[4 * i + 3] = -25; // height ≈ 0 → invalid
  }
  const targets: number[][] = [];
  for (let o = 0; o < objects; o++) {
    const w = 20 + r() * 200;
    const h = 20 + r() * 200;
    const x = r() * (input.width - w);
    const y = r() * (input.height - h);
    targets.push([x, y, x + w, y + h]);
  }
  for (let i = 0; i < total; i++) {
    const a = anchors.subarray(4 * i, 4 * i + 4);
    const acx = (a[0]! + a[2]!) / 2;
    const acy = (a[1]! + a[3]!) / 2;
    for (const t of targets) {
      const inside = acx > t[0]! && acx < t[2]! && acy > t[1]! && acy < t[3]!;
      const sizeOk = Math.abs(Math.log((a[2]! - a[0]!) / (t[2]! - t[0]!))) < 1.2;
      if (inside && sizeOk && r() < 0.5) {
        const d = encode(a, t);
        for (let k = 0; k < 4; k++) rpnDeltas[4 * i + k] = d[k]! + 0.05 * (r() - 0.5);
        objectness[i] = 2 + 4 * r();
        break;
      }
    }
  }
  return { objectness, rpnDeltas, targets };
}
