/**
 * Conformance cases of FCOS's decode (shaders/fcos_decode.wgsl): a hand-computed two-level
 * case, no candidates, one level empty, topN above the candidates, ties at the topN
 * boundary, and random cases (one at the 512 model's geometry, with more candidates than
 * topN on P3) against app/reference/fcosDecode.ts.
 * Random logits are drawn from a few values (quantised), so two different cls·ctr keys are
 * far apart compared to the GPU's exp/sqrt rounding; equal keys are equal on both sides and
 * ordered by pair index. Each random case checks that its keys are that far apart.
 */
import { createFcosDecode, fcosDecodeBytes } from '../../../app/gpu/kernels/fcosDecode';
import { fcosDecodeReference, NOT_RANKED, sigmoidF32, type FcosLevel } from '../../../app/reference/fcosDecode';
import { createStorageBuffer, readBuffer, uploadStorage } from '../../../app/gpu/buffers';
import { rng, runCases, sharedKernel, type CaseResult } from './common';

interface FcosCase {
  levels: FcosLevel[];
  numClasses: number;
  input: { width: number; height: number };
  candidateThreshold: number;
  topN: number;
}

interface FcosOutput {
  boxes: Float32Array;
  conf: Float32Array;
  candidates: number[];
  ms: number;
}

export async function runFcosDecode(device: GPUDevice, c: FcosCase): Promise<FcosOutput> {
  const kernel = sharedKernel(device, 'fcosDecode', createFcosDecode);
  const n = c.levels.reduce((a, l) => a + l.width * l.height, 0);
  const sizes = fcosDecodeBytes(n, c.numClasses);
  const levels = c.levels.map((l, i) => ({
    cls: uploadStorage(device, `test.cls${i}`, l.cls),
    box: uploadStorage(device, `test.box${i}`, l.box),
    ctr: uploadStorage(device, `test.ctr${i}`, l.ctr),
  }));
  const boxes = createStorageBuffer(device, 'test.boxes', sizes.boxes);
  const conf = uploadStorage(device, 'test.conf', new Float32Array(sizes.conf / 4).fill(77));
  const candidates = uploadStorage(device, 'test.candidates', new Uint32Array(sizes.candidates / 4).fill(0xdead));
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'test.fcosDecode' });
  kernel.run(
    encoder,
    { levels, boxes, conf, candidates },
    {
      numClasses: c.numClasses,
      levels: c.levels.map((l) => ({ width: l.width, height: l.height, stride: l.stride })),
      input: c.input,
      candidateThreshold: c.candidateThreshold,
      topN: c.topN,
    },
  );
  device.queue.submit([encoder.finish()]);
  const out = {
    boxes: new Float32Array(await readBuffer(device, boxes, 0, 16 * n)),
    conf: new Float32Array(await readBuffer(device, conf, 0, 4 * n * (c.numClasses + 1))),
    words: new Uint32Array(await readBuffer(device, candidates)),
  };
  const ms = performance.now() - t0;
  for (const b of [boxes, conf, candidates, ...levels.flatMap((l) => [l.cls, l.box, l.ctr])]) b.destroy();
  const count = out.words[0]!;
  const list = Array.from(out.words.subarray(4, 4 + Math.min(count, n))).sort((a, b) => a - b);
  return { boxes: out.boxes, conf: out.conf, candidates: count <= n ? list : [-1], ms };
}

/** GPU vs reference: the same candidate set, the same kept entries, values within `tol`. */
function compare(got: FcosOutput, c: FcosCase): { pass: boolean; detail: string; maxAbsError: number } {
  const ref = fcosDecodeReference(c.levels, c);
  let err = 0;
  let rankMismatch = 0;
  for (let i = 0; i < ref.conf.length; i++) {
    if ((ref.conf[i] === NOT_RANKED) !== (got.conf[i] === NOT_RANKED)) rankMismatch++;
    else err = Math.max(err, Math.abs(ref.conf[i]! - got.conf[i]!));
  }
  let boxErr = 0;
  for (let i = 0; i < ref.boxes.length; i++) boxErr = Math.max(boxErr, Math.abs(ref.boxes[i]! - got.boxes[i]!));
  const sameCandidates = ref.candidates.length === got.candidates.length && ref.candidates.every((g, i) => g === got.candidates[i]);
  const pass = sameCandidates && rankMismatch === 0 && err <= 1e-6 && boxErr <= 1e-7;
  return {
    pass,
    maxAbsError: Math.max(err, boxErr),
    detail:
      `${ref.candidates.length} locations listed (GPU ${got.candidates.length}${sameCandidates ? ', same' : ', DIFFERENT'}), kept a level ${ref.kept.join(',')}; ` +
      `${rankMismatch} kept/not-kept mismatches; conf err ${err.toExponential(1)}, box err ${boxErr.toExponential(1)}`,
  };
}

