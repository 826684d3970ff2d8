/**
 * Seeded synthetic inputs for the benchmark's cost curves and for the YOLO-seg layout:
 *
 * - `scaledYolactOutputs`: YOLACT-550 outputs (19248 priors, 80 classes) with EXACTLY
 *   `candidates` priors above the confidence threshold and EXACTLY `kept` instances left
 *   after NMS (for fast and greedy NMS alike): `kept` heads on a 10×10 grid of separate
 *   cells (no two overlap), every other candidate a jittered duplicate of one head, same
 *   class, lower score, IoU with its head ≥ 0.8, so it is suppressed by it.
 * - `syntheticYoloSegOutputs`: outputs with the YOLOv8-seg layout, output0 [1, 4+nc+32, N]
 *   (cx, cy, w, h in input pixels, nc sigmoid class scores, 32 coefficients) and output1
 *   [1, 32, H/4, W/4], built the same way (heads + duplicates). Random but plausible, and
 *   labelled "synthetic" wherever reported.
 * - `syntheticFrame`: a seeded picture (shapes on a gradient) as an ImageBitmap.
 */
import type { ModelManifest } from '../types';
import type { RawOutput } from '../families/yolact/reference';
import { syntheticManifest, syntheticYolactOutputs } from '../families/yolact/synthetic';
import { YOLACT_VARIANCES } from '../reference/yolactDecode';
import { seededRandom } from './stats';

/** Side of the grid the heads sit on: up to 100 separate instances. */
const GRID = 10;
/** Head box side (relative): inside its 0.1 cell, so heads never overlap. */
const HEAD_SIDE = 0.07;
/** Duplicates move their centre by at most this much (relative) and their size by ±3 %: IoU ≥ 0.8. */
const JITTER = 0.003;
/** Score of a head; duplicates score in [0.3, 0.8): below their head. */
const HEAD_SCORE = 0.9;
/** Score given to every class of a non-candidate prior: below YOLACT's 0.05 threshold. */
const QUIET_SCORE = 0.0002;

export const SCALED_INPUT = 550;
export const SCALED_CLASSES = 80;

export function scaledManifest(): ModelManifest {
  const m = syntheticManifest(SCALED_INPUT, SCALED_CLASSES);
  return { ...m, id: 'synthetic-yolact-550-bench', name: 'synthetic YOLACT-550 (bench)' };
}

let baseCache: Record<string, RawOutput> | null = null;

/** Priors, coefficients and prototypes shared by every scaled case (made once). */
function base(): Record<string, RawOutput> {
  baseCache ??= syntheticYolactOutputs(1234, SCALED_INPUT, SCALED_CLASSES, 0);
  return baseCache;
}

interface Head {
  cx: number;
  cy: number;
  w: number;
  h: number;
  cls: number;
}

function heads(kept: number): Head[] {
  return Array.from({ length: kept }, (_, j) => ({
    cx: ((j % GRID) + 0.5) / GRID,
    cy: (Math.floor(j / GRID) + 0.5) / GRID,
    w: HEAD_SIDE,
    h: HEAD_SIDE,
    cls: (j * 7) % SCALED_CLASSES,
  }));
}

/**
 * YOLACT outputs with `candidates` priors above threshold and `kept` surviving instances.
 * `kept` ≤ min(candidates, 100).
 */
export function scaledYolactOutputs(seed: number, candidates: number, kept: number): Record<string, RawOutput> {
  const b = base();
  const priors = b.priors!.data;
  const n = priors.length / 4;
  if (candidates > n) throw new Error(`at most ${n} candidates`);
  kept = Math.max(1, Math.min(kept, candidates, GRID * GRID));
  const rand = seededRandom(seed);
  const stride = SCALED_CLASSES + 1;
  const conf = new Float32Array(n * stride);
  const loc = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    conf.fill(QUIET_SCORE, i * stride, (i + 1) * stride);
    conf[i * stride] = 1 - QUIET_SCORE * SCALED_CLASSES;
  }
  // `candidates` distinct priors, in seeded random order (partial Fisher–Yates).
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < candidates; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const hs = heads(kept);
  const [v0, v1] = YOLACT_VARIANCES;
  for (let c = 0; c < candidates; c++) {
    const i = order[c]!;
    const head = hs[c % kept]!;
    const isHead = c < kept;
    const cx = isHead ? head.cx : head.cx + (rand() * 2 - 1) * JITTER;
    const cy = isHead ? head.cy : head.cy + (rand() * 2 - 1) * JITTER;
    const w = isHead ? head.w : head.w * (0.97 + 0.06 * rand());
    const h = isHead ? head.h : head.h * (0.97 + 0.06 * rand());
    const score = isHead ? HEAD_SCORE : 0.3 + 0.5 * rand();
    const pcx = priors[4 * i]!,
      pcy = priors[4 * i + 1]!,
      pw = priors[4 * i + 2]!,
      ph = priors[4 * i + 3]!;
    loc[4 * i] = (cx - pcx) / (v0 * pw);
    loc[4 * i + 1] = (cy - pcy) / (v0 * ph);
    loc[4 * i + 2] = Math.log(w / pw) / v1;
    loc[4 * i + 3] = Math.log(h / ph) / v1;
    conf[i * stride + 1 + head.cls] = score;
    conf[i * stride] = Math.max(0, 1 - score - QUIET_SCORE * (SCALED_CLASSES - 1));
  }
  return {
    loc: { data: loc, dims: [1, n, 4] },
    conf: { data: conf, dims: [1, n, stride] },
    mask: b.mask!,
    priors: b.priors!,
    proto: b.proto!,
  };
}

