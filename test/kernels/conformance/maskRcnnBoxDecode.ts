/**
 * Conformance cases of the Mask R-CNN detection stage: shaders/maskrcnn_box_decode.wgsl
 * alone (hand-computed boxes and scores, candidate rules, padding RoIs), the class-specific
 * box option (`boxClassStride`) of fast_nms / greedy_nms / detection_cap, and the chain
 * decode → Fast | greedy NMS → cap as a frame runs it, against the references.
 * As in boxChain.ts, the references after the decode take the GPU's decoded boxes and scores
 * (read back), so the records must match exactly; the decoded values themselves are
 * compared with a tolerance (WGSL exp is not correctly rounded), and a candidate decision may
 * differ only where the reference score or box side lies within that tolerance of its
 * threshold (counted, reported as "excused").
 */
import { createMaskRcnnBoxDecode, maskRcnnBoxDecodeBytes, type MaskRcnnBoxDecodeParams } from '../../../app/gpu/kernels/maskRcnnBoxDecode';
import { createFastNms, keepBytes } from '../../../app/gpu/kernels/fastNms';
import { createGreedyNms } from '../../../app/gpu/kernels/greedyNms';
import { createDetectionCap } from '../../../app/gpu/kernels/detectionCap';
import { decodeRecords, recordsBufferBytes, type DecodedRecord } from '../../../app/gpu/layout';
import { createStorageBuffer, readBuffer, readF32, readU32, uploadStorage } from '../../../app/gpu/buffers';
import {
  maskRcnnBoxDecodeReference,
  maskRcnnNmsCapReference,
  maskRcnnSelectReference,
  MIN_BOX_SIDE,
  NOT_CANDIDATE,
  type MaskRcnnBoxDecodeSpec,
  type MaskRcnnDetectionSettings,
} from '../../../app/reference/maskRcnnBoxDecode';
import { fastNmsReference } from '../../../app/reference/fastNms';
import { greedyNmsReference } from '../../../app/reference/greedyNms';
import { detectionCapReference } from '../../../app/reference/detectionCap';
import type { NmsKind } from '../../../app/types';
import { rng, runCases, sharedKernel, type CaseResult } from './common';
import { compareRecords } from './detectionCap';
import { compareKeep, packTopIndices } from './nms';

type Result = Omit<CaseResult, 'kernel' | 'name'>;

/** Decoded values: a few f32 ulps of exp on O(1) relative boxes and softmax scores. */
const TOL = 4e-6;
const WEIGHTS: [number, number, number, number] = [10, 10, 5, 5];

interface DecodeCase {
  classLogits: Float32Array;
  boxDeltas: Float32Array;
  proposals: Float32Array;
  validRois: number;
  spec: MaskRcnnBoxDecodeSpec;
  topK: number;
}

interface DecodeOut {
  boxes: Float32Array;
  scores: Float32Array;
  candidateCount: number;
  topIndices: number[][];
  topScores: number[][];
  records: DecodedRecord[];
  recordsCandidateCount: number;
  ms: number;
}

/**
 * Runs the decode (and, with `chain`, NMS + cap) in one command encoder, the count of valid
 * proposals given on the GPU at word 2 of a small buffer (as the RPN stage would).
 */
