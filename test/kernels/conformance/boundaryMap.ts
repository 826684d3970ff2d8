/**
 * Conformance cases of B2Inst's scoring inputs (shaders/boundary_map.wgsl): hand-computed
 * boundaries first (a square inside the RoI, a mask against the RoI's side, a low probability
 * plateau on each source; expected maps written out in the case), then random masks against
 * app/reference/boundaryMap.ts (R' 28 and 14, both sources, rows past the count), then the
 * chain records → RoIAlign (features) + blender (logits) → boundary map against the references.
 * No test-runner imports (Vitest + Dawn, kernel-tests.html).
 */
import { readF32, uploadStorage } from '../../../app/gpu/buffers';
import { boundaryMapBytes, createBoundaryMap } from '../../../app/gpu/kernels/boundaryMap';
import { createRoiAlign, recordsRoiSource, roiFeaturesBytes } from '../../../app/gpu/kernels/roiAlign';
import { boundaryMapReference, BOUNDARY_THRESHOLD, type BoundarySource } from '../../../app/reference/boundaryMap';
import { roiAlignReference } from '../../../app/reference/roiAlign';
import { maxAbsDiff, rng, runCases, sharedKernel, type CaseResult } from './common';
import { packRecords, randomNormals, type RecordInit } from './maskCoefficients';
import { blenderCaseReference, randomBlenderCase, runBlender } from './blender';

export interface BoundaryCase {
  maskSize: number;
  outSize: number;
  channels: number;
  source?: BoundarySource;
  binarise?: boolean;
  /** Channels of the packed layout the run writes (default all). */
  firstChannel?: number;
  outChannels?: number;
  /** [capacity, R, R] */
  maskLogits: Float32Array;
  /** [capacity, C, R', R'] */
  roiFeatures: Float32Array;
  count: number;
  capacity: number;
}

export async function runBoundary(device: GPUDevice, c: BoundaryCase, buffers?: { records: GPUBuffer; maskLogits: GPUBuffer; roiFeatures: GPUBuffer }) {
  const records =
    buffers?.records ??
    uploadStorage(
      device,
      'test.records',
      new Uint8Array(
        packRecords(
          Array.from({ length: c.count }, (_, n): RecordInit => ({ box: [0, 0, 1, 1], sourceIndex: n })),
          c.capacity,
        ),
      ),
    );
  const maskLogits = buffers?.maskLogits ?? uploadStorage(device, 'test.maskLogits', c.maskLogits);
  const roiFeatures = buffers?.roiFeatures ?? uploadStorage(device, 'test.roiFeatures', c.roiFeatures.length ? c.roiFeatures : new Float32Array(1));
  const outChannels = c.outChannels ?? 2 + c.channels;
  const bytes = boundaryMapBytes(c.capacity, outChannels, c.outSize);
  const output = uploadStorage(device, 'test.scoringInput', new Float32Array(bytes / 4).fill(-99), GPUBufferUsage.COPY_SRC);
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'test.boundaryMap' });
  sharedKernel(device, 'boundaryMap', createBoundaryMap).run(
    encoder,
    { records, maskLogits, roiFeatures, output },
    {
      maxDetections: c.capacity,
      maskSize: c.maskSize,
      outSize: c.outSize,
      channels: c.channels,
      source: c.source,
      binarise: c.binarise,
      firstChannel: c.firstChannel,
      outChannels: c.outChannels,
    },
  );
  device.queue.submit([encoder.finish()]);
  const values = await readF32(device, output, c.capacity * outChannels * c.outSize * c.outSize);
  const ms = performance.now() - t0;
  for (const b of [records, maskLogits, roiFeatures, output]) b.destroy();
  return { values, ms };
}

/**
 * Kernel vs reference: channels 0 and ≥ 2 within `tol`; channel 1 (0/1) equal, except — on the
 * probability source — a cell holding a pixel whose Laplacian is within 1e-5 of the threshold.
 */