/** Levels of an input side for strides 8..128 (ceil halving as the backbone's). */
function geometry(side: number, strides = [8, 16, 32, 64, 128]): Array<{ width: number; height: number; stride: number }> {
  return strides.map((s) => ({ width: Math.ceil(side / s), height: Math.ceil(side / s), stride: s }));
}

const CLS_LOGITS = [-9, -6, -4, -2.5, -1.5, -0.5, 0.5, 1.5, 3];
const CTR_LOGITS = [-3, -1, 0, 1, 2];

/** Quantised random outputs: cls mostly low (`sparsity` of the draws at −9), ctr and ltrb anywhere. */
function randomLevels(seed: number, numClasses: number, geo: ReturnType<typeof geometry>, sparsity: number): FcosLevel[] {
  const r = rng(seed);
  const pick = (values: number[]) => values[Math.floor(r() * values.length)]!;
  return geo.map(({ width, height, stride }) => {
    const hw = width * height;
    return {
      width,
      height,
      stride,
      cls: Float32Array.from({ length: numClasses * hw }, () => (r() < sparsity ? -9 : pick(CLS_LOGITS))),
      box: Float32Array.from({ length: 4 * hw }, () => r() * stride * 6),
      ctr: Float32Array.from({ length: hw }, () => pick(CTR_LOGITS)),
    };
  });
}

/** The smallest relative gap between two different possible keys (the case's margin). */
function keyMargin(): number {
  const keys = [...new Set(CLS_LOGITS.flatMap((a) => CTR_LOGITS.map((b) => Math.fround(sigmoidF32(a) * sigmoidF32(b)))))].sort((a, b) => a - b);
  let gap = Infinity;
  for (let i = 1; i < keys.length; i++) gap = Math.min(gap, (keys[i]! - keys[i - 1]!) / keys[i]!);
  return gap;
}

async function randomCase(device: GPUDevice, c: FcosCase) {
  const margin = keyMargin();
  const got = await runFcosDecode(device, c);
  const cmp = compare(got, c);
  return { ...cmp, pass: cmp.pass && margin > 1e-4, detail: `${cmp.detail}; key margin ${margin.toExponential(1)}`, ms: got.ms };
}

const sig = (x: number) => 1 / (1 + Math.exp(-x));