async function runDecode(device: GPUDevice, c: DecodeCase, chain?: MaskRcnnDetectionSettings): Promise<DecodeOut> {
  const numRois = c.proposals.length / 4;
  const k = c.spec.numClasses;
  const sizes = maskRcnnBoxDecodeBytes(numRois, k, c.topK);
  const maxDetections = chain?.maxDetections ?? 1;
  const bufs = {
    classLogits: uploadStorage(device, 'test.classLogits', c.classLogits),
    boxDeltas: uploadStorage(device, 'test.boxDeltas', c.boxDeltas),
    proposals: uploadStorage(device, 'test.proposals', c.proposals),
    proposalCount: uploadStorage(device, 'test.proposalCount', new Uint32Array([999, 7, c.validRois, 5])),
    boxes: createStorageBuffer(device, 'test.boxes', sizes.boxes),
    scores: createStorageBuffer(device, 'test.scores', sizes.scores),
    candidates: uploadStorage(device, 'test.candidates', new Uint32Array([12345, 1, 2, 3])),
    topIndices: createStorageBuffer(device, 'test.topIndices', sizes.topRows),
    topScores: createStorageBuffer(device, 'test.topScores', sizes.topRows),
    topCounts: uploadStorage(device, 'test.topCounts', new Uint32Array(Math.max(1, k)).fill(777)),
    keep: createStorageBuffer(device, 'test.keep', keepBytes(k, c.topK)),
    records: createStorageBuffer(device, 'test.records', recordsBufferBytes(maxDetections)),
  };
  // Stale junk everywhere the kernel writes.
  device.queue.writeBuffer(bufs.boxes, 0, new Float32Array(sizes.boxes / 4).fill(-7));
  device.queue.writeBuffer(bufs.scores, 0, new Float32Array(sizes.scores / 4).fill(0.75));
  device.queue.writeBuffer(bufs.records, 0, new Uint32Array(recordsBufferBytes(maxDetections) / 4).fill(0xdeadbeef));
  const params: MaskRcnnBoxDecodeParams = {
    numRois,
    numClasses: k,
    inputWidth: c.spec.inputWidth,
    inputHeight: c.spec.inputHeight,
    boxWeights: c.spec.boxWeights,
    scoreThreshold: c.spec.scoreThreshold,
    topK: c.topK,
    minSize: c.spec.minSize,
    proposalCountWord: 2,
  };
  const decode = sharedKernel(device, 'maskRcnnBoxDecode', createMaskRcnnBoxDecode);
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'maskRcnnBoxDecode.test' });
  decode.run(encoder, bufs, params);
  if (chain) {
    const nms = chain.nmsKind === 'greedy' ? sharedKernel(device, 'greedyNms', createGreedyNms) : sharedKernel(device, 'fastNms', createFastNms);
    nms.run(encoder, bufs, { numClasses: k, topK: c.topK, nmsIou: chain.nmsIou, boxClassStride: numRois });
    const cap = sharedKernel(device, 'detectionCap', createDetectionCap);
    cap.run(encoder, bufs, { numClasses: k, topK: c.topK, maxDetections, scoreThreshold: chain.displayThreshold, boxClassStride: numRois });
  }
  device.queue.submit([encoder.finish()]);
  const recordBytes = await readBuffer(device, bufs.records);
  const ms = performance.now() - t0;
  const boxes = await readF32(device, bufs.boxes, 4 * k * numRois);
  const scores = await readF32(device, bufs.scores, k * numRois);
  const candidateCount = (await readU32(device, bufs.candidates, 1))[0]!;
  const rows = await readU32(device, bufs.topIndices);
  const rowScores = await readF32(device, bufs.topScores);
  const counts = await readU32(device, bufs.topCounts, k);
  Object.values(bufs).forEach((b) => b.destroy());
  const topIndices: number[][] = [];
  const topScores: number[][] = [];
  for (let cl = 0; cl < k; cl++) {
    const n = counts[cl]!;
    topIndices.push(Array.from(rows.subarray(cl * c.topK, cl * c.topK + n)));
    topScores.push(Array.from(rowScores.subarray(cl * c.topK, cl * c.topK + n)));
  }
  const decoded = chain ? decodeRecords(recordBytes) : { records: [], candidateCount: 0 };
  return { boxes, scores, candidateCount, topIndices, topScores, records: decoded.records, recordsCandidateCount: decoded.candidateCount, ms };
}

