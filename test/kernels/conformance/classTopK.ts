/** Conformance cases of the per-class top-k kernel (shaders/class_topk.wgsl). */
import { createClassTopK, topKBytes } from '../../../app/gpu/kernels/classTopK';
import { candidatesBytes, CANDIDATES_HEADER_WORDS } from '../../../app/gpu/kernels/yolactDecode';
import { classTopKReference, type ClassTopK } from '../../../app/reference/classTopK';
import { createStorageBuffer, readF32, readU32, uploadStorage } from '../../../app/gpu/buffers';
import { rng, runCases, sharedKernel, type CaseResult } from './common';
import { randomHeads, randomPriors, shuffled, yolactPriors } from './yolactData';
import { yolactDecodeReference } from '../../../app/reference/yolactDecode';

/** Candidate buffer contents: count, 3 pad words, then the indices (in the given order). */
export function candidateWords(candidates: readonly number[], numPriors: number): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(candidatesBytes(numPriors) / 4);
  words[0] = candidates.length;
  words.set(candidates, CANDIDATES_HEADER_WORDS);
  return words;
}

export async function runTopK(
  device: GPUDevice,
  conf: Float32Array,
  numClasses: number,
  candidates: readonly number[],
  topK: number,
): Promise<ClassTopK & { ms: number }> {
  const n = conf.length / (numClasses + 1);
  const sizes = topKBytes(numClasses, topK);
  const bufs = {
    conf: uploadStorage(device, 'test.conf', conf),
    candidates: uploadStorage(device, 'test.candidates', candidateWords(candidates, n)),
    topIndices: createStorageBuffer(device, 'test.topIndices', sizes.rows),
    topScores: createStorageBuffer(device, 'test.topScores', sizes.rows),
    topCounts: createStorageBuffer(device, 'test.topCounts', sizes.counts),
  };
  const kernel = sharedKernel(device, 'classTopK', createClassTopK);
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'classTopK.test' });
  kernel.run(encoder, bufs, { numPriors: n, numClasses, topK });
  device.queue.submit([encoder.finish()]);
  const counts = await readU32(device, bufs.topCounts, numClasses);
  const idx = await readU32(device, bufs.topIndices);
  const scr = await readF32(device, bufs.topScores);
  const ms = performance.now() - t0;
  Object.values(bufs).forEach((b) => b.destroy());
  const indices: number[][] = [];
  const scores: number[][] = [];
  for (let c = 0; c < numClasses; c++) {
    indices.push(Array.from(idx.subarray(c * topK, c * topK + counts[c]!)));
    scores.push(Array.from(scr.subarray(c * topK, c * topK + counts[c]!)));
  }
  return { indices, scores, ms };
}

/** Indices and scores must match exactly (the kernel copies scores, it computes nothing). */
export function compareTopK(got: ClassTopK, want: ClassTopK): { pass: boolean; detail: string } {
  for (let c = 0; c < want.indices.length; c++) {
    const g = got.indices[c]!;
    const w = want.indices[c]!;
    if (g.length !== w.length) return { pass: false, detail: `class ${c}: ${g.length} entries, want ${w.length}` };
    for (let i = 0; i < w.length; i++) {
      if (g[i] !== w[i] || got.scores[c]![i] !== want.scores[c]![i]) {
        return {
          pass: false,
          detail: `class ${c} rank ${i}: got prior ${g[i]} (${got.scores[c]![i]}), want ${w[i]} (${want.scores[c]![i]})`,
        };
      }
    }
  }
  const total = want.indices.reduce((s, r) => s + r.length, 0);
  return { pass: true, detail: `${want.indices.length} classes, ${total} entries` };
}

/** conf [N, C + 1] with scores drawn from `levels` values (many ties) or uniform. */
function randomConf(n: number, numClasses: number, seed: number, levels = 0): Float32Array {
  const r = rng(seed);
  const conf = new Float32Array(n * (numClasses + 1));
  for (let i = 0; i < conf.length; i++) conf[i] = levels > 0 ? Math.floor(r() * levels) / levels : r();
  return conf;
}

