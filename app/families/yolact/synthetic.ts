/**
 * Synthetic YOLACT outputs for tests and the browser conformance page: priors laid out as
 * YOLACT's (MODELS.md §1), and scores / deltas / coefficients / prototypes made so that
 * a handful of objects give clusters of overlapping candidates (NMS has work to do) and
 * masks with structure (prototypes are smooth blobs, not noise).
 */
import type { ModelManifest } from '../../types';
import { levelSizes, PRIORS_PER_CELL, YOLACT_PROTOTYPES } from './manifest';
import type { RawOutput } from './reference';
import { seededRandom as seeded } from '../../util/random';

/** YOLACT priors [N, 4] (cx, cy, w, h) for an input size: base scales 24·2^l px, square anchors. */
export function yolactPriors(inputWidth: number, inputHeight: number): Float32Array {
  const ws = levelSizes(inputWidth);
  const hs = levelSizes(inputHeight);
  const out: number[] = [];
  const aspectRatios = [1, 0.5, 2];
  ws.forEach((w, l) => {
    const h = hs[l]!;
    const scale = 24 * 2 ** l;
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < w; i++) {
        for (const ar of aspectRatios) {
          const pw = (scale * Math.sqrt(ar)) / inputWidth;
          out.push((i + 0.5) / w, (j + 0.5) / h, pw, pw); // use_square_anchors: h = w
        }
      }
    }
  });
  if (out.length / 4 !== PRIORS_PER_CELL * ws.reduce((s, w, l) => s + w * hs[l]!, 0)) throw new Error('prior count');
  return new Float32Array(out);
}