/** Decoded boxes / scores vs the reference; candidate flips excused only near a threshold. */
function compareDecoded(got: DecodeOut, c: DecodeCase): { pass: boolean; detail: string; maxAbsError: number; excused: number } {
  const want = maskRcnnBoxDecodeReference(c.classLogits, c.boxDeltas, c.proposals, c.validRois, c.spec);
  let maxAbsError = 0;
  let excused = 0;
  let first = '';
  const thr = c.spec.scoreThreshold;
  const minSize = c.spec.minSize ?? MIN_BOX_SIDE;
  const sx = c.spec.inputWidth;
  const sy = c.spec.inputHeight;
  for (let i = 0; i < want.boxes.length; i++) {
    const e = Math.abs(got.boxes[i]! - want.boxes[i]!);
    maxAbsError = Math.max(maxAbsError, Number.isNaN(e) ? Infinity : e);
    if (!(e <= TOL) && !first) first = `box value ${i}: got ${got.boxes[i]}, want ${want.boxes[i]}`;
  }
  for (let o = 0; o < want.scores.length; o++) {
    const g = got.scores[o]!;
    const w = want.scores[o]!;
    if ((g === NOT_CANDIDATE) !== (w === NOT_CANDIDATE)) {
      // Which decision may flip: the reference's own score and sides, recomputed.
      const b = want.boxes.subarray(4 * o, 4 * o + 4);
      const sideW = (b[2]! - b[0]!) * sx;
      const sideH = (b[3]! - b[1]!) * sy;
      const s = w === NOT_CANDIDATE ? g : w;
      const near = Math.abs(s - thr) <= TOL || Math.abs(sideW - minSize) <= TOL * sx || Math.abs(sideH - minSize) <= TOL * sy;
      if (near) excused++;
      else if (!first) first = `score [class ${Math.floor(o / (c.proposals.length / 4))}, RoI ${o % (c.proposals.length / 4)}]: got ${g}, want ${w}`;
      continue;
    }
    if (w === NOT_CANDIDATE) continue;
    const e = Math.abs(g - w);
    maxAbsError = Math.max(maxAbsError, e);
    if (!(e <= TOL) && !first) first = `score ${o}: got ${g}, want ${w}`;
  }
  const countOk = Math.abs(got.candidateCount - want.candidateCount) <= excused;
  if (!countOk && !first) first = `candidate count ${got.candidateCount}, want ${want.candidateCount}`;
  return {
    pass: !first,
    maxAbsError,
    excused,
    detail: `${want.candidateCount} candidates (kernel ${got.candidateCount}), ${excused} excused${first ? `; first: ${first}` : ''}`,
  };
}

/** The kernel's per-class lists vs the select reference on the kernel's own scores (exact). */
function compareSelect(got: DecodeOut, c: DecodeCase): { pass: boolean; detail: string } {
  const numRois = c.proposals.length / 4;
  const want = maskRcnnSelectReference(got.scores, numRois, c.spec.numClasses, c.topK);
  for (let cl = 0; cl < c.spec.numClasses; cl++) {
    const gi = got.topIndices[cl]!;
    const wi = want.indices[cl]!;
    if (gi.length !== wi.length) return { pass: false, detail: `class ${cl}: ${gi.length} entries, want ${wi.length}` };
    for (let i = 0; i < wi.length; i++) {
      if (gi[i] !== wi[i] || got.topScores[cl]![i] !== want.scores[cl]![i]) {
        return { pass: false, detail: `class ${cl} rank ${i}: got (${gi[i]}, ${got.topScores[cl]![i]}), want (${wi[i]}, ${want.scores[cl]![i]})` };
      }
    }
  }
  const total = want.indices.reduce((a, l) => a + l.length, 0);
  return { pass: true, detail: `${total} listed entries` };
}

