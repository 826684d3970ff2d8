/** Conformance cases of the YOLO-seg decode and end-to-end kernels (shaders/yolo_seg_*.wgsl). */
import { bestConfBytes, boxesBytes, candidatesBytes, CANDIDATES_HEADER_WORDS, createYoloSegDecode } from '../../../app/gpu/kernels/yoloSegDecode';
import { createYoloSegEndToEnd } from '../../../app/gpu/kernels/yoloSegEndToEnd';
import { NOT_BEST, trimTopKReference, yoloSegDecodeReference } from '../../../app/reference/yoloSegDecode';
import { createYoloSegTrimTopK } from '../../../app/gpu/kernels/yoloSegTrimTopK';
import { yoloSegEndToEndReference } from '../../../app/reference/yoloSegEndToEnd';
import { createStorageBuffer, readBuffer, readF32, readU32, uploadStorage } from '../../../app/gpu/buffers';
import { decodeRecords, recordsBufferBytes, type DecodedRecord } from '../../../app/gpu/layout';
import { firstMismatch, maxAbsDiff, rng, runCases, sharedKernel, type CaseResult } from './common';

/** Boxes are O(1) relative values from one subtraction and one division (≤ 2.5 ulp in WGSL). */
const BOX_TOL = 2e-6;

interface DecodeRun {
  boxes: Float32Array;
  bestConf: Float32Array;
  candidates: number[];
  ms: number;
}

async function runDecode(device: GPUDevice, output0: Float32Array, c: number, n: number, conf: number, inputW: number, inputH: number): Promise<DecodeRun> {
  const bufs = {
    output0: uploadStorage(device, 'test.output0', output0),
    boxes: createStorageBuffer(device, 'test.boxes', Math.max(16, boxesBytes(n))),
    bestConf: createStorageBuffer(device, 'test.bestConf', bestConfBytes(n, c)),
    candidates: createStorageBuffer(device, 'test.candidates', candidatesBytes(n)),
  };
  device.queue.writeBuffer(bufs.candidates, 0, new Uint32Array([999, 7, 7, 7]));
  const kernel = sharedKernel(device, 'yoloSegDecode', createYoloSegDecode);
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'yoloSegDecode.test' });
  kernel.run(encoder, bufs, { numAnchors: n, numClasses: c, confThreshold: conf, inputWidth: inputW, inputHeight: inputH });
  device.queue.submit([encoder.finish()]);
  const boxes = await readF32(device, bufs.boxes, 4 * n);
  const bestConf = await readF32(device, bufs.bestConf, n * (c + 1));
  const words = await readU32(device, bufs.candidates);
  const ms = performance.now() - t0;
  const candidates = Array.from(words.subarray(CANDIDATES_HEADER_WORDS, CANDIDATES_HEADER_WORDS + words[0]!)).sort((a, b) => a - b);
  Object.values(bufs).forEach((b) => b.destroy());
  return { boxes, bestConf, candidates, ms };
}

/** Compares kernel and reference: boxes within BOX_TOL, same candidates, candidates' bestConf rows exact. */
function checkDecode(run: DecodeRun, want: ReturnType<typeof yoloSegDecodeReference>, c: number, extra = ''): Omit<CaseResult, 'kernel' | 'name'> {
  const problems: string[] = [];
  let maxAbsError = 0;
  for (let i = 0; i < want.boxes.length; i++) {
    const e = Math.abs(run.boxes[i]! - want.boxes[i]!);
    maxAbsError = Math.max(maxAbsError, e);
    if (!(e <= BOX_TOL * Math.max(1, Math.abs(want.boxes[i]!)))) {
      problems.push(`box value ${i}: got ${run.boxes[i]}, want ${want.boxes[i]}`);
      break;
    }
  }
  const bad = firstMismatch(run.candidates, want.candidates);
  if (bad >= 0 || run.candidates.length !== want.candidates.length)
    problems.push(
      `candidates: got ${run.candidates.length} [${run.candidates.slice(0, 5)}…], want ${want.candidates.length} [${want.candidates.slice(0, 5)}…]`,
    );
  for (const i of want.candidates) {
    const row = i * (c + 1);
    const diff = maxAbsDiff(run.bestConf.subarray(row, row + c + 1), want.bestConf.subarray(row, row + c + 1));
    if (diff !== 0) {
      problems.push(`bestConf row ${i} differs by ${diff}`);
      break;
    }
  }
  return {
    pass: problems.length === 0,
    detail: `${want.boxes.length / 4} anchors, ${want.candidates.length} candidates${extra}; ${problems.join('; ')}`,
    maxAbsError,
    ms: run.ms,
  };
}