export function syntheticManifest(inputSize: number, numClasses: number): ModelManifest {
  return {
    id: `synthetic-yolact-${inputSize}`,
    name: 'synthetic YOLACT',
    family: 'yolact',
    url: '',
    input: { name: 'input', width: inputSize, height: inputSize, resize: 'stretch', channels: 'rgb', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
    outputs: { loc: 'loc', conf: 'conf', mask: 'mask', priors: 'priors', proto: 'proto' },
    classes: Array.from({ length: numClasses }, (_, c) => `class${c}`),
    defaults: { confThreshold: 0.05, scoreThreshold: 0, topK: 200, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100 },
  };
}

/**
 * Outputs of an imaginary YOLACT at `inputSize` with `numClasses` classes and `objects`
 * objects: priors whose centre falls inside an object score its class (higher nearer the
 * centre), with deltas pulling the box towards the object's box; the object's priors share
 * coefficients that select a prototype blob at the object's place.
 */
export function syntheticYolactOutputs(seed: number, inputSize: number, numClasses: number, objects: number): Record<string, RawOutput> {
  const rand = seeded(seed);
  const priors = yolactPriors(inputSize, inputSize);
  const n = priors.length / 4;
  const k = YOLACT_PROTOTYPES;
  const p = 2 * levelSizes(inputSize)[0]!;
  const loc = new Float32Array(n * 4);
  const conf = new Float32Array(n * (numClasses + 1));
  const mask = new Float32Array(n * k);
  const proto = new Float32Array(p * p * k);

  for (let i = 0; i < loc.length; i++) loc[i] = (rand() - 0.5) * 0.4;
  for (let i = 0; i < mask.length; i++) mask[i] = Math.tanh((rand() - 0.5) * 0.6);
  // Background prototypes: smooth low-frequency waves; each object gets a blob prototype.
  for (let r = 0; r < p; r++) {
    for (let c = 0; c < p; c++) {
      for (let q = 0; q < k; q++) {
        proto[(r * p + c) * k + q] = Math.max(0, Math.sin(((r * ((q % 5) + 1)) / p) * 3 + q) * Math.cos(((c * ((q % 3) + 1)) / p) * 3 - q));
      }
    }
  }
  // Everything starts as confident background.
  for (let i = 0; i < n; i++) {
    const row = conf.subarray(i * (numClasses + 1), (i + 1) * (numClasses + 1));
    row.fill(0.002 * rand());
    row[0] = 1 - row.reduce((s, v, c) => (c ? s + v : s), 0);
  }
  for (let o = 0; o < objects; o++) {
    const w = 0.1 + rand() * 0.5;
    const h = 0.1 + rand() * 0.5;
    const cx = w / 2 + rand() * (1 - w);
    const cy = h / 2 + rand() * (1 - h);
    const cls = Math.floor(rand() * numClasses);
    const blob = o % k;
    for (let r = 0; r < p; r++) {
      for (let c = 0; c < p; c++) {
        const dx = ((c + 0.5) / p - cx) / (w / 2);
        const dy = ((r + 0.5) / p - cy) / (h / 2);
        proto[(r * p + c) * k + blob] = Math.max(0, 1.2 - Math.sqrt(dx * dx + dy * dy)) * 6;
      }
    }
    for (let i = 0; i < n; i++) {
      const pcx = priors[4 * i]!,
        pcy = priors[4 * i + 1]!,
        pw = priors[4 * i + 2]!,
        ph = priors[4 * i + 3]!;
      const ux = (pcx - cx) / (w / 2),
        uy = (pcy - cy) / (h / 2);
      const d = Math.sqrt(ux * ux + uy * uy);
      if (d > 1) continue;
      const score = Math.min(0.97, (1 - d) * (0.6 + 0.4 * rand()) * (pw > w * 1.5 ? 0.3 : 1));
      if (score < 0.06) continue;
      const row = conf.subarray(i * (numClasses + 1), (i + 1) * (numClasses + 1));
      if (score <= row[cls + 1]!) continue;
      row.fill(0.001);
      row[cls + 1] = score;
      row[((cls + 1) % numClasses) + 1] = Math.max(row[((cls + 1) % numClasses) + 1]!, score * 0.3 * rand());
      row[0] = Math.max(0, 1 - row.reduce((s, v, c) => (c ? s + v : s), 0));
      // deltas towards the object's box, with noise
      loc[4 * i] = ((cx - pcx) / (0.1 * pw)) * (0.8 + 0.2 * rand());
      loc[4 * i + 1] = ((cy - pcy) / (0.1 * ph)) * (0.8 + 0.2 * rand());
      loc[4 * i + 2] = Math.log(w / pw) / 0.2 + (rand() - 0.5) * 0.5;
      loc[4 * i + 3] = Math.log(h / ph) / 0.2 + (rand() - 0.5) * 0.5;
      for (let q = 0; q < k; q++) mask[i * k + q] = q === blob ? 0.9 : Math.tanh((rand() - 0.5) * 0.3);
    }
  }
  return {
    loc: { data: loc, dims: [1, n, 4] },
    conf: { data: conf, dims: [1, n, numClasses + 1] },
    mask: { data: mask, dims: [1, n, k] },
    priors: { data: priors, dims: [n, 4] },
    proto: { data: proto, dims: [1, p, p, k] },
  };
}

export interface HandObject {
  prior: number;
  cls: number;
  score: number;
  box: [number, number, number, number];
}

/**
 * Hand-built outputs for a 64x64 input (levels 8, 4, 2, 1, 1 → 258 priors, protos 16x16),
 * 3 classes (use with `syntheticManifest(64, 3)`). Every prior is background except the ones a case sets; loc deltas are 0, so a
 * prior's box is its own (cx, cy, w, h). Prototype 0 is 1 everywhere, the others 0, and
 * every prior's coefficient 0 is 10: masks are σ(10) ≈ 1 inside the crop box.
 */
export function handYolactOutputs(objects: HandObject[]): Record<string, RawOutput> {
  const n = 258;
  const numClasses = 3;
  const priors = new Float32Array(n * 4).fill(0.01);
  const conf = new Float32Array(n * (numClasses + 1));
  for (let i = 0; i < n; i++) conf[i * 4] = 1;
  for (const o of objects) {
    const [x1, y1, x2, y2] = o.box;
    priors.set([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], o.prior * 4);
    conf[o.prior * 4] = 1 - o.score;
    conf[o.prior * 4 + 1 + o.cls] = o.score;
  }
  const mask = new Float32Array(n * 32);
  for (let i = 0; i < n; i++) mask[i * 32] = 10;
  const proto = new Float32Array(16 * 16 * 32);
  for (let p = 0; p < 256; p++) proto[p * 32] = 1;
  return {
    loc: { data: new Float32Array(n * 4), dims: [1, n, 4] },
    conf: { data: conf, dims: [1, n, numClasses + 1] },
    mask: { data: mask, dims: [1, n, 32] },
    priors: { data: priors, dims: [n, 4] },
    proto: { data: proto, dims: [1, 16, 16, 32] },
  };
}
