/**
 * classTopK with a score threshold (`minScore`, the display threshold) and the class list it
 * writes for NMS (`classLists`): hand-written small cases against classTopKReference and
 * against the expected lists written out; NMS dispatched from the class list against the
 * references; and, on the CPU, that ranking only entries ≥ the threshold leaves the records
 * of NMS + cap unchanged (why the kernel may skip the others).
 */
import { describe, expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { activeClassesWord, classListsBytes, createClassListsBuffer, createClassTopK, topKBytes } from '../../app/gpu/kernels/classTopK';
import { createFastNms, keepBytes } from '../../app/gpu/kernels/fastNms';
import { createGreedyNms } from '../../app/gpu/kernels/greedyNms';
import { candidatesBytes, CANDIDATES_HEADER_WORDS } from '../../app/gpu/kernels/yolactDecode';
import { createStorageBuffer, readF32, readU32, uploadStorage } from '../../app/gpu/buffers';
import { classTopKReference, type ClassTopK } from '../../app/reference/classTopK';
import { fastNmsReference } from '../../app/reference/fastNms';
import { greedyNmsReference } from '../../app/reference/greedyNms';
import { detectionCapReference } from '../../app/reference/detectionCap';
import { seededRandom } from '../../app/util/random';

interface TopKRun extends ClassTopK {
  /** The classes listed as having entries (sorted), and the dispatch's (x, y, z). */
  listed: number[];
  dispatch: number[];
}

async function runTopK(device: GPUDevice, conf: Float32Array, numClasses: number, candidates: number[], topK: number, minScore?: number): Promise<TopKRun> {
  const n = conf.length / (numClasses + 1);
  const words = new Uint32Array(candidatesBytes(n) / 4);
  words[0] = candidates.length;
  words.set(candidates, CANDIDATES_HEADER_WORDS);
  const sizes = topKBytes(numClasses, topK);
  const bufs = {
    conf: uploadStorage(device, 'test.conf', conf),
    candidates: uploadStorage(device, 'test.candidates', words),
    topIndices: createStorageBuffer(device, 'test.topIndices', sizes.rows),
    topScores: createStorageBuffer(device, 'test.topScores', sizes.rows),
    // Stale counts from an earlier frame must not survive: the kernel clears them.
    topCounts: uploadStorage(device, 'test.topCounts', new Uint32Array(numClasses).fill(7)),
    classLists: createClassListsBuffer(device, 'test.classLists', numClasses),
  };
  const kernel = createClassTopK(device);
  const encoder = device.createCommandEncoder({ label: 'classTopKThreshold.test' });
  kernel.run(encoder, bufs, { numPriors: n, numClasses, topK, minScore });
  device.queue.submit([encoder.finish()]);
  const counts = await readU32(device, bufs.topCounts, numClasses);
  const idx = await readU32(device, bufs.topIndices);
  const scr = await readF32(device, bufs.topScores);
  const lists = await readU32(device, bufs.classLists, classListsBytes(numClasses) / 4);
  kernel.destroy();
  Object.values(bufs).forEach((b) => b.destroy());
  const at = activeClassesWord(numClasses);
  return {
    indices: Array.from({ length: numClasses }, (_, c) => Array.from(idx.subarray(c * topK, c * topK + counts[c]!))),
    scores: Array.from({ length: numClasses }, (_, c) => Array.from(scr.subarray(c * topK, c * topK + counts[c]!))),
    listed: Array.from(lists.subarray(at, at + lists[0]!)).sort((a, b) => a - b),
    dispatch: Array.from(lists.subarray(0, 3)),
  };
}

/** conf [N, C + 1] from per-prior class scores (background 0). */
function confOf(rows: number[][]): Float32Array {
  return Float32Array.from(rows.flatMap((r) => [0, ...r]));
}

function expectSameTopK(got: ClassTopK, want: ClassTopK): void {
  expect(got.indices).toEqual(want.indices);
  expect(got.scores).toEqual(want.scores);
}

describe('classTopK with a score threshold', () => {
  // 6 priors, 3 classes; class 2 never reaches 0.3.
  const conf = confOf([
    [0.9, 0.1, 0.05],
    [0.2, 0.8, 0.1],
    [0.5, 0.3, 0.2],
    [0.5, 0.05, 0.1],
    [0.1, 0.7, 0.29],
    [0.31, 0.3, 0.0],
  ]);

  it('ranks only scores ≥ minScore; a class with none gets count 0 and is not listed', async () => {
    const got = await withDevice((d) => runTopK(d, conf, 3, [0, 1, 2, 3, 4, 5], 200, 0.3));
    // Written out by hand: score desc, ties (0.5, 0.5) by lower prior.
    expect(got.indices).toEqual([[0, 2, 3, 5], [1, 4, 2, 5], []]);
    expect(got.scores).toEqual([[0.9, 0.5, 0.5, 0.31].map(Math.fround), [0.8, 0.7, 0.3, 0.3].map(Math.fround), []]);
    expect(got.listed).toEqual([0, 1]);
    expect(got.dispatch).toEqual([2, 1, 1]);
    expectSameTopK(got, classTopKReference(conf, 3, [0, 1, 2, 3, 4, 5], 200, 0.3));
  });

  it('0 candidates: every count 0, no class listed, nothing dispatched', async () => {
    const got = await withDevice((d) => runTopK(d, conf, 3, [], 200, 0.3));
    expect(got.indices).toEqual([[], [], []]);
    expect(got.listed).toEqual([]);
    expect(got.dispatch).toEqual([0, 1, 1]);
  });

  it('1 candidate: listed in the classes it passes', async () => {
    const got = await withDevice((d) => runTopK(d, conf, 3, [4], 200, 0.25));
    expect(got.indices).toEqual([[], [4], [4]]);
    expect(got.listed).toEqual([1, 2]);
    expectSameTopK(got, classTopKReference(conf, 3, [4], 200, 0.25));
  });

  it('all entries above the threshold: the same lists as without one', async () => {
    const got = await withDevice((d) => runTopK(d, conf, 3, [0, 1, 2, 3, 4, 5], 200, -1));
    expectSameTopK(got, classTopKReference(conf, 3, [0, 1, 2, 3, 4, 5], 200));
    expect(got.indices.map((l) => l.length)).toEqual([6, 6, 6]);
    expect(got.listed).toEqual([0, 1, 2]);
  });

  it('k larger than N, and k smaller than the entries above the threshold', async () => {
    const big = await withDevice((d) => runTopK(d, conf, 3, [5, 3, 1], 512, 0.1));
    expectSameTopK(big, classTopKReference(conf, 3, [5, 3, 1], 512, 0.1));
    expect(big.indices).toEqual([
      [3, 5, 1],
      [1, 5],
      [1, 3],
    ]);
    const small = await withDevice((d) => runTopK(d, conf, 3, [0, 1, 2, 3, 4, 5], 2, 0.3));
    expect(small.indices).toEqual([[0, 2], [1, 4], []]);
  });

  it('NaN scores are never ranked (in the kernel and the reference)', async () => {
    const withNan = confOf([
      [NaN, 0.5],
      [0.4, NaN],
    ]);
    const got = await withDevice((d) => runTopK(d, withNan, 2, [0, 1], 200));
    expect(got.indices).toEqual([[1], [0]]);
    expectSameTopK(got, classTopKReference(withNan, 2, [0, 1], 200));
  });

  it('random 3000 priors, 40 classes, 30% candidates, thresholds 0.05 / 0.5 / 0.99: same as the reference', async () => {
    const rand = seededRandom(15);
    const n = 3000;
    const c = 40;
    const rows = Array.from({ length: n }, () => Array.from({ length: c }, () => (rand() < 0.9 ? rand() * 0.1 : rand())));
    const conf2 = confOf(rows);
    const candidates = Array.from({ length: n }, (_, i) => i).filter(() => rand() < 0.3);
    for (const thr of [0.05, 0.5, 0.99]) {
      const got = await withDevice((d) => runTopK(d, conf2, c, candidates, 200, thr));
      const want = classTopKReference(conf2, c, candidates, 200, thr);
      expectSameTopK(got, want);
      expect(got.listed).toEqual(want.indices.flatMap((l, k) => (l.length > 0 ? [k] : [])));
    }
  });
});

describe('NMS over the listed classes only', () => {
  it('fast and greedy: keep flags of the listed classes as the references; other rows untouched', async () => {
    const rand = seededRandom(3);
    const n = 400;
    const c = 12;
    const boxes = new Float32Array(4 * n);
    for (let i = 0; i < n; i++) {
      const x = rand() * 0.8,
        y = rand() * 0.8,
        w = 0.05 + rand() * 0.15,
        h = 0.05 + rand() * 0.15;
      boxes.set([x, y, x + w, y + h], 4 * i);
    }
    // Only classes 2, 5 and 9 score above 0.5 anywhere.
    const rows = Array.from({ length: n }, () => Array.from({ length: c }, (_, k) => ([2, 5, 9].includes(k) ? rand() : rand() * 0.4)));
    const conf = confOf(rows);
    const candidates = Array.from({ length: n }, (_, i) => i);
    const topK = 100;
    for (const [kind, create, reference] of [
      ['fast', createFastNms, fastNmsReference],
      ['greedy', createGreedyNms, greedyNmsReference],
    ] as const) {
      const result = await withDevice(async (device) => {
        const words = new Uint32Array(candidatesBytes(n) / 4);
        words[0] = n;
        words.set(candidates, CANDIDATES_HEADER_WORDS);
        const sizes = topKBytes(c, topK);
        const bufs = {
          conf: uploadStorage(device, 'test.conf', conf),
          candidates: uploadStorage(device, 'test.candidates', words),
          boxes: uploadStorage(device, 'test.boxes', boxes),
          topIndices: createStorageBuffer(device, 'test.topIndices', sizes.rows),
          topScores: createStorageBuffer(device, 'test.topScores', sizes.rows),
          topCounts: createStorageBuffer(device, 'test.topCounts', sizes.counts),
          // 2 = "not written": the unlisted classes' rows must keep it.
          keep: uploadStorage(device, 'test.keep', new Uint32Array(keepBytes(c, topK) / 4).fill(2)),
          classLists: createClassListsBuffer(device, 'test.classLists', c),
        };
        const topKKernel = createClassTopK(device);
        const nms = create(device);
        const encoder = device.createCommandEncoder({ label: `nmsListed.${kind}.test` });
        topKKernel.run(encoder, bufs, { numPriors: n, numClasses: c, topK, minScore: 0.5 });
        nms.run(
          encoder,
          { boxes: bufs.boxes, topIndices: bufs.topIndices, topCounts: bufs.topCounts, keep: bufs.keep, classLists: bufs.classLists },
          { numClasses: c, topK, nmsIou: 0.3 },
        );
        device.queue.submit([encoder.finish()]);
        const keep = await readU32(device, bufs.keep);
        topKKernel.destroy();
        nms.destroy();
        Object.values(bufs).forEach((b) => b.destroy());
        return keep;
      });
      const top = classTopKReference(conf, c, candidates, topK, 0.5);
      const want = reference(boxes, top.indices, 0.3);
      for (let k = 0; k < c; k++) {
        const row = Array.from(result.subarray(k * topK, k * topK + top.indices[k]!.length)).map((v) => v === 1);
        expect(row, `${kind} class ${k}`).toEqual(want[k]);
        if (top.indices[k]!.length === 0) expect(result[k * topK], `${kind} class ${k} untouched`).toBe(2);
      }
      expect(top.indices.map((l) => l.length > 0)).toEqual(Array.from({ length: c }, (_, k) => [2, 5, 9].includes(k)));
    }
  });
});

describe('why the threshold is exact (references only)', () => {
  it('top-k of the entries ≥ the display threshold → NMS → cap gives the records of the full top-k', () => {
    const rand = seededRandom(11);
    for (let trial = 0; trial < 20; trial++) {
      const n = 300;
      const c = 6;
      const boxes = new Float32Array(4 * n);
      for (let i = 0; i < n; i++) {
        const x = rand() * 0.7,
          y = rand() * 0.7,
          s = 0.1 + rand() * 0.2;
        boxes.set([x, y, x + s, y + s * (0.5 + rand())], 4 * i);
      }
      const conf = confOf(Array.from({ length: n }, () => Array.from({ length: c }, () => rand())));
      const candidates = Array.from({ length: n }, (_, i) => i).filter(() => rand() < 0.6);
      const thr = Math.fround(rand());
      const topK = 1 + Math.floor(rand() * 120);
      for (const nms of [fastNmsReference, greedyNmsReference]) {
        const full = classTopKReference(conf, c, candidates, topK);
        const cut = classTopKReference(conf, c, candidates, topK, thr);
        const records = (t: ClassTopK) => detectionCapReference(boxes, t.indices, t.scores, nms(boxes, t.indices, 0.5), 50, thr);
        expect(records(cut)).toEqual(records(full));
      }
    }
  });
});