export async function fcosDecodeConformance(device: GPUDevice): Promise<CaseResult[]> {
  return runCases('fcosDecode', device, [
    [
      'hand: 16² input, P3 2x2 + P4 1x1, K 2, topN 2: the two best of four candidates on P3, both on P4',
      async () => {
        // P3 (stride 8) points (4,4) (12,4) (4,12) (12,12), ctr 0 → 0.5. Candidates (σ > 0.05):
        // (p0,c0) σ(2)·.5 = .4404, (p2,c0) σ(0)·.5 = .25, (p3,c0) σ(1)·.5 = .3655, (p1,c1) σ(3)·.5 = .4763
        // → kept: (p1,c1), (p0,c0). P4 (stride 16) point (8,8), ctr σ(2): c0 σ(−1)·σ(2), c1 σ(4)·σ(2) both kept.
        const c: FcosCase = {
          numClasses: 2,
          input: { width: 16, height: 16 },
          candidateThreshold: 0.05,
          topN: 2,
          levels: [
            {
              width: 2,
              height: 2,
              stride: 8,
              cls: new Float32Array([2, -5, 0, 1, -5, 3, -5, -5]),
              ctr: new Float32Array([0, 0, 0, 0]),
              box: new Float32Array([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0]),
            },
            { width: 1, height: 1, stride: 16, cls: new Float32Array([-1, 4]), ctr: new Float32Array([2]), box: new Float32Array([8, 8, 8, 8]) },
          ],
        };
        const got = await runFcosDecode(device, c);
        const want = new Float32Array(5 * 3).fill(NOT_RANKED);
        want[0 * 3 + 1] = Math.sqrt(sig(2) * 0.5);
        want[1 * 3 + 2] = Math.sqrt(sig(3) * 0.5);
        want[4 * 3 + 1] = Math.sqrt(sig(-1) * sig(2));
        want[4 * 3 + 2] = Math.sqrt(sig(4) * sig(2));
        // Boxes: p0 (4,4) ltrb (1,2,3,4) → (3, 2, 7, 8)/16; P4 (8,8) ± 8 → the whole input.
        // (The random cases' distances reach past the border: clipped to the input.)
        const wantBoxes = [3 / 16, 2 / 16, 7 / 16, 8 / 16];
        let err = 0;
        want.forEach((v, i) => (err = Math.max(err, Math.abs(v - got.conf[i]!))));
        wantBoxes.forEach((v, i) => (err = Math.max(err, Math.abs(v - got.boxes[i]!))));
        [0, 0, 1, 1].forEach((v, i) => (err = Math.max(err, Math.abs(v - got.boxes[16 + i]!))));
        const cmp = compare(got, c);
        const pass = err <= 1e-6 && got.candidates.join(',') === '0,1,4' && cmp.pass;
        return {
          pass,
          maxAbsError: err,
          detail: `conf ${Array.from(got.conf)
            .map((v) => v.toFixed(4))
            .join(' ')}; candidates ${got.candidates.join(',')}; reference: ${cmp.detail}`,
          ms: got.ms,
        };
      },
    ],
    [
      'no candidates (every sigmoid(cls) ≤ 0.05): nothing listed, conf all NOT_RANKED',
      async () => {
        const levels = randomLevels(3, 4, geometry(64), 1);
        const c: FcosCase = { levels, numClasses: 4, input: { width: 64, height: 64 }, candidateThreshold: 0.05, topN: 1000 };
        const got = await runFcosDecode(device, c);
        const cmp = compare(got, c);
        return { ...cmp, pass: cmp.pass && got.candidates.length === 0 && got.conf.every((v) => v === NOT_RANKED), ms: got.ms };
      },
    ],
    [
      'one level empty (P3 has no candidates), the others decoded',
      async () => {
        const levels = randomLevels(4, 3, geometry(64), 0.6);
        levels[0]!.cls.fill(-9);
        const c: FcosCase = { levels, numClasses: 3, input: { width: 64, height: 64 }, candidateThreshold: 0.05, topN: 1000 };
        const got = await runFcosDecode(device, c);
        const cmp = compare(got, c);
        const p3 = 8 * 8;
        return { ...cmp, pass: cmp.pass && got.candidates.length > 0 && got.candidates.every((g) => g >= p3), ms: got.ms };
      },
    ],
    [
      'topN above the candidates (k > N): every candidate kept',
      async () => {
        const levels = randomLevels(5, 2, geometry(32), 0.5);
        const c: FcosCase = { levels, numClasses: 2, input: { width: 32, height: 32 }, candidateThreshold: 0.05, topN: 1000 };
        const got = await runFcosDecode(device, c);
        const cmp = compare(got, c);
        const candidatesPerLevel = levels.map((l) => Array.from(l.cls).filter((v) => sigmoidF32(v) > Math.fround(0.05)).length);
        const ref = fcosDecodeReference(levels, c);
        return {
          ...cmp,
          pass: cmp.pass && ref.kept.every((k, i) => k === candidatesPerLevel[i]),
          detail: `${cmp.detail}; candidates a level ${candidatesPerLevel.join(',')}`,
          ms: got.ms,
        };
      },
    ],
    [
      'ties at the topN boundary: equal keys kept in pair order (lower location first)',
      async () => {
        // One level 4x1, K 1, every key σ(1)·σ(0): topN 2 keeps locations 0 and 1.
        const c: FcosCase = {
          numClasses: 1,
          input: { width: 32, height: 8 },
          candidateThreshold: 0.05,
          topN: 2,
          levels: [{ width: 4, height: 1, stride: 8, cls: new Float32Array([1, 1, 1, 1]), ctr: new Float32Array(4), box: new Float32Array(16).fill(2) }],
        };
        const got = await runFcosDecode(device, c);
        const cmp = compare(got, c);
        return { ...cmp, pass: cmp.pass && got.candidates.join(',') === '0,1', detail: `${cmp.detail}; listed ${got.candidates.join(',')}`, ms: got.ms };
      },
    ],
    [
      'random: 128² input, 5 levels, K 6, topN 50 (selection on every level with many candidates)',
      () =>
        randomCase(device, {
          levels: randomLevels(6, 6, geometry(128), 0.3),
          numClasses: 6,
          input: { width: 128, height: 128 },
          candidateThreshold: 0.05,
          topN: 50,
        }),
    ],
    [
      "random: the 512 model's geometry (P3 64² … P7 4²), K 10, topN 1000, > 1000 candidates on P3 and P4",
      () =>
        randomCase(device, {
          levels: randomLevels(7, 10, geometry(512), 0.8),
          numClasses: 10,
          input: { width: 512, height: 512 },
          candidateThreshold: 0.05,
          topN: 1000,
        }),
    ],
    [
      'random: non-square 640x384 input, K 3, topN 200',
      () => {
        const geo = [8, 16, 32, 64, 128].map((s) => ({ width: Math.ceil(640 / s), height: Math.ceil(384 / s), stride: s }));
        return randomCase(device, {
          levels: randomLevels(8, 3, geo, 0.7),
          numClasses: 3,
          input: { width: 640, height: 384 },
          candidateThreshold: 0.05,
          topN: 200,
        });
      },
    ],
  ]);
}
