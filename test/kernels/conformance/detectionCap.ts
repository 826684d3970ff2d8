/** Conformance cases of the cross-class cap kernel (shaders/detection_cap.wgsl). */
import { createDetectionCap } from '../../../app/gpu/kernels/detectionCap';
import { keepBytes } from '../../../app/gpu/kernels/fastNms';
import { detectionCapReference } from '../../../app/reference/detectionCap';
import { decodeRecords, recordsBufferBytes, type DecodedRecord } from '../../../app/gpu/layout';
import { createStorageBuffer, readBuffer, uploadStorage } from '../../../app/gpu/buffers';
import { rng, runCases, sharedKernel, type CaseResult } from './common';
import { packTopIndices, randomTopIndices } from './nms';
import { candidateWords } from './classTopK';

interface CapInput {
  boxes: Float32Array;
  topIndices: number[][];
  topScores: number[][];
  keep: boolean[][];
  topK: number;
}

export async function runCap(
  device: GPUDevice,
  input: CapInput,
  maxDetections: number,
  scoreThreshold: number,
  candidateCount: number,
): Promise<{ candidateCount: number; records: DecodedRecord[]; ms: number }> {
  const numClasses = input.topIndices.length;
  const { topK } = input;
  const packed = packTopIndices(input.topIndices, topK);
  const scores = new Float32Array(numClasses * topK);
  const keep = new Uint32Array(keepBytes(numClasses, topK) / 4);
  input.topScores.forEach((s, c) => scores.set(s, c * topK));
  input.keep.forEach((k, c) => k.forEach((v, i) => (keep[c * topK + i] = v ? 1 : 0)));
  const numPriors = input.boxes.length / 4;
  const bufs = {
    boxes: uploadStorage(device, 'test.boxes', input.boxes),
    topIndices: uploadStorage(device, 'test.topIndices', packed.rows),
    topScores: uploadStorage(device, 'test.topScores', scores),
    topCounts: uploadStorage(device, 'test.topCounts', packed.counts),
    keep: uploadStorage(device, 'test.keep', keep),
    candidates: uploadStorage(device, 'test.candidates', candidateWords(new Array(candidateCount).fill(0), Math.max(numPriors, candidateCount))),
    records: createStorageBuffer(device, 'test.records', recordsBufferBytes(maxDetections)),
  };
  // Junk in the records buffer: the header must be rewritten, stale records ignored.
  device.queue.writeBuffer(bufs.records, 0, new Uint32Array(recordsBufferBytes(maxDetections) / 4).fill(0xdeadbeef));
  const kernel = sharedKernel(device, 'detectionCap', createDetectionCap);
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'detectionCap.test' });
  kernel.run(encoder, bufs, { numClasses, topK, maxDetections, scoreThreshold });
  device.queue.submit([encoder.finish()]);
  const bytes = await readBuffer(device, bufs.records);
  const ms = performance.now() - t0;
  Object.values(bufs).forEach((b) => b.destroy());
  return { ...decodeRecords(bytes), ms };
}

export function compareRecords(got: DecodedRecord[], want: DecodedRecord[]): { pass: boolean; detail: string } {
  if (got.length !== want.length) return { pass: false, detail: `${got.length} records, want ${want.length}` };
  for (let n = 0; n < want.length; n++) {
    const g = got[n]!;
    const w = want[n]!;
    const same =
      g.score === w.score &&
      g.classIndex === w.classIndex &&
      g.sourceIndex === w.sourceIndex &&
      g.maskArea === w.maskArea &&
      g.box.every((v, i) => v === w.box[i]);
    if (!same) return { pass: false, detail: `record ${n}: got ${JSON.stringify(g)}, want ${JSON.stringify(w)}` };
  }
  return { pass: true, detail: `${want.length} records` };
}

/** Random per-class lists (sorted by score desc, then prior asc), scores from `levels` values, keep ~60%. */
function randomCapInput(n: number, numClasses: number, topK: number, seed: number, levels: number): CapInput {
  const r = rng(seed);
  const boxes = new Float32Array(4 * n).map(() => r());
  const lists = randomTopIndices(n, numClasses, () => Math.floor(r() * (topK + 1)), seed + 1);
  const topIndices: number[][] = [];
  const topScores: number[][] = [];
  for (const idx of lists) {
    const entries = idx.map((p) => ({ p, s: Math.fround(Math.floor(r() * levels + 1) / (levels + 1)) }));
    entries.sort((a, b) => (a.s !== b.s ? b.s - a.s : a.p - b.p));
    topIndices.push(entries.map((e) => e.p));
    topScores.push(entries.map((e) => e.s));
  }
  const keep = topIndices.map((idx) => idx.map(() => r() < 0.6));
  return { boxes, topIndices, topScores, keep, topK };
}