/** YOLOv8-seg at 640: anchors of strides 8, 16, 32. */
export const YOLO_INPUT = 640;
export const YOLO_CLASSES = 80;
export const YOLO_PROTOTYPES = 32;

export interface YoloSegOutputs {
  /** [1, 4 + nc + 32, N] */
  output0: RawOutput;
  /** [1, 32, H/4, W/4] */
  output1: RawOutput;
}

/**
 * YOLOv8-seg-layout outputs: `objects` instances (≤ 100), each with `duplicates` extra
 * anchors around it (NMS suppresses them); other anchors score below 0.01.
 */
export function syntheticYoloSegOutputs(seed: number, objects: number, duplicates: number): YoloSegOutputs {
  const rand = seededRandom(seed);
  const s = YOLO_INPUT;
  const anchors = (s / 8) ** 2 + (s / 16) ** 2 + (s / 32) ** 2;
  const rows = 4 + YOLO_CLASSES + YOLO_PROTOTYPES;
  const out0 = new Float32Array(rows * anchors);
  const at = (row: number, a: number) => row * anchors + a;
  for (let a = 0; a < anchors; a++) {
    for (let c = 0; c < YOLO_CLASSES; c++) out0[at(4 + c, a)] = 0.01 * rand();
    for (let q = 0; q < YOLO_PROTOTYPES; q++) out0[at(4 + YOLO_CLASSES + q, a)] = (rand() - 0.5) * 0.5;
    out0[at(0, a)] = rand() * s;
    out0[at(1, a)] = rand() * s;
    out0[at(2, a)] = 8 + rand() * 32;
    out0[at(3, a)] = 8 + rand() * 32;
  }
  const k = Math.max(0, Math.min(objects, GRID * GRID));
  const hs = heads(k);
  const used = new Set<number>();
  const pick = () => {
    for (;;) {
      const a = Math.floor(rand() * anchors);
      if (!used.has(a)) {
        used.add(a);
        return a;
      }
    }
  };
  for (let j = 0; j < k; j++) {
    const head = hs[j]!;
    for (let d = 0; d <= duplicates; d++) {
      const a = pick();
      const jitter = d === 0 ? 0 : JITTER;
      out0[at(0, a)] = (head.cx + (rand() * 2 - 1) * jitter) * s;
      out0[at(1, a)] = (head.cy + (rand() * 2 - 1) * jitter) * s;
      out0[at(2, a)] = head.w * s * (d === 0 ? 1 : 0.97 + 0.06 * rand());
      out0[at(3, a)] = head.h * s * (d === 0 ? 1 : 0.97 + 0.06 * rand());
      out0[at(4 + head.cls, a)] = d === 0 ? HEAD_SCORE : 0.3 + 0.5 * rand();
      // Coefficients: prototype (j mod 32) strongly, the rest weakly.
      for (let q = 0; q < YOLO_PROTOTYPES; q++) out0[at(4 + YOLO_CLASSES + q, a)] = q === j % YOLO_PROTOTYPES ? 2 : (rand() - 0.5) * 0.2;
    }
  }
  const p = s / 4;
  const out1 = new Float32Array(YOLO_PROTOTYPES * p * p);
  for (let q = 0; q < YOLO_PROTOTYPES; q++) {
    const fx = 1 + (q % 5);
    const fy = 1 + (q % 3);
    for (let y = 0; y < p; y++) {
      for (let x = 0; x < p; x++) out1[(q * p + y) * p + x] = Math.sin((x / p) * fx * 3 + q) * Math.cos((y / p) * fy * 3 - q) * 3;
    }
  }
  return {
    output0: { data: out0, dims: [1, rows, anchors] },
    output1: { data: out1, dims: [1, YOLO_PROTOTYPES, p, p] },
  };
}

/** A seeded synthetic frame: soft gradient and a few filled shapes. */
export async function syntheticFrame(seed: number, width: number, height: number): Promise<ImageBitmap> {
  const rand = seededRandom(seed);
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d')!;
  const g = ctx.createLinearGradient(0, 0, width, height);
  g.addColorStop(0, `hsl(${Math.floor(rand() * 360)}, 40%, 70%)`);
  g.addColorStop(1, `hsl(${Math.floor(rand() * 360)}, 40%, 30%)`);
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, width, height);
  for (let i = 0; i < 12; i++) {
    ctx.fillStyle = `hsl(${Math.floor(rand() * 360)}, 70%, ${30 + Math.floor(rand() * 40)}%)`;
    const x = rand() * width,
      y = rand() * height,
      r = (0.04 + rand() * 0.12) * Math.min(width, height);
    ctx.beginPath();
    if (i % 2) ctx.arc(x, y, r, 0, Math.PI * 2);
    else ctx.rect(x - r, y - r * 0.7, 2 * r, 1.4 * r);
    ctx.fill();
  }
  return canvas.transferToImageBitmap();
}