export async function classTopKConformance(device: GPUDevice): Promise<CaseResult[]> {
  const randomCase = async (n: number, numClasses: number, share: number, topK: number, seed: number, levels = 0) => {
    const conf = randomConf(n, numClasses, seed, levels);
    const r = rng(seed + 1);
    const cands = shuffled(
      [...Array(n).keys()].filter(() => r() < share),
      seed + 2,
    );
    const got = await runTopK(device, conf, numClasses, cands, topK);
    return { ...compareTopK(got, classTopKReference(conf, numClasses, cands, topK)), ms: got.ms };
  };
  return runCases('classTopK', device, [
    [
      'hand: 6 priors, 2 classes, k = 4, ties by lower prior index',
      async () => {
        // class 0 scores by prior: 0.1 0.9 0.5 0.5 0.3 0.9 → 0.9 (p1), 0.9 (p5), 0.5 (p2), 0.5 (p3)
        // class 1: all 0.2 → priors 0, 1, 2, 3
        const s0 = [0.1, 0.9, 0.5, 0.5, 0.3, 0.9];
        const conf = new Float32Array(6 * 3);
        s0.forEach((s, p) => conf.set([0, s, 0.2], 3 * p));
        const got = await runTopK(device, conf, 2, [5, 3, 0, 4, 1, 2], 4);
        const f = Math.fround;
        const want = {
          indices: [
            [1, 5, 2, 3],
            [0, 1, 2, 3],
          ],
          scores: [
            [f(0.9), f(0.9), 0.5, 0.5],
            [f(0.2), f(0.2), f(0.2), f(0.2)],
          ],
        };
        return { ...compareTopK(got, want), ms: got.ms };
      },
    ],
    [
      'fewer candidates than k (3 of 50, k = 200)',
      async () => {
        const conf = randomConf(50, 4, 11);
        const got = await runTopK(device, conf, 4, [40, 7, 23], 200);
        return { ...compareTopK(got, classTopKReference(conf, 4, [40, 7, 23], 200)), ms: got.ms };
      },
    ],
    [
      'no candidates',
      async () => {
        const conf = randomConf(50, 4, 12);
        const got = await runTopK(device, conf, 4, [], 200);
        return { ...compareTopK(got, { indices: [[], [], [], []], scores: [[], [], [], []] }), ms: got.ms };
      },
    ],
    [
      'one candidate, k = 1',
      async () => {
        const conf = randomConf(10, 3, 13);
        const got = await runTopK(device, conf, 3, [9], 1);
        return { ...compareTopK(got, classTopKReference(conf, 3, [9], 1)), ms: got.ms };
      },
    ],
    ['random 2000 priors, 20 classes, 50% candidates, k = 200', () => randomCase(2000, 20, 0.5, 200, 14)],
    ['random with heavy ties (8 score levels), k = 200', () => randomCase(3000, 10, 0.7, 200, 15, 8)],
    [
      'k = 1 and k = 512 (the maximum)',
      async () => {
        const a = await randomCase(5000, 5, 0.9, 1, 16);
        const b = await randomCase(5000, 5, 0.9, 512, 17);
        return { pass: a.pass && b.pass, detail: `k=1: ${a.detail}; k=512: ${b.detail}`, ms: a.ms + b.ms };
      },
    ],
    [
      'all scores identical, 19248 candidates, k = 200 (every radix digit ties)',
      async () => {
        const n = 19248;
        const conf = new Float32Array(n * 3).fill(0.25);
        const cands = shuffled([...Array(n).keys()], 18);
        const got = await runTopK(device, conf, 2, cands, 200);
        return { ...compareTopK(got, classTopKReference(conf, 2, cands, 200)), ms: got.ms };
      },
    ],
    [
      '70000 priors (17 index bits: three index digits), identical scores, k = 300',
      async () => {
        const n = 70000;
        const conf = new Float32Array(n * 2).fill(0.5);
        const cands = shuffled([...Array(n).keys()], 24);
        const got = await runTopK(device, conf, 1, cands, 300);
        return { ...compareTopK(got, classTopKReference(conf, 1, cands, 300)), ms: got.ms };
      },
    ],
    [
      'YOLACT-550: 19248 priors, 80 classes, every prior a candidate, k = 200',
      async () => {
        const priors = yolactPriors();
        const { conf } = randomHeads(priors, 80, 1, 19);
        const cands = shuffled([...Array(priors.length / 4).keys()], 20);
        const got = await runTopK(device, conf, 80, cands, 200);
        return { ...compareTopK(got, classTopKReference(conf, 80, cands, 200)), ms: got.ms };
      },
    ],
    [
      'decode candidates of random 550 heads (~50%), 80 classes, k = 200',
      async () => {
        const priors = randomPriors(19248, 21);
        const { loc, conf } = randomHeads(priors, 80, 0.5, 22);
        const { candidates } = yolactDecodeReference(loc, conf, priors, 80, 0.05);
        const got = await runTopK(device, conf, 80, shuffled(candidates, 23), 200);
        return { ...compareTopK(got, classTopKReference(conf, 80, candidates, 200)), ms: got.ms };
      },
    ],
  ]);
}