function compare(values: Float32Array, c: BoundaryCase, tol = 1e-6) {
  const ref = boundaryMapReference(c.maskLogits, c.roiFeatures, c.count, c.capacity, c);
  const O = c.outSize;
  const R = c.maskSize;
  const f = R / O;
  const planes = 2 + c.channels;
  const first = c.firstChannel ?? 0;
  const written = c.outChannels ?? planes - first;
  const binary = c.binarise !== false;
  let err = 0;
  let flips = 0;
  let excused = 0;
  let edgeCells = 0;
  if (values.length !== c.capacity * written * O * O) return { pass: false, maxAbsError: Infinity, detail: `${values.length} values` };
  for (let i = 0; i < values.length; i++) {
    const n = Math.floor(i / (written * O * O));
    const channel = first + (Math.floor(i / (O * O)) % written);
    const j = (n * planes + channel) * O * O + (i % (O * O));
    if (channel !== 1 || !binary) {
      err = Math.max(err, Math.abs(values[i]! - ref.packed[j]!));
      if (channel === 1 && ref.packed[j]! > BOUNDARY_THRESHOLD) edgeCells++;
      continue;
    }
    if (ref.packed[j] === 1) edgeCells++;
    if (values[i] === ref.packed[j]) continue;
    const oy = Math.floor(i / O) % O;
    const ox = i % O;
    let near = false;
    for (let dy = 0; dy < f; dy++)
      for (let dx = 0; dx < f; dx++) {
        const l = ref.laplacian[(n * R + oy * f + dy) * R + ox * f + dx]!;
        if (Math.abs(l - BOUNDARY_THRESHOLD) <= 1e-5) near = true;
      }
    if (near && c.source === 'probability') excused++;
    else flips++;
  }
  return {
    pass: err <= tol && flips === 0,
    maxAbsError: err,
    detail:
      `${c.count}/${c.capacity} records, R ${R} → R' ${O}, C ${c.channels}, channels ${first}..${first + written - 1}, ${c.source ?? 'binary'}` +
      `${binary ? ', binarised' : ', soft'}: ${edgeCells} boundary cells, ${flips} flipped, ${excused} excused (Laplacian within 1e-5 of ${BOUNDARY_THRESHOLD})`,
  };
}

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** Logits [1, 8, 8]: `inside(y, x)` → +5, else −5. Features [1, 1, 4, 4] = 100 + i. */
function squareCase(inside: (y: number, x: number) => boolean, source?: BoundarySource): BoundaryCase {
  const maskLogits = new Float32Array(2 * 64);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) maskLogits[y * 8 + x] = inside(y, x) ? 5 : -5;
  maskLogits.fill(7, 64); // row 1 is past the count: output 0
  const roiFeatures = new Float32Array(2 * 16).map((_, i) => 100 + i);
  return { maskSize: 8, outSize: 4, channels: 1, source, maskLogits, roiFeatures, count: 1, capacity: 2 };
}

/** [mask 4x4, boundary 4x4, features 4x4] of record 0, then zeros for record 1. */
function expectedPacked(mask: number[], boundary: number[]): number[] {
  const features = Array.from({ length: 16 }, (_, i) => 100 + i);
  return [...mask, ...boundary, ...features, ...new Array<number>(48).fill(0)];
}

async function handCase(device: GPUDevice, c: BoundaryCase, want: number[], wantLaplacian?: Array<[number, number, number]>) {
  const { values, ms } = await runBoundary(device, c);
  const err = maxAbsDiff(values, want);
  const ref = boundaryMapReference(c.maskLogits, c.roiFeatures, c.count, c.capacity, c);
  const refErr = maxAbsDiff(ref.packed, want);
  const lapBad = (wantLaplacian ?? []).filter(([y, x, l]) => Math.abs(ref.laplacian[y * 8 + x]! - l) > 1e-6);
  return {
    pass: err <= 1e-6 && refErr <= 1e-6 && lapBad.length === 0,
    maxAbsError: err,
    ms,
    detail: `boundary ${Array.from(values.subarray(16, 32)).join('')}; reference err ${refErr}${lapBad.length ? `; reference Laplacian wrong at ${JSON.stringify(lapBad)}` : ''}`,
  };
}