/** Random heads in the shape of a trained model's: RoIs clustered around a few objects. */
export function randomMaskRcnnHeads(
  numRois: number,
  numClasses: number,
  input: number,
  seed: number,
): { classLogits: Float32Array; boxDeltas: Float32Array; proposals: Float32Array } {
  const r = rng(seed);
  const normal = () => (r() + r() + r() + r() - 2) * 1.7;
  const objects = Array.from({ length: 10 }, () => {
    const w = 8 + r() * input * 0.5;
    const h = 8 + r() * input * 0.5;
    const x = r() * (input - w * 0.5);
    const y = r() * (input - h * 0.5);
    return { x, y, w, h, cls: Math.floor(r() * numClasses) };
  });
  const proposals = new Float32Array(4 * numRois);
  const classLogits = new Float32Array(numRois * (numClasses + 1));
  const boxDeltas = new Float32Array(numRois * (numClasses + 1) * 4);
  for (let i = 0; i < numRois; i++) {
    const o = objects[Math.floor(r() * objects.length)]!;
    const jitter = 0.15;
    const x1 = Math.max(0, o.x + normal() * jitter * o.w);
    const y1 = Math.max(0, o.y + normal() * jitter * o.h);
    const x2 = Math.min(input, x1 + o.w * (1 + normal() * jitter));
    const y2 = Math.min(input, y1 + o.h * (1 + normal() * jitter));
    proposals.set([x1, y1, Math.max(x1 + 0.5, x2), Math.max(y1 + 0.5, y2)], 4 * i);
    const row = i * (numClasses + 1);
    for (let j = 0; j <= numClasses; j++) classLogits[row + j] = normal() * 0.8;
    classLogits[row] += 1.5; // background
    classLogits[row + 1 + o.cls] += 2 + r() * 4; // the object's class
    if (r() < 0.5) classLogits[row + 1 + Math.floor(r() * numClasses)] += 1 + r() * 3; // a confusable one
    for (let j = 0; j < (numClasses + 1) * 4; j++) boxDeltas[row * 4 + j] = normal() * (j % 4 < 2 ? 1.5 : 0.8);
  }
  return { classLogits, boxDeltas, proposals };
}

function specFor(numClasses: number, input: number, scoreThreshold = 0.05): MaskRcnnBoxDecodeSpec {
  return { numClasses, inputWidth: input, inputHeight: input, boxWeights: WEIGHTS, scoreThreshold };
}

/** Class-specific boxes through fastNms / greedyNms / detectionCap (their `boxClassStride` option). */
async function runStrideChain(
  device: GPUDevice,
  kind: NmsKind,
  boxes: Float32Array,
  stride: number,
  topIndices: number[][],
  topScores: number[][],
  topK: number,
): Promise<{ keep: boolean[][]; records: DecodedRecord[] }> {
  const numClasses = topIndices.length;
  const packed = packTopIndices(topIndices, topK);
  const scores = new Float32Array(numClasses * topK);
  topScores.forEach((s, c) => scores.set(s, c * topK));
  const bufs = {
    boxes: uploadStorage(device, 'test.classBoxes', boxes),
    topIndices: uploadStorage(device, 'test.topIndices', packed.rows),
    topScores: uploadStorage(device, 'test.topScores', scores),
    topCounts: uploadStorage(device, 'test.topCounts', packed.counts),
    keep: createStorageBuffer(device, 'test.keep', keepBytes(numClasses, topK)),
    candidates: uploadStorage(device, 'test.candidates', new Uint32Array([42, 0, 0, 0])),
    records: createStorageBuffer(device, 'test.records', recordsBufferBytes(100)),
  };
  const nms = kind === 'greedy' ? sharedKernel(device, 'greedyNms', createGreedyNms) : sharedKernel(device, 'fastNms', createFastNms);
  const cap = sharedKernel(device, 'detectionCap', createDetectionCap);
  const encoder = device.createCommandEncoder({ label: 'boxClassStride.test' });
  nms.run(encoder, bufs, { numClasses, topK, nmsIou: 0.5, boxClassStride: stride });
  cap.run(encoder, bufs, { numClasses, topK, maxDetections: 100, scoreThreshold: 0, boxClassStride: stride });
  device.queue.submit([encoder.finish()]);
  const words = await readU32(device, bufs.keep, numClasses * topK);
  const records = decodeRecords(await readBuffer(device, bufs.records)).records;
  Object.values(bufs).forEach((b) => b.destroy());
  const keep = topIndices.map((idx, c) => idx.map((_, i) => words[c * topK + i] === 1));
  return { keep, records };
}