/** output0 [4 + C + K, N] of random anchors: boxes anywhere in (and beyond) the input, scores in [0, 1). */
export function randomOutput0(seed: number, c: number, n: number, inputSize: number, k = 32): Float32Array {
  const rand = rng(seed);
  const out = new Float32Array((4 + c + k) * n);
  for (let i = 0; i < n; i++) {
    out[i] = (rand() * 1.2 - 0.1) * inputSize;
    out[n + i] = (rand() * 1.2 - 0.1) * inputSize;
    out[2 * n + i] = rand() * inputSize * 0.5;
    out[3 * n + i] = rand() * inputSize * 0.5;
    for (let j = 0; j < c; j++) out[(4 + j) * n + i] = rand() ** 3;
    for (let j = 0; j < k; j++) out[(4 + c + j) * n + i] = rand() - 0.5;
  }
  return out;
}

async function runEndToEnd(
  device: GPUDevice,
  det: Float32Array,
  rows: number,
  k: number,
  c: number,
  maxDet: number,
  conf: number,
  score: number,
  size: number,
): Promise<{ records: DecodedRecord[]; candidateCount: number; ms: number }> {
  const detections = uploadStorage(device, 'test.detections', det);
  const records = createStorageBuffer(device, 'test.records', recordsBufferBytes(maxDet));
  device.queue.writeBuffer(records, 0, new Uint32Array([77, 77, 0, 0]));
  const kernel = sharedKernel(device, 'yoloSegEndToEnd', createYoloSegEndToEnd);
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'yoloSegEndToEnd.test' });
  kernel.run(
    encoder,
    { detections, records },
    { numRows: rows, numPrototypes: k, numClasses: c, maxDetections: maxDet, confThreshold: conf, scoreThreshold: score, inputWidth: size, inputHeight: size },
  );
  device.queue.submit([encoder.finish()]);
  const bytes = await readBuffer(device, records, 0, recordsBufferBytes(maxDet));
  const ms = performance.now() - t0;
  detections.destroy();
  records.destroy();
  return { ...decodeRecords(bytes), ms };
}

function checkRecords(
  got: { records: DecodedRecord[]; candidateCount: number; ms: number },
  want: { records: DecodedRecord[]; candidateCount: number },
): Omit<CaseResult, 'kernel' | 'name'> {
  const problems: string[] = [];
  if (got.records.length !== want.records.length) problems.push(`count ${got.records.length}, want ${want.records.length}`);
  if (got.candidateCount !== want.candidateCount) problems.push(`candidateCount ${got.candidateCount}, want ${want.candidateCount}`);
  let maxAbsError = 0;
  want.records.forEach((w, i) => {
    const g = got.records[i];
    if (!g) return;
    if (g.sourceIndex !== w.sourceIndex || g.classIndex !== w.classIndex || g.score !== w.score) {
      problems.push(`#${i}: row ${g.sourceIndex}/${w.sourceIndex} class ${g.classIndex}/${w.classIndex} score ${g.score}/${w.score}`);
    }
    maxAbsError = Math.max(maxAbsError, maxAbsDiff(g.box, w.box));
  });
  if (maxAbsError > BOX_TOL) problems.push(`box error ${maxAbsError}`);
  return { pass: problems.length === 0, detail: `${want.records.length} records; ${problems.slice(0, 4).join('; ')}`, maxAbsError, ms: got.ms };
}