export async function detectionCapConformance(device: GPUDevice): Promise<CaseResult[]> {
  const f = Math.fround;
  // Class 0: priors 3, 1, 4 scoring 0.9, 0.6, 0.3, prior 1 suppressed; class 1: priors 1, 2
  // scoring 0.9, 0.6. Flattened and ordered: (0.9, c0, p3), (0.9, c1, p1), (0.6, c1, p2),
  // (0.3, c0, p4).
  const boxes = new Float32Array(20).map((_, i) => i / 20);
  const hand: CapInput = {
    boxes,
    topIndices: [
      [3, 1, 4],
      [1, 2],
    ],
    topScores: [
      [f(0.9), f(0.6), f(0.3)],
      [f(0.9), f(0.6)],
    ],
    keep: [
      [true, false, true],
      [true, true],
    ],
    topK: 4,
  };
  const rec = (p: number, score: number, classIndex: number): DecodedRecord => ({
    box: [boxes[4 * p]!, boxes[4 * p + 1]!, boxes[4 * p + 2]!, boxes[4 * p + 3]!],
    score: f(score),
    classIndex,
    sourceIndex: p,
    maskArea: 0,
  });
  const vsReference = async (input: CapInput, maxDet: number, thr: number) => {
    const got = await runCap(device, input, maxDet, thr, 1234);
    const want = detectionCapReference(input.boxes, input.topIndices, input.topScores, input.keep, maxDet, thr);
    const r = compareRecords(got.records, want);
    const headerOk = got.candidateCount === 1234;
    return { pass: r.pass && headerOk, detail: `${r.detail}${headerOk ? '' : `; candidateCount ${got.candidateCount}`}`, ms: got.ms };
  };
  return runCases('detectionCap', device, [
    [
      'hand: two classes, ties by class, suppressed entry skipped',
      async () => {
        const got = await runCap(device, hand, 100, 0, 17);
        const want = [rec(3, 0.9, 0), rec(1, 0.9, 1), rec(2, 0.6, 1), rec(4, 0.3, 0)];
        const r = compareRecords(got.records, want);
        const ref = compareRecords(detectionCapReference(hand.boxes, hand.topIndices, hand.topScores, hand.keep, 100, 0), want);
        return {
          pass: r.pass && ref.pass && got.candidateCount === 17,
          detail: `kernel: ${r.detail}; reference: ${ref.detail}; candidateCount ${got.candidateCount}`,
          ms: got.ms,
        };
      },
    ],
    [
      'hand: maxDetections 3 and scoreThreshold 0.5',
      async () => {
        const a = await runCap(device, hand, 3, 0, 17);
        const b = await runCap(device, hand, 100, 0.5, 17);
        const ra = compareRecords(a.records, [rec(3, 0.9, 0), rec(1, 0.9, 1), rec(2, 0.6, 1)]);
        const rb = compareRecords(b.records, [rec(3, 0.9, 0), rec(1, 0.9, 1), rec(2, 0.6, 1)]);
        return { pass: ra.pass && rb.pass, detail: `cap: ${ra.detail}; threshold: ${rb.detail}`, ms: a.ms + b.ms };
      },
    ],
    [
      'nothing kept / threshold above every score → count 0',
      async () => {
        const none = {
          ...hand,
          keep: [
            [false, false, false],
            [false, false],
          ],
        };
        const a = await runCap(device, none, 100, 0, 5);
        const b = await runCap(device, hand, 100, 0.95, 5);
        const ok = a.records.length === 0 && b.records.length === 0 && a.candidateCount === 5;
        return { pass: ok, detail: `${a.records.length} and ${b.records.length} records`, ms: a.ms + b.ms };
      },
    ],
    [
      'no classes with entries (empty lists)',
      async () => {
        const empty: CapInput = { boxes, topIndices: [[], [], []], topScores: [[], [], []], keep: [[], [], []], topK: 200 };
        return vsReference(empty, 100, 0);
      },
    ],
    ['random: 80 classes × ≤ 200, heavy score ties, maxDetections 100', () => vsReference(randomCapInput(19248, 80, 200, 41, 20), 100, 0)],
    ['random: continuous scores, threshold 0.3, maxDetections 100', () => vsReference(randomCapInput(5000, 30, 200, 42, 1 << 20), 100, 0.3)],
    ['random: fewer kept than maxDetections (3 classes × ≤ 20)', () => vsReference(randomCapInput(100, 3, 20, 43, 5), 100, 0)],
    ['random: maxDetections 1', () => vsReference(randomCapInput(1000, 10, 50, 44, 3), 1, 0)],
    [
      'maxDetections 0: header only (count 0, candidateCount kept)',
      async () => {
        const got = await runCap(device, hand, 0, 0, 9);
        return {
          pass: got.records.length === 0 && got.candidateCount === 9,
          detail: `${got.records.length} records, candidateCount ${got.candidateCount}`,
          ms: got.ms,
        };
      },
    ],
    [
      'topK 0 right after a full run: no stale counts from the scratch buffer',
      async () => {
        const full = await vsReference(randomCapInput(1000, 10, 50, 45, 3), 100, 0);
        const zero: CapInput = {
          boxes,
          topIndices: Array.from({ length: 10 }, () => []),
          topScores: Array.from({ length: 10 }, () => []),
          keep: Array.from({ length: 10 }, () => []),
          topK: 0,
        };
        const got = await runCap(device, zero, 100, 0, 3);
        const pass = full.pass && got.records.length === 0 && got.candidateCount === 3;
        return { pass, detail: `full: ${full.detail}; then topK 0: ${got.records.length} records`, ms: full.ms + got.ms };
      },
    ],
  ]);
}
