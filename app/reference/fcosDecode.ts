/**
 * Reference of shaders/fcos_decode.wgsl — FCOS's test-time decode over all levels
 * (AdelaiDet fcos_outputs.py `forward_for_single_feature_map`, as centermask2 runs it;
 * /work/shared/MODELS.md §4), as the inputs of the shared chain (classTopK → NMS → cap):
 *
 *   level l (stride s, H × W), location p = (x, y), global location g = first_l + p:
 *     point (x·s + ⌊s/2⌋, y·s + ⌊s/2⌋); box (px − l, py − t, px + r, py + b) clipped to the
 *     input (models/centermask/evaluate.py), × (1/width, 1/height) → boxes [N, 4] relative;
 *     pair (g, c) a candidate when sigmoid(cls[c, p]) > candidateThreshold, keyed by cls·ctr;
 *   per level the top min(candidates, topN) pairs by (cls·ctr desc, q = g·K + c asc) kept:
 *     conf[g, c + 1] = sqrt(cls·ctr); every other entry (and column 0) NOT_RANKED (−1);
 *   candidates: the locations with a kept pair (ascending here; the kernel's order varies,
 *     which class_topk does not see).
 * f32 steps (Math.fround) in the kernel's order; the kernel's exp and sqrt may differ by an
 * ulp or two, so values agree to ~1e-7 and a pair whose key ties another's within that can
 * swap places at the topN boundary (the tests' inputs keep keys apart).
 */
const f = Math.fround;

/** A conf entry no pair was kept for (below any display threshold ≥ 0). */
export const NOT_RANKED = -1;

/** One FCOS level's outputs, NCHW without the batch: cls [K, H, W], box [4, H, W], ctr [H, W]. */
export interface FcosLevel {
  cls: Float32Array;
  box: Float32Array;
  ctr: Float32Array;
  width: number;
  height: number;
  stride: number;
}

export interface FcosDecodeParams {
  numClasses: number;
  input: { width: number; height: number };
  /** sigmoid(cls) above it is a candidate (0.05). */
  candidateThreshold: number;
  /** Pairs kept per level (1000). */
  topN: number;
}

export interface FcosDecodeResult {
  /** [N, 4] xyxy relative to the input. */
  boxes: Float32Array;
  /** [N, K + 1]: sqrt(cls·ctr) of the kept pairs at column c + 1, NOT_RANKED elsewhere. */
  conf: Float32Array;
  /** Locations with a kept pair, ascending. */
  candidates: number[];
  /** Kept pairs per level. */
  kept: number[];
}

/** The kernel's sigmoid, in f32. */
export function sigmoidF32(x: number): number {
  if (x >= 0) return f(1 / f(1 + f(Math.exp(-x))));
  const e = f(Math.exp(x));
  return f(e / f(1 + e));
}

/** First global location of each level and the total N. */
export function levelStarts(levels: readonly { width: number; height: number }[]): { starts: number[]; total: number } {
  const starts: number[] = [];
  let total = 0;
  for (const l of levels) {
    starts.push(total);
    total += l.width * l.height;
  }
  return { starts, total };
}

export function fcosDecodeReference(levels: readonly FcosLevel[], p: FcosDecodeParams): FcosDecodeResult {
  const k = p.numClasses;
  const { starts, total } = levelStarts(levels);
  const boxes = new Float32Array(4 * total);
  const conf = new Float32Array(total * (k + 1)).fill(NOT_RANKED);
  const invW = f(1 / p.input.width);
  const invH = f(1 / p.input.height);
  const threshold = f(p.candidateThreshold);
  const listed = new Uint8Array(total);
  const kept: number[] = [];
  levels.forEach((lv, l) => {
    const hw = lv.width * lv.height;
    const s = lv.stride;
    const pairs: Array<{ q: number; key: number }> = [];
    for (let i = 0; i < hw; i++) {
      const g = starts[l]! + i;
      const px = (i % lv.width) * s + Math.floor(s / 2);
      const py = Math.floor(i / lv.width) * s + Math.floor(s / 2);
      const clip = (v: number, hi: number) => Math.min(Math.max(f(v), 0), hi);
      boxes[4 * g] = f(clip(px - lv.box[i]!, p.input.width) * invW);
      boxes[4 * g + 1] = f(clip(py - lv.box[hw + i]!, p.input.height) * invH);
      boxes[4 * g + 2] = f(clip(px + lv.box[2 * hw + i]!, p.input.width) * invW);
      boxes[4 * g + 3] = f(clip(py + lv.box[3 * hw + i]!, p.input.height) * invH);
      const centerness = sigmoidF32(lv.ctr[i]!);
      for (let c = 0; c < k; c++) {
        const score = sigmoidF32(lv.cls[c * hw + i]!);
        if (score > threshold) pairs.push({ q: g * k + c, key: f(score * centerness) });
      }
    }
    pairs.sort((a, b) => (a.key !== b.key ? b.key - a.key : a.q - b.q));
    const top = pairs.slice(0, Math.max(0, p.topN));
    for (const { q, key } of top) {
      const g = Math.floor(q / k);
      conf[g * (k + 1) + 1 + (q % k)] = f(Math.sqrt(key));
      listed[g] = 1;
    }
    kept.push(top.length);
  });
  const candidates: number[] = [];
  listed.forEach((v, g) => v && candidates.push(g));
  return { boxes, conf, candidates, kept };
}