export async function yoloSegDecodeConformance(device: GPUDevice): Promise<CaseResult[]> {
  return runCases('yoloSegDecode', device, [
    [
      'hand: three anchors, 2 classes, 640 input',
      async () => {
        // anchor 0: (320, 320, 64, 128), scores (0.3, 0.9) → box (288, 256, 352, 384)/640 =
        //   (0.45, 0.4, 0.55, 0.6), best class 1, candidate.
        // anchor 1: (0, 640, 100, 20), scores (0.25, 0.25) → (−0.078125, 0.984375, 0.078125,
        //   1.015625): not clipped; best 0.25 is not > 0.25: no candidate.
        // anchor 2: scores (0.5, 0.5): tie → the first class (0), candidate.
        const n = 3,
          c = 2,
          k = 1;
        const out = new Float32Array((4 + c + k) * n);
        const set = (r: number, vals: number[]) => out.set(vals, r * n);
        set(0, [320, 0, 10]);
        set(1, [320, 640, 10]);
        set(2, [64, 100, 4]);
        set(3, [128, 20, 4]);
        set(4, [0.3, 0.25, 0.5]);
        set(5, [0.9, 0.25, 0.5]);
        const run = await runDecode(device, out, c, n, 0.25, 640, 640);
        const wantBoxes = [0.45, 0.4, 0.55, 0.6, -0.078125, 0.984375, 0.078125, 1.015625, 8 / 640, 8 / 640, 12 / 640, 12 / 640];
        const wantRows = { 0: [0, NOT_BEST, 0.9], 2: [0, 0.5, NOT_BEST] };
        const boxErr = maxAbsDiff(run.boxes, wantBoxes);
        const rowsOk = Object.entries(wantRows).every(([i, row]) => maxAbsDiff(run.bestConf.subarray(+i * 3, +i * 3 + 3), row) < 1e-7);
        const pass = boxErr < BOX_TOL && rowsOk && run.candidates.join() === '0,2';
        return { pass, detail: `candidates ${run.candidates}, box error ${boxErr}, rows ${rowsOk ? 'ok' : 'wrong'}`, maxAbsError: boxErr, ms: run.ms };
      },
    ],
    [
      'random: COCO-sized, 80 classes, 8400 anchors, conf 0.25',
      async () => {
        const out = randomOutput0(1, 80, 8400, 640);
        return checkDecode(await runDecode(device, out, 80, 8400, 0.25, 640, 640), yoloSegDecodeReference(out, 80, 8400, 0.25, 640, 640), 80);
      },
    ],
    [
      'random: 3 classes, 2100 anchors (320), conf 0.001 (val)',
      async () => {
        const out = randomOutput0(2, 3, 2100, 320);
        return checkDecode(await runDecode(device, out, 3, 2100, 0.001, 320, 320), yoloSegDecodeReference(out, 3, 2100, 0.001, 320, 320), 3);
      },
    ],
    [
      'edge: one class, N = 65 (partial workgroup), non-square input 320x256',
      async () => {
        const out = randomOutput0(3, 1, 65, 320);
        return checkDecode(await runDecode(device, out, 1, 65, 0.2, 320, 256), yoloSegDecodeReference(out, 1, 65, 0.2, 320, 256), 1);
      },
    ],
    [
      'edge: no candidate (threshold 1)',
      async () => {
        const out = randomOutput0(4, 5, 300, 640);
        return checkDecode(await runDecode(device, out, 5, 300, 1, 640, 640), yoloSegDecodeReference(out, 5, 300, 1, 640, 640), 5);
      },
    ],
    [
      'edge: N = 0',
      async () => {
        const run = await runDecode(device, new Float32Array(4), 2, 0, 0.25, 640, 640);
        return { pass: run.candidates.length === 0, detail: `${run.candidates.length} candidates` };
      },
    ],
  ]);
}

