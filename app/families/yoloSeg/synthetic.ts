/**
 * Synthetic YOLO-seg outputs for tests: anchors laid out as Ultralytics' (strides 8, 16, 32,
 * row-major per level, centres (i + 0.5)·s), objects that light up clusters of anchors
 * (several classes scoring, the object's class best) with jittered boxes (NMS has work to
 * do), smooth prototypes and one blob prototype per object, so masks have structure.
 */
import type { ModelManifest } from '../../types';
import { anchorCount, END_TO_END_ROWS, PROTO_STRIDE, YOLO_SEG_PROTOTYPES, YOLO_SEG_STRIDES } from './manifest';
import type { RawOutput } from './reference';
import { seededRandom as seeded } from '../../util/random';

export function syntheticYoloSegManifest(inputSize: number, numClasses: number, head: 'raw' | 'end-to-end' = 'raw'): ModelManifest {
  return {
    id: `synthetic-yolo-seg-${inputSize}-${numClasses}${head === 'raw' ? '' : '-e2e'}`,
    name: 'synthetic YOLO-seg',
    family: 'yolo-seg',
    url: 'synthetic:yolo-seg',
    input: {
      name: 'images',
      width: inputSize,
      height: inputSize,
      resize: 'letterbox',
      channels: 'rgb',
      scale: 1 / 255,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      padValue: 114,
    },
    outputs: head === 'raw' ? { output0: 'output0', protos: 'output1' } : { detections: 'output0', protos: 'output1' },
    classes: Array.from({ length: numClasses }, (_, c) => `class${c}`),
    defaults: { confThreshold: 0.25, scoreThreshold: 0.25, topK: 300, nmsIou: 0.7, nmsKind: 'greedy', maxDetections: 300 },
  };
}

export { seededRandom as seeded } from '../../util/random';

/** Anchor centres [N, 2] in input pixels and each anchor's stride. */
export function anchorCentres(inputSize: number): { centres: Float32Array; strides: Uint32Array } {
  const n = anchorCount(inputSize, inputSize);
  const centres = new Float32Array(2 * n);
  const strides = new Uint32Array(n);
  let i = 0;
  for (const s of YOLO_SEG_STRIDES) {
    const g = Math.ceil(inputSize / s);
    for (let y = 0; y < g; y++) {
      for (let x = 0; x < g; x++, i++) {
        centres[2 * i] = (x + 0.5) * s;
        centres[2 * i + 1] = (y + 0.5) * s;
        strides[i] = s;
      }
    }
  }
  return { centres, strides };
}

interface SyntheticObject {
  box: [number, number, number, number]; // xyxy input pixels
  cls: number;
}

function makeProtos(rand: () => number, p: number, k: number, objects: SyntheticObject[], inputSize: number): Float32Array {
  const protos = new Float32Array(k * p * p);
  for (let q = 0; q < k; q++) {
    const fy = (q % 5) + 1;
    const fx = (q % 3) + 1;
    const phase = rand() * 6;
    for (let r = 0; r < p; r++) {
      for (let c = 0; c < p; c++) protos[(q * p + r) * p + c] = Math.sin((r * fy * 3) / p + phase) * Math.cos((c * fx * 3) / p - q) * 0.5;
    }
  }
  objects.forEach((o, n) => {
    const q = n % k;
    const [x1, y1, x2, y2] = o.box.map((v) => v / inputSize) as [number, number, number, number];
    const cx = (x1 + x2) / 2,
      cy = (y1 + y2) / 2,
      hw = (x2 - x1) / 2,
      hh = (y2 - y1) / 2;
    for (let r = 0; r < p; r++) {
      for (let c = 0; c < p; c++) {
        const dx = ((c + 0.5) / p - cx) / hw;
        const dy = ((r + 0.5) / p - cy) / hh;
        protos[(q * p + r) * p + c] = (0.9 - Math.sqrt(dx * dx + dy * dy)) * 4;
      }
    }
  });
  return protos;
}

function randomObjects(rand: () => number, inputSize: number, numClasses: number, count: number): SyntheticObject[] {
  return Array.from({ length: count }, () => {
    const w = inputSize * (0.1 + rand() * 0.5);
    const h = inputSize * (0.1 + rand() * 0.5);
    const x1 = rand() * (inputSize - w);
    const y1 = rand() * (inputSize - h);
    return { box: [x1, y1, x1 + w, y1 + h] as [number, number, number, number], cls: Math.floor(rand() * numClasses) };
  });
}