/** Square rows/cols 2..5 of 8x8: the ring of its pixels with an outside neighbour; pooled 2x2 → the centre 2x2 cells. */
function squareHand(device: GPUDevice) {
  const c = squareCase((y, x) => y >= 2 && y <= 5 && x >= 2 && x <= 5);
  const hi = sig(5);
  const lo = sig(-5);
  const centre = (v: number, w: number) => [0, 1, 2, 3].flatMap((oy) => [0, 1, 2, 3].map((ox) => (oy >= 1 && oy <= 2 && ox >= 1 && ox <= 2 ? v : w)));
  // Laplacian by hand: corner 8 − 3 = 5, side 8 − 5 = 3, interior 0, outside diagonal −1, outside a side −3.
  const lap: Array<[number, number, number]> = [
    [2, 2, 5],
    [2, 3, 3],
    [3, 3, 0],
    [1, 1, -1],
    [1, 3, -3],
    [0, 0, 0],
  ];
  return handCase(device, c, expectedPacked(centre(hi, lo), centre(1, 0)), lap);
}

/** Left half (cols 0..3) of the RoI: zero padding makes col 0 and rows 0, 7 boundary too; pooled: columns 0, 1 set. */
function sideHand(device: GPUDevice) {
  const c = squareCase((_y, x) => x <= 3);
  const row = (a: number, b: number) => [a, a, b, b];
  const rows = (a: number, b: number) => [...row(a, b), ...row(a, b), ...row(a, b), ...row(a, b)];
  return handCase(device, c, expectedPacked(rows(sig(5), sig(-5)), rows(1, 0)), [
    [3, 0, 3],
    [0, 0, 5],
    [3, 3, 3],
    [3, 2, 0],
  ]);
}

/**
 * A plateau of probability p = 0.3 over the whole RoI (logit ln(0.3/0.7)): binary source → no
 * mask pixel, no boundary; probability source → with zero padding a side pixel has L = 8p − 5p
 * = 0.9, a corner 8p − 3p = 1.5, the interior 0: the RoI's border ring is "boundary".
 */
function plateauHand(device: GPUDevice, source: BoundarySource) {
  const c = squareCase(() => true, source);
  const logit = Math.log(0.3 / 0.7);
  c.maskLogits.fill(logit, 0, 64);
  const ring = [1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1];
  const boundary = source === 'probability' ? ring : new Array<number>(16).fill(0);
  const lap: Array<[number, number, number]> =
    source === 'probability'
      ? [
          [0, 3, 0.9],
          [0, 0, 1.5],
          [3, 3, 0],
        ]
      : [
          [0, 3, 0],
          [0, 0, 0],
        ];
  return handCase(device, c, expectedPacked(new Array<number>(16).fill(0.3), boundary), lap);
}

/**
 * models/blendmask's head input: the soft boundary clamp(L, 0) of the probability at R' = R
 * (no pooling), written alone (channel 1, one channel). Plateau p = 0.3 on 8x8 with zero
 * padding: sides 8p − 5p = 0.9, corners 8p − 3p = 1.5, interior 0; row 1 (past the count) 0.
 */