export async function maskRcnnBoxDecodeConformance(device: GPUDevice): Promise<CaseResult[]> {
  const f = Math.fround;
  return runCases('maskRcnnBoxDecode', device, [
    [
      'hand: 1 RoI, 2 classes — softmax (0.2, 0.6, 0.2), decoded boxes written out',
      async () => {
        // logits (0, ln 3, 0) → exp (1, 3, 1) / 5. Proposal (10, 20, 50, 100) on a 200² input:
        // w 40, h 80, centre (30, 60).
        // class 0 deltas (5, −2.5, 5 ln 2, 0) / (10, 10, 5, 5) = (0.5, −0.25, ln 2, 0):
        //   centre (50, 40), size (80, 80) → (10, 0, 90, 80) → relative (0.05, 0, 0.45, 0.4).
        // class 1 deltas 0 → the proposal, relative (0.05, 0.1, 0.25, 0.5), score 0.2.
        const c: DecodeCase = {
          classLogits: new Float32Array([0, Math.log(3), 0]),
          boxDeltas: new Float32Array([9, 9, 9, 9, 5, -2.5, 5 * Math.LN2, 0, 0, 0, 0, 0]),
          proposals: new Float32Array([10, 20, 50, 100]),
          validRois: 1,
          spec: specFor(2, 200),
          topK: 4,
        };
        const got = await runDecode(device, c, { topK: 4, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 10, displayThreshold: 0 });
        const want = [
          { box: [0.05, 0, 0.45, 0.4], score: 0.6, classIndex: 0, sourceIndex: 0 },
          { box: [0.05, 0.1, 0.25, 0.5], score: 0.2, classIndex: 1, sourceIndex: 0 },
        ];
        let err = 0;
        let structural = got.records.length === 2 && got.recordsCandidateCount === 2 && got.candidateCount === 2;
        got.records.forEach((g, n) => {
          const w = want[n]!;
          structural &&= g.classIndex === w.classIndex && g.sourceIndex === w.sourceIndex && g.maskArea === 0;
          err = Math.max(err, Math.abs(g.score - w.score), ...g.box.map((v, i) => Math.abs(v - w.box[i]!)));
        });
        const ref = compareDecoded(got, c);
        return {
          pass: structural && err <= TOL && ref.pass,
          maxAbsError: err,
          detail: `records ${JSON.stringify(got.records.map((r) => [r.box.map((v) => +v.toFixed(6)), +r.score.toFixed(6), r.classIndex]))}; reference: ${ref.detail}`,
        };
      },
    ],
    [
      'hand: delta clamp log(1000/16), clipping, score ≤ 0.05 and side < 0.01 px dropped',
      async () => {
        // 3 RoIs, 1 class, input 100².
        // RoI 0: proposal (40, 40, 44, 44), dw = dh = 100/5 → clamped: size 4·62.5 = 250 about
        //   (42, 42) → (−83, −83, 167, 167) clipped → (0, 0, 100, 100); logits (0, 2): 0.881.
        // RoI 1: proposal (10, 10, 10.005, 30) (width 0.005 < 0.01) → not a candidate.
        // RoI 2: logits (ln 19·... ) p = 0.04 ≤ 0.05 → not a candidate (logits (ln 24, 0): 1/25).
        const c: DecodeCase = {
          classLogits: new Float32Array([0, 2, 0, 3, Math.log(24), 0]),
          boxDeltas: new Float32Array([0, 0, 0, 0, 0, 0, 100, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
          proposals: new Float32Array([40, 40, 44, 44, 10, 10, 10.005, 30, 20, 20, 60, 60]),
          validRois: 3,
          spec: specFor(1, 100),
          topK: 8,
        };
        const got = await runDecode(device, c, { topK: 8, nmsIou: 0.5, nmsKind: 'greedy', maxDetections: 10, displayThreshold: 0 });
        const box = got.boxes.subarray(0, 4);
        const ok =
          got.records.length === 1 &&
          got.records[0]!.sourceIndex === 0 &&
          box.every((v, i) => v === [0, 0, 1, 1][i]) &&
          got.scores[1] === NOT_CANDIDATE &&
          got.scores[2] === NOT_CANDIDATE &&
          Math.abs(got.scores[0]! - 1 / (1 + Math.exp(-2))) <= TOL &&
          got.candidateCount === 1;
        const ref = compareDecoded(got, c);
        return {
          pass: ok && ref.pass,
          maxAbsError: ref.maxAbsError,
          detail: `box 0 ${Array.from(box)}, scores ${Array.from(got.scores)}; reference: ${ref.detail}`,
        };
      },
    ],
    [
      'hand: padding RoIs past the GPU count are ignored; no candidates → zero records',
      async () => {
        // 4 RoIs, 2 valid (count at word 2 of the count buffer). RoI 2, 3 would score 0.99.
        const strong = [0, 6, 0];
        const c: DecodeCase = {
          classLogits: new Float32Array([5, 0, 0, 5, 0, 0, ...strong, ...strong]),
          boxDeltas: new Float32Array(4 * 3 * 4),
          proposals: new Float32Array([0, 0, 10, 10, 5, 5, 20, 20, 30, 30, 60, 60, 1, 1, 9, 9]),
          validRois: 2,
          spec: specFor(2, 64),
          topK: 4,
        };
        const got = await runDecode(device, c, { topK: 4, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 5, displayThreshold: 0 });
        const ok =
          got.records.length === 0 &&
          got.recordsCandidateCount === 0 &&
          got.candidateCount === 0 &&
          got.topIndices.every((l) => l.length === 0) &&
          got.scores.every((s) => s === NOT_CANDIDATE) &&
          [0, 1].every((cl) => [2, 3].every((r) => got.boxes.subarray(4 * (cl * 4 + r), 4 * (cl * 4 + r) + 4).every((v) => v === 0)));
        return { pass: ok, detail: `${got.records.length} records, candidates ${got.candidateCount}, scores ${Array.from(got.scores)}` };
      },
    ],
    [
      'hand: equal scores → lists and records by lower RoI first',
      async () => {
        // 40 RoIs with the same logits (0, 2) — the same softmax bits — and disjoint boxes in a
        // scrambled order: the class list and the records must be RoIs 0, 1, 2, … .
        const n = 40;
        const proposals = new Float32Array(4 * n);
        for (let i = 0; i < n; i++) {
          const slot = (i * 17) % n;
          proposals.set([slot * 10, 0, slot * 10 + 8, 8], 4 * i);
        }
        const c: DecodeCase = {
          classLogits: new Float32Array(2 * n).map((_, j) => (j % 2 ? 2 : 0)),
          boxDeltas: new Float32Array(8 * n),
          proposals,
          validRois: n,
          spec: specFor(1, 400),
          topK: 64,
        };
        const got = await runDecode(device, c, { topK: 64, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 50, displayThreshold: 0 });
        const order = got.records.map((r) => r.sourceIndex);
        const ok = got.topIndices[0]!.every((r, i) => r === i) && got.topIndices[0]!.length === n && order.length === n && order.every((r, i) => r === i);
        return { pass: ok, detail: `list ${got.topIndices[0]!.slice(0, 8).join(',')}…, records ${order.slice(0, 8).join(',')}… (${order.length})` };
      },
    ],
    [
      'boxClassStride: class-specific boxes in fastNms / greedyNms / detectionCap vs references',
      async () => {
        // 2 classes × 3 RoIs; the same RoI has different boxes per class. Class 0: boxes of RoIs
        // 0, 1 overlap (IoU 0.2 / 0.25 = 0.8 > 0.5) → RoI 1 suppressed; class 1: the SAME RoIs do not overlap.
        const boxes = new Float32Array([
          0,
          0,
          0.5,
          0.5,
          0,
          0,
          0.5,
          0.4,
          0.8,
          0.8,
          0.9,
          0.9, // class 0, RoIs 0–2
          0,
          0,
          0.2,
          0.2,
          0.5,
          0.5,
          0.7,
          0.7,
          0.1,
          0.1,
          0.3,
          0.3, // class 1
        ]);
        const topIndices = [
          [0, 1, 2],
          [1, 0, 2],
        ];
        const topScores = [
          [f(0.9), f(0.8), f(0.3)],
          [f(0.85), f(0.7), f(0.6)],
        ];
        const results: string[] = [];
        let pass = true;
        for (const kind of ['fast', 'greedy'] as const) {
          const got = await runStrideChain(device, kind, boxes, 3, topIndices, topScores, 4);
          const wantKeep = (kind === 'fast' ? fastNmsReference : greedyNmsReference)(boxes, topIndices, 0.5, 3);
          // class 1: RoI 2 (0.1..0.3) vs RoI 0 (0..0.2): IoU 0.01/0.07 = 0.14 → kept.
          const handKeep = [
            [true, false, true],
            [true, true, true],
          ];
          const k1 = compareKeep(got.keep, handKeep);
          const k2 = compareKeep(wantKeep, handKeep);
          const wantRecords = detectionCapReference(boxes, topIndices, topScores, wantKeep, 100, 0, 3);
          const r = compareRecords(got.records, wantRecords);
          const boxOk = got.records[1]?.classIndex === 1 && got.records[1].sourceIndex === 1 && got.records[1].box[0] === f(0.5);
          pass &&= k1.pass && k2.pass && r.pass && boxOk;
          results.push(`${kind}: kernel ${k1.detail}, reference ${k2.detail}, records ${r.detail}${boxOk ? '' : ' (record 1 box not class 1’s)'}`);
        }
        return { pass, detail: results.join('; ') };
      },
    ],
    [
      'random R = 500, K = 80, 437 valid, Fast NMS 0.5, 100 detections: records exact',
      async () => {
        const heads = randomMaskRcnnHeads(500, 80, 512, 61);
        return chainCase(
          device,
          { ...heads, validRois: 437, spec: specFor(80, 512), topK: 500 },
          { topK: 500, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100, displayThreshold: 0 },
        );
      },
    ],
    [
      'random R = 500, K = 80, greedy NMS 0.5, display threshold 0.3',
      async () => {
        const heads = randomMaskRcnnHeads(500, 80, 512, 62);
        return chainCase(
          device,
          { ...heads, validRois: 500, spec: specFor(80, 512), topK: 500 },
          { topK: 500, nmsIou: 0.5, nmsKind: 'greedy', maxDetections: 100, displayThreshold: 0.3 },
        );
      },
    ],
    [
      'random R = 1000 (sort capacity), K = 3, threshold 0: every RoI a candidate, topK 512 truncates',
      async () => {
        const heads = randomMaskRcnnHeads(1000, 3, 800, 63);
        return chainCase(
          device,
          { ...heads, validRois: 1000, spec: specFor(3, 800, 0), topK: 512 },
          { topK: 512, nmsIou: 0.7, nmsKind: 'greedy', maxDetections: 100, displayThreshold: 0 },
        );
      },
    ],
    [
      'random R = 300, K = 20, topK 16 (truncated lists), maxDetections 7',
      async () => {
        const heads = randomMaskRcnnHeads(300, 20, 320, 64);
        return chainCase(
          device,
          { ...heads, validRois: 251, spec: specFor(20, 320), topK: 16 },
          { topK: 16, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 7, displayThreshold: 0 },
        );
      },
    ],
  ]);
}

async function chainCase(device: GPUDevice, c: DecodeCase, settings: MaskRcnnDetectionSettings): Promise<Result> {
  const got = await runDecode(device, c, settings);
  const decoded = compareDecoded(got, c);
  const select = compareSelect(got, c);
  const numRois = c.proposals.length / 4;
  const want = maskRcnnNmsCapReference(got.boxes, got.scores, numRois, c.spec.numClasses, settings);
  const recs = compareRecords(got.records, want);
  const headerOk = got.recordsCandidateCount === got.candidateCount;
  return {
    pass: decoded.pass && select.pass && recs.pass && headerOk,
    maxAbsError: decoded.maxAbsError,
    ms: got.ms,
    detail:
      `decode: ${decoded.detail}; select: ${select.detail}; records: ${recs.detail}` +
      `${headerOk ? '' : `; header candidateCount ${got.recordsCandidateCount} ≠ ${got.candidateCount}`}`,
  };
}