/**
 * Raw-head outputs: output0 [1, 4 + C + 32, N] and protos [1, 32, S/4, S/4] of an imaginary
 * YOLO-seg at `inputSize` with `objects` random objects.
 */
export function syntheticYoloSegOutputs(seed: number, inputSize: number, numClasses: number, objects: number): Record<string, RawOutput> {
  const rand = seeded(seed);
  const n = anchorCount(inputSize, inputSize);
  const k = YOLO_SEG_PROTOTYPES;
  const rows = 4 + numClasses + k;
  const p = Math.ceil(inputSize / PROTO_STRIDE);
  const out = new Float32Array(rows * n);
  const { centres, strides } = anchorCentres(inputSize);
  const at = (r: number, i: number) => r * n + i;
  // Background: small boxes at the anchor, low scores, small random coefficients.
  for (let i = 0; i < n; i++) {
    out[at(0, i)] = centres[2 * i]!;
    out[at(1, i)] = centres[2 * i + 1]!;
    out[at(2, i)] = strides[i]! * (1 + rand());
    out[at(3, i)] = strides[i]! * (1 + rand());
    for (let c = 0; c < numClasses; c++) out[at(4 + c, i)] = rand() * 0.05;
    for (let q = 0; q < k; q++) out[at(4 + numClasses + q, i)] = (rand() - 0.5) * 0.2;
  }
  const objs = randomObjects(rand, inputSize, numClasses, objects);
  objs.forEach((o, index) => {
    const [x1, y1, x2, y2] = o.box;
    const w = x2 - x1,
      h = y2 - y1,
      cx = (x1 + x2) / 2,
      cy = (y1 + y2) / 2;
    for (let i = 0; i < n; i++) {
      const ux = (centres[2 * i]! - cx) / (w / 2);
      const uy = (centres[2 * i + 1]! - cy) / (h / 2);
      const d = Math.sqrt(ux * ux + uy * uy);
      if (d > 1) continue;
      const score = Math.min(0.97, (1 - d) * (0.5 + 0.5 * rand()));
      const current = Math.max(...Array.from({ length: numClasses }, (_, c) => out[at(4 + c, i)]!));
      if (score <= current) continue;
      for (let c = 0; c < numClasses; c++) out[at(4 + c, i)] = rand() * 0.05;
      out[at(4 + o.cls, i)] = score;
      if (numClasses > 1) out[at(4 + ((o.cls + 1) % numClasses), i)] = score * (0.5 + 0.4 * rand());
      out[at(0, i)] = cx + (rand() - 0.5) * 0.1 * w;
      out[at(1, i)] = cy + (rand() - 0.5) * 0.1 * h;
      out[at(2, i)] = w * (0.9 + 0.2 * rand());
      out[at(3, i)] = h * (0.9 + 0.2 * rand());
      for (let q = 0; q < k; q++) out[at(4 + numClasses + q, i)] = q === index % k ? 2 : (rand() - 0.5) * 0.2;
    }
  });
  return {
    output0: { data: out, dims: [1, rows, n] },
    protos: { data: makeProtos(rand, p, k, objs, inputSize), dims: [1, k, p, p] },
  };
}

/** End-to-end outputs: detections [1, 300, 38] (score-sorted like Ultralytics' top-k, padded with zeros) + protos. */
export function syntheticYoloSegEndToEnd(seed: number, inputSize: number, numClasses: number, objects: number): Record<string, RawOutput> {
  const rand = seeded(seed);
  const k = YOLO_SEG_PROTOTYPES;
  const stride = 6 + k;
  const p = Math.ceil(inputSize / PROTO_STRIDE);
  const det = new Float32Array(END_TO_END_ROWS * stride);
  const objs = randomObjects(rand, inputSize, numClasses, objects);
  // Unsorted on purpose (ordering is the kernel's job); one duplicate score to test ties.
  objs.forEach((o, r) => {
    det.set(o.box, r * stride);
    det[r * stride + 4] = r === 1 ? det[4]! : 0.1 + 0.89 * rand();
    det[r * stride + 5] = o.cls;
    for (let q = 0; q < k; q++) det[r * stride + 6 + q] = q === r % k ? 2 : (rand() - 0.5) * 0.2;
  });
  return {
    detections: { data: det, dims: [1, END_TO_END_ROWS, stride] },
    protos: { data: makeProtos(rand, p, k, objs, inputSize), dims: [1, k, p, p] },
  };
}