async function softHand(device: GPUDevice) {
  const c = squareCase(() => true, 'probability');
  c.maskLogits.fill(Math.log(0.3 / 0.7), 0, 64);
  Object.assign(c, { outSize: 8, channels: 0, roiFeatures: new Float32Array(0), binarise: false, firstChannel: 1, outChannels: 1 });
  const want: number[] = [];
  for (let y = 0; y < 8; y++)
    for (let x = 0; x < 8; x++) {
      const side = (y === 0 || y === 7 ? 1 : 0) + (x === 0 || x === 7 ? 1 : 0);
      want.push(side === 2 ? 1.5 : side === 1 ? 0.9 : 0);
    }
  const { values, ms } = await runBoundary(device, c);
  const expected = [...want, ...new Array<number>(64).fill(0)];
  const err = maxAbsDiff(values, expected);
  const refErr = maxAbsDiff(
    boundaryMapReference(c.maskLogits, c.roiFeatures, c.count, c.capacity, c).packed.filter((_, i) => Math.floor(i / 64) % 2 === 1),
    expected,
  );
  return {
    pass: err <= 1e-6 && refErr <= 1e-6,
    maxAbsError: err,
    ms,
    detail: `row 0 ${Array.from(values.subarray(0, 8), (v) => v.toFixed(2)).join(',')}; reference err ${refErr}`,
  };
}

/** Random blob masks (a disc of random centre and radius + noise) [capacity, 56, 56], features N(0, 1). */
function randomBoundaryCase(seed: number, count: number, outSize: number, channels: number, source?: BoundarySource): BoundaryCase {
  const r = rng(seed);
  const R = 56;
  const capacity = count + 2;
  const maskLogits = randomNormals(r, capacity * R * R, 0.5);
  for (let n = 0; n < capacity; n++) {
    const cx = r() * R;
    const cy = r() * R;
    const radius = 4 + r() * 30;
    for (let y = 0; y < R; y++) for (let x = 0; x < R; x++) maskLogits[(n * R + y) * R + x]! += (radius - Math.hypot(x - cx, y - cy)) / 3;
  }
  return { maskSize: R, outSize, channels, source, maskLogits, roiFeatures: randomNormals(r, capacity * channels * outSize * outSize), count, capacity };
}

/**
 * Tolerance 1e-6 (sigmoids, copies); the soft boundary of the probability sums nine sigmoids
 * with weight 8 at the centre (values up to 8), so a few ulp of exp each → 5e-6.
 */
async function randomCase(device: GPUDevice, c: BoundaryCase) {
  const { values, ms } = await runBoundary(device, c);
  const soft = c.binarise === false && c.source === 'probability';
  return { ...compare(values, c, soft ? 5e-6 : 1e-6), ms };
}

/**
 * The chain a B2Inst frame runs: records → RoIAlign of a P3-like map [C, H/8, W/8] to R' (the
 * scoring head's features) and the blender (K 5) → boundary map, each step's reference fed
 * the previous reference's output.
 */