export async function yoloSegEndToEndConformance(device: GPUDevice): Promise<CaseResult[]> {
  return runCases('yoloSegEndToEnd', device, [
    [
      'hand: 4 rows, threshold, tie, bad class',
      async () => {
        // rows (score, class): 0 (0.5, 1), 1 (0.9, 0), 2 (0.5, 2), 3 (0.2, 0), 4 (0.8, 7 → not a class).
        // conf 0.25, 3 classes → kept 1, 0, 2 (0.5 tie: lower row first); candidates 4 (> 0.25).
        const k = 2,
          stride = 8;
        const det = new Float32Array(5 * stride);
        const rows = [
          [0, 0, 64, 64, 0.5, 1],
          [64, 0, 128, 32, 0.9, 0],
          [0, 0, 320, 320, 0.5, 2],
          [1, 1, 2, 2, 0.2, 0],
          [5, 5, 6, 6, 0.8, 7],
        ];
        rows.forEach((r, i) => det.set(r, i * stride));
        const got = await runEndToEnd(device, det, 5, k, 3, 10, 0.25, 0, 320);
        const summary = got.records.map((r) => `${r.sourceIndex}:${r.classIndex}:${r.box.map((v) => +(v * 320).toFixed(3)).join(',')}`).join(' ');
        const want = '1:0:64,0,128,32 0:1:0,0,64,64 2:2:0,0,320,320';
        return {
          pass: summary === want && got.candidateCount === 4,
          detail: `got ${summary} (${got.candidateCount} candidates), want ${want} (4)`,
          ms: got.ms,
        };
      },
    ],
    [
      'random: 300 rows, 80 classes, cap 100, display threshold 0.5',
      async () => {
        const rand = rng(9);
        const det = new Float32Array(300 * 38);
        for (let r = 0; r < 300; r++) {
          const x = rand() * 600,
            y = rand() * 600;
          det.set([x, y, x + rand() * 100, y + rand() * 100, Math.round(rand() * 50) / 50, Math.floor(rand() * 80)], r * 38);
        }
        const got = await runEndToEnd(device, det, 300, 32, 80, 100, 0.25, 0.5, 640);
        return checkRecords(got, yoloSegEndToEndReference(det, 300, 32, 80, 100, 0.25, 0.5, 640, 640));
      },
    ],
    [
      'edge: all rows padding (score 0)',
      async () => {
        const got = await runEndToEnd(device, new Float32Array(300 * 38), 300, 32, 80, 300, 0.25, 0, 640);
        return checkRecords(got, { records: [], candidateCount: 0 });
      },
    ],
  ]);
}

async function runTrim(device: GPUDevice, scores: number[][], counts: number[], topK: number): Promise<number[]> {
  const flat = new Float32Array(scores.length * topK);
  scores.forEach((row, c) => flat.set(row, c * topK));
  const topScores = uploadStorage(device, 'test.topScores', flat);
  const topCounts = uploadStorage(device, 'test.topCounts', new Uint32Array(counts));
  const kernel = sharedKernel(device, 'yoloSegTrimTopK', createYoloSegTrimTopK);
  const encoder = device.createCommandEncoder({ label: 'yoloSegTrimTopK.test' });
  kernel.run(encoder, { topScores, topCounts }, { numClasses: scores.length, topK });
  device.queue.submit([encoder.finish()]);
  const got = Array.from(await readU32(device, topCounts, scores.length));
  topScores.destroy();
  topCounts.destroy();
  return got;
}

export async function yoloSegTrimTopKConformance(device: GPUDevice): Promise<CaseResult[]> {
  return runCases('yoloSegTrimTopK', device, [
    [
      'hand: real entries, then NOT_BEST; empty; all real; count below topK',
      async () => {
        // class 0: 0.9 0.5 −1 −1 → 2; class 1: −1 −1 → 0; class 2: 0.7 0.6 0.3 0.26 → 4;
        // class 3: count 1 of (0.8, −1) → 1; class 4: count 0 → 0; class 5: score 0 is real → 1.
        const scores = [[0.9, 0.5, -1, -1], [-1, -1, 0, 0], [0.7, 0.6, 0.3, 0.26], [0.8, -1], [0.5], [0, -1]];
        const counts = [4, 2, 4, 1, 0, 2];
        const got = await runTrim(device, scores, counts, 4);
        const want = [2, 0, 4, 1, 0, 1];
        return { pass: got.join() === want.join(), detail: `got ${got}, want ${want}` };
      },
    ],
    [
      'random: 80 classes, topK 300, vs trimTopKReference',
      async () => {
        const rand = rng(11);
        const scores: number[][] = [];
        const counts: number[] = [];
        for (let c = 0; c < 80; c++) {
          const count = Math.floor(rand() * 301);
          const real = Math.floor(rand() * (count + 1));
          const row = Array.from({ length: count }, (_, i) => (i < real ? 1 - i / 400 : NOT_BEST));
          scores.push(row);
          counts.push(count);
        }
        const got = await runTrim(device, scores, counts, 300);
        const want = trimTopKReference({ indices: scores.map((r) => r.map(() => 0)), scores }).scores.map((r) => r.length);
        const bad = firstMismatch(got, want);
        return { pass: bad < 0, detail: bad < 0 ? '80 classes' : `class ${bad}: got ${got[bad]}, want ${want[bad]}` };
      },
    ],
  ]);
}
