/** Conformance cases of the YOLACT decode kernel (shaders/yolact_decode.wgsl). */
import { createYolactDecode, boxesBytes, candidatesBytes, CANDIDATES_HEADER_WORDS } from '../../../app/gpu/kernels/yolactDecode';
import { yolactDecodeReference } from '../../../app/reference/yolactDecode';
import { createStorageBuffer, readF32, readU32, uploadStorage } from '../../../app/gpu/buffers';
import { firstMismatch, maxAbsDiff, runCases, sharedKernel, type CaseResult } from './common';
import { randomHeads, randomPriors, yolactPriors } from './yolactData';

/**
 * Box tolerance: WGSL's exp may be off by 3 + 2|x| ulps and the GPU may fuse multiply-adds;
 * boxes are O(1), so a few 1e-6 absolute (relative for larger values).
 */
const BOX_TOL = 4e-6;

export interface DecodeRun {
  boxes: Float32Array;
  /** Candidate prior indices, sorted ascending (the kernel's order is unspecified). */
  candidates: number[];
  ms: number;
}

export async function runDecode(
  device: GPUDevice,
  loc: Float32Array,
  conf: Float32Array,
  priors: Float32Array,
  numClasses: number,
  confThreshold: number,
): Promise<DecodeRun> {
  const n = priors.length / 4;
  const bufs = {
    loc: uploadStorage(device, 'test.loc', loc),
    conf: uploadStorage(device, 'test.conf', conf),
    priors: uploadStorage(device, 'test.priors', priors),
    boxes: createStorageBuffer(device, 'test.boxes', boxesBytes(n)),
    candidates: createStorageBuffer(device, 'test.candidates', candidatesBytes(n)),
  };
  // Stale contents must not leak into the result: fill the candidate header with junk.
  device.queue.writeBuffer(bufs.candidates, 0, new Uint32Array([12345, 7, 7, 7]));
  const kernel = sharedKernel(device, 'yolactDecode', createYolactDecode);
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'yolactDecode.test' });
  kernel.run(encoder, bufs, { numPriors: n, numClasses, confThreshold });
  device.queue.submit([encoder.finish()]);
  const boxes = await readF32(device, bufs.boxes, 4 * n);
  const words = await readU32(device, bufs.candidates);
  const ms = performance.now() - t0;
  const count = words[0]!;
  const candidates = Array.from(words.subarray(CANDIDATES_HEADER_WORDS, CANDIDATES_HEADER_WORDS + count)).sort((a, b) => a - b);
  Object.values(bufs).forEach((b) => b.destroy());
  return { boxes, candidates, ms };
}

function check(run: DecodeRun, wantBoxes: ArrayLike<number>, wantCandidates: number[]): Omit<CaseResult, 'kernel' | 'name'> {
  const maxAbsError = maxAbsDiff(run.boxes, wantBoxes);
  let badBox = -1;
  for (let i = 0; i < wantBoxes.length; i++) {
    if (!(Math.abs(run.boxes[i]! - wantBoxes[i]!) <= BOX_TOL * Math.max(1, Math.abs(wantBoxes[i]!)))) {
      badBox = i;
      break;
    }
  }
  const badCand = firstMismatch(run.candidates, wantCandidates);
  const pass = badBox < 0 && badCand < 0;
  const detail = [
    `${wantBoxes.length / 4} priors, ${wantCandidates.length} candidates`,
    badBox >= 0 ? `box value ${badBox}: got ${run.boxes[badBox]}, want ${wantBoxes[badBox]}` : '',
    badCand >= 0
      ? `candidates differ at ${badCand}: got ${run.candidates.length} [${run.candidates.slice(badCand, badCand + 3)}…], want ${wantCandidates.length} [${wantCandidates.slice(badCand, badCand + 3)}…]`
      : '',
  ]
    .filter(Boolean)
    .join('; ');
  return { pass, detail, maxAbsError, ms: run.ms };
}

export async function yolactDecodeConformance(device: GPUDevice): Promise<CaseResult[]> {
  return runCases('yolactDecode', device, [
    [
      'hand: two priors, strict > 0.05 candidate test',
      async () => {
        // prior 0 (0.5, 0.5, 0.2, 0.4), loc (1, −1, 0, 0): cx = 0.5 + 0.1·0.2 = 0.52,
        //   cy = 0.5 − 0.1·0.4 = 0.46, w = 0.2, h = 0.4 → (0.42, 0.26, 0.62, 0.66).
        // prior 1 (0.1, 0.9, 0.5, 0.5), loc (0, 0, 5 ln 2, −5 ln 2): w = 1, h = 0.25
        //   → (−0.4, 0.775, 0.6, 1.025): outside the image, not clipped.
        const priors = new Float32Array([0.5, 0.5, 0.2, 0.4, 0.1, 0.9, 0.5, 0.5]);
        const loc = new Float32Array([1, -1, 0, 0, 0, 0, 5 * Math.LN2, -5 * Math.LN2]);
        // max foreground 0.06 > 0.05 → candidate; 0.05 is not > 0.05 → not.
        const conf = new Float32Array([0.9, 0.06, 0.04, 0.9, 0.05, 0.05]);
        const run = await runDecode(device, loc, conf, priors, 2, 0.05);
        return check(run, [0.42, 0.26, 0.62, 0.66, -0.4, 0.775, 0.6, 1.025], [0]);
      },
    ],
    [
      'no candidates (all background)',
      async () => {
        const priors = randomPriors(300, 4);
        const { loc, conf } = randomHeads(priors, 5, 0, 5);
        const run = await runDecode(device, loc, conf, priors, 5, 0.05);
        const ref = yolactDecodeReference(loc, conf, priors, 5, 0.05);
        return check(run, ref.boxes, ref.candidates);
      },
    ],
    [
      'random 1000 priors, 10 classes, ~40% candidates',
      async () => {
        const priors = randomPriors(1000, 6);
        const { loc, conf } = randomHeads(priors, 10, 0.4, 7);
        const run = await runDecode(device, loc, conf, priors, 10, 0.05);
        const ref = yolactDecodeReference(loc, conf, priors, 10, 0.05);
        return check(run, ref.boxes, ref.candidates);
      },
    ],
    [
      'one prior, one class, threshold 0 (every prior is a candidate)',
      async () => {
        const priors = new Float32Array([0.5, 0.5, 1, 1]);
        const loc = new Float32Array([0, 0, 0, 0]);
        const conf = new Float32Array([0.7, 0.3]);
        const run = await runDecode(device, loc, conf, priors, 1, 0);
        return check(run, [0, 0, 1, 1], [0]);
      },
    ],
    [
      'YOLACT-550: 19248 priors, 80 classes, ~60% candidates',
      async () => {
        const priors = yolactPriors();
        const { loc, conf } = randomHeads(priors, 80, 0.6, 8);
        const run = await runDecode(device, loc, conf, priors, 80, 0.05);
        const ref = yolactDecodeReference(loc, conf, priors, 80, 0.05);
        return check(run, ref.boxes, ref.candidates);
      },
    ],
  ]);
}