async function chainCase(device: GPUDevice) {
  const b = randomBlenderCase(21, 5, 9);
  const C = 6;
  const O = 28;
  const r = rng(22);
  const level = {
    data: randomNormals(r, C * (b.input.height / 8) * (b.input.width / 8)),
    height: b.input.height / 8,
    width: b.input.width / 8,
    spatialScale: 1 / 8,
  };
  // GPU: blender and RoIAlign on the same records buffer.
  const { records, logits, ms } = await runBlender(device, b, true);
  const features = uploadStorage(device, 'test.p3', level.data);
  const roiFeatures = uploadStorage(device, 'test.roiFeatures', new Float32Array(roiFeaturesBytes(b.capacity, C, O) / 4));
  const encoder = device.createCommandEncoder({ label: 'test.scoringRoi' });
  sharedKernel(device, 'roiAlign', createRoiAlign).run(
    encoder,
    { rois: recordsRoiSource(records, b.input), features: [features], output: roiFeatures },
    {
      numRois: b.capacity,
      channels: C,
      outSize: O,
      levelSizes: [[level.height, level.width]],
      spatialScales: [level.spatialScale],
      samplingRatio: 0,
      aligned: true,
      canonicalScale: 224,
      canonicalLevel: 4,
      minLevel: 3,
      maxLevel: 3,
    },
  );
  device.queue.submit([encoder.finish()]);
  features.destroy();
  // References.
  const refLogits = blenderCaseReference(b).logits;
  const rois = new Float32Array(
    b.records.flatMap((rec) =>
      [rec.box[0] * b.input.width, rec.box[1] * b.input.height, rec.box[2] * b.input.width, rec.box[3] * b.input.height].map(Math.fround),
    ),
  );
  const refFeatures = new Float32Array(b.capacity * C * O * O);
  refFeatures.set(
    roiAlignReference([level], C, rois, b.records.length, b.records.length, {
      outSize: O,
      samplingRatio: 0,
      aligned: true,
      canonicalScale: 224,
      canonicalLevel: 4,
      minLevel: 3,
      maxLevel: 3,
    }),
  );
  const c: BoundaryCase = {
    maskSize: 56,
    outSize: O,
    channels: C,
    maskLogits: refLogits,
    roiFeatures: refFeatures,
    count: b.records.length,
    capacity: b.capacity,
  };
  const { values } = await runBoundary(device, c, { records, maskLogits: logits, roiFeatures });
  // The GPU logits differ from the reference's by ≤ 1e-6: a binarisation flip would need a logit that close to 0 (reported).
  const nearZero = refLogits.subarray(0, b.records.length * 56 * 56).filter((v) => v !== 0 && Math.abs(v) < 1e-5).length;
  const result = compare(values, c, 2e-5);
  return { ...result, ms, detail: `${result.detail}; ${nearZero} non-zero logits within 1e-5 of 0` };
}

export async function boundaryMapConformance(device: GPUDevice): Promise<CaseResult[]> {
  return runCases('boundaryMap', device, [
    ['hand: 4x4 square in an 8x8 RoI → its inner ring; pooled 2x2 → the 4 centre cells; features copied; row past the count 0', () => squareHand(device)],
    ['hand: mask against the RoI side → zero padding makes the side a boundary', () => sideHand(device)],
    ['hand: probability plateau 0.3, binary source → no boundary', () => plateauHand(device, 'binary')],
    ['hand: probability plateau 0.3, probability source → the RoI border ring (L 0.9 / 1.5)', () => plateauHand(device, 'probability')],
    ["random: 10 blobs, R' 28, C 16, binary", () => randomCase(device, randomBoundaryCase(31, 10, 28, 16))],
    ["random: 10 blobs, R' 14, C 8, binary", () => randomCase(device, randomBoundaryCase(32, 10, 14, 8))],
    ["random: 6 blobs, R' 28, C 4, probability", () => randomCase(device, randomBoundaryCase(33, 6, 28, 4, 'probability'))],
    ['random: no records → all 0', () => randomCase(device, randomBoundaryCase(34, 0, 28, 4))],
    ["hand: soft boundary clamp(L, 0) of a 0.3 plateau at R' = R, boundary channel alone (models/blendmask's head input)", () => softHand(device)],
    [
      "random: models/blendmask's head inputs, R' 56, probability, soft: mask channel alone",
      () => randomCase(device, { ...randomBoundaryCase(35, 8, 56, 0, 'probability'), binarise: false, firstChannel: 0, outChannels: 1 }),
    ],
    [
      "random: models/blendmask's head inputs, R' 56, probability, soft: boundary channel alone",
      () => randomCase(device, { ...randomBoundaryCase(35, 8, 56, 0, 'probability'), binarise: false, firstChannel: 1, outChannels: 1 }),
    ],
    ["random: soft boundary packed with features, R' 28, binary source", () => randomCase(device, { ...randomBoundaryCase(36, 5, 28, 3), binarise: false })],
    ["chain: records → RoIAlign (C 6, R' 28) + blender (K 5) → boundary map, as the references", () => chainCase(device)],
  ]);
}
