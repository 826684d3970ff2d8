/**
 * Conformance cases of the RoI feature kernels (shaders/roi_align.wgsl, roi_pool.wgsl): the
 * 5x5 grid of 0..24 with the expected outputs worked out by hand, FPN level assignment edge
 * cases, random multi-level cases against app/reference/roiAlign.ts / roiPool.ts. No
 * test-runner imports (runs under Vitest + Dawn and in kernel-tests.html).
 */
import { readF32, uploadStorage } from '../../../app/gpu/buffers';
import { RECORD_FLOATS, RECORD_HEADER_BYTES } from '../../../app/gpu/layout';
import {
  createRoiAlign,
  pixelRoiSource,
  recordsRoiSource,
  roiFeaturesBytes,
  type RoiPoolerKernel,
  type RoiPoolerParams,
  type RoiSource,
} from '../../../app/gpu/kernels/roiAlign';
import { createRoiPool } from '../../../app/gpu/kernels/roiPool';
import { roiAlignReference, roiLevelIndex, type FeatureLevel, type RoiAlignParams } from '../../../app/reference/roiAlign';
import { roiPoolReference } from '../../../app/reference/roiPool';
import { firstMismatch, maxAbsDiff, rng, runCases, sharedKernel, type CaseResult } from './common';
import { normals } from './rpnData';

/** CenterMask's adaptive assignment (Equation 2): k_max 5, levels P3..P5 (canonical* unused). */
export const CENTERMASK_MAPPING = { canonicalScale: 224, canonicalLevel: 4, minLevel: 3, maxLevel: 5, rule: 'ratio' as const };

export type RoiKind = 'align' | 'pool';

/** The FPN mapping of the contract: canonical 224 at level 4, levels 2..5. */
export const FPN_MAPPING = { canonicalScale: 224, canonicalLevel: 4, minLevel: 2, maxLevel: 5 };

function kernelFor(device: GPUDevice, kind: RoiKind): RoiPoolerKernel {
  return kind === 'align' ? sharedKernel(device, 'roiAlign', createRoiAlign) : sharedKernel(device, 'roiPool', createRoiPool);
}

export interface RoiCase {
  levels: FeatureLevel[];
  channels: number;
  /** [capacity, 4] xyxy input pixels. */
  rois: Float32Array;
  count: number;
  params: RoiAlignParams;
}

/** Runs the kernel with RoIs as [R, 4] pixel boxes + a count buffer (or DetectionRecords). */
export async function runRoi(device: GPUDevice, kind: RoiKind, c: RoiCase, asRecords?: { width: number; height: number }) {
  const capacity = c.rois.length / 4;
  const features = c.levels.map((l, i) => uploadStorage(device, `test.p${i + 2}`, l.data));
  let boxes: GPUBuffer;
  let countBuffer: GPUBuffer | undefined;
  let source: RoiSource;
  if (asRecords) {
    // DetectionRecords: header (count), then 32-byte records with relative boxes.
    const words = new Float32Array(RECORD_HEADER_BYTES / 4 + capacity * RECORD_FLOATS);
    new Uint32Array(words.buffer)[0] = c.count;
    for (let n = 0; n < capacity; n++) {
      const o = RECORD_HEADER_BYTES / 4 + n * RECORD_FLOATS;
      words.set(
        [
          c.rois[4 * n]! / asRecords.width,
          c.rois[4 * n + 1]! / asRecords.height,
          c.rois[4 * n + 2]! / asRecords.width,
          c.rois[4 * n + 3]! / asRecords.height,
          0.9,
        ],
        o,
      );
    }
    boxes = uploadStorage(device, 'test.records', words);
    source = recordsRoiSource(boxes, asRecords);
  } else {
    boxes = uploadStorage(device, 'test.rois', c.rois);
    countBuffer = uploadStorage(device, 'test.roiCount', new Uint32Array([c.count, 0, 0, 0]));
    source = pixelRoiSource(boxes, countBuffer);
  }
  const out = c.params.outSize;
  const bytes = roiFeaturesBytes(capacity, c.channels, out);
  const output = uploadStorage(device, 'test.roiFeatures', new Float32Array(bytes / 4).fill(-99));
  const params: RoiPoolerParams = {
    ...c.params,
    numRois: capacity,
    channels: c.channels,
    levelSizes: c.levels.map((l) => [l.height, l.width] as const),
    spatialScales: c.levels.map((l) => l.spatialScale),
  };
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: `${kind}.test` });
  kernelFor(device, kind).run(encoder, { rois: source, features, output }, params);
  device.queue.submit([encoder.finish()]);
  const values = await readF32(device, output, capacity * c.channels * out * out);
  const ms = performance.now() - t0;
  for (const b of [...features, boxes, output, ...(countBuffer ? [countBuffer] : [])]) b.destroy();
  return { values, ms };
}

export function roiReference(kind: RoiKind, c: RoiCase): Float32Array {
  const capacity = c.rois.length / 4;
  return kind === 'align'
    ? roiAlignReference(c.levels, c.channels, c.rois, c.count, capacity, c.params)
    : roiPoolReference(c.levels, c.channels, c.rois, c.count, capacity, c.params);
}

/** The 5x5 grid 0..24 (channel 0) and twice it (channel 1), one level, spatial scale `scale`. */
function grid5(scale = 1): FeatureLevel {
  const data = new Float32Array(50);
  for (let i = 0; i < 25; i++) {
    data[i] = i;
    data[25 + i] = 2 * i;
  }
  return { data, height: 5, width: 5, spatialScale: scale };
}

const single = { canonicalScale: 224, canonicalLevel: 4, minLevel: 2, maxLevel: 2 };

/** One box on the 5x5 grid: channel 0 must equal `want`, channel 1 twice it (exact sums of halves). */
async function gridCase(device: GPUDevice, kind: RoiKind, box: number[], outSize: number, samplingRatio: number, aligned: boolean, want: number[], scale = 1) {
  const c: RoiCase = {
    levels: [grid5(scale)],
    channels: 2,
    rois: new Float32Array([...box, 9, 9, 9, 9]), // a second row past the count: zeros
    count: 1,
    params: { ...single, outSize, samplingRatio, aligned },
  };
  const { values, ms } = await runRoi(device, kind, c);
  const o2 = outSize * outSize;
  const expected = [...want, ...want.map((v) => 2 * v), ...new Array<number>(2 * o2).fill(0)];
  const ref = roiReference(kind, c);
  const err = maxAbsDiff(values, expected);
  const refErr = maxAbsDiff(ref, expected);
  return {
    pass: err <= 1e-5 && refErr <= 1e-5,
    maxAbsError: err,
    detail: `got ${Array.from(values.subarray(0, o2)).join(',')}; want ${want.join(',')}; reference err ${refErr}`,
    ms,
  };
}

/** FPN geometry of the 512 model: P2..P5 128², 64², 32², 16², C channels of N(0, 1). */
function randomLevels(channels: number, seed: number, input = 512): FeatureLevel[] {
  const r = rng(seed);
  return [4, 8, 16, 32].map((stride) => {
    const side = Math.ceil(input / stride);
    return { data: normals(r, channels * side * side), height: side, width: side, spatialScale: 1 / stride };
  });
}

/** Random boxes of every size (2 px to the whole input), some partly or wholly outside. */
function randomRois(n: number, seed: number, input = 512): Float32Array {
  const r = rng(seed);
  const rois = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const w = Math.exp(Math.log(2) + r() * Math.log((input / 2) * 1.2));
    const h = w * Math.exp((r() - 0.5) * 2);
    const x = -0.1 * input + r() * 1.1 * input - w / 2;
    const y = -0.1 * input + r() * 1.1 * input - h / 2;
    rois.set([x, y, x + w, y + h], 4 * i);
  }
  return rois;
}

async function randomCase(device: GPUDevice, kind: RoiKind, c: RoiCase, tol: number, asRecords?: { width: number; height: number }) {
  const { values, ms } = await runRoi(device, kind, c, asRecords);
  const want = roiReference(kind, c);
  const err = maxAbsDiff(values, want);
  const levelsUsed = new Set<number>();
  for (let n = 0; n < c.count; n++) {
    levelsUsed.add(roiLevelIndex(c.rois[4 * n]!, c.rois[4 * n + 1]!, c.rois[4 * n + 2]!, c.rois[4 * n + 3]!, c.params, c.levels.length));
  }
  let exact = 0;
  for (let i = 0; i < want.length; i++) if (values[i] === want[i]) exact++;
  return {
    pass: err <= tol,
    maxAbsError: err,
    detail:
      `${c.count}/${c.rois.length / 4} RoIs, C ${c.channels}, ${c.params.outSize}², levels used ${[...levelsUsed].sort().join(',')}; ` +
      `${want.length} values, ${((100 * exact) / want.length).toFixed(1)}% bit-exact`,
    ms,
  };
}

export async function roiAlignConformance(device: GPUDevice): Promise<CaseResult[]> {
  const K: RoiKind = 'align';
  return runCases('roiAlign', device, [
    // Grid v(y, x) = 5y + x is linear, so a sample inside [0, 4]² is exactly 5y + x.
    ['5x5 grid: aligned, box [1,1,3,3], 1x1, sampling 1 → sample (1.5, 1.5) = 9', () => gridCase(device, K, [1, 1, 3, 3], 1, 1, true, [9])],
    [
      '5x5 grid: aligned, box [1,1,3,3], 2x2, sampling 1 → samples y, x ∈ {1, 2}: 6 7 / 11 12',
      () => gridCase(device, K, [1, 1, 3, 3], 2, 1, true, [6, 7, 11, 12]),
    ],
    [
      '5x5 grid: unaligned, box [1,1,3,3], 2x2, sampling 1 → y, x ∈ {1.5, 2.5}: 9 10 / 14 15',
      () => gridCase(device, K, [1, 1, 3, 3], 2, 1, false, [9, 10, 14, 15]),
    ],
    [
      '5x5 grid: unaligned, box [0,0,4,4], 2x2, sampling 2 → bin means y, x ∈ {1, 3}: 6 8 / 16 18',
      () => gridCase(device, K, [0, 0, 4, 4], 2, 2, false, [6, 8, 16, 18]),
    ],
    [
      '5x5 grid: unaligned, box [3,3,6,6], 3x3, sampling 1 → 4.5 clamps to 4, 5.5 > H is 0',
      () =>
        // y, x ∈ {3.5, 4.5 → 4, 5.5 → out}: 21 21.5 0 / 23.5 24 0 / 0 0 0
        gridCase(device, K, [3, 3, 6, 6], 3, 1, false, [21, 21.5, 0, 23.5, 24, 0, 0, 0, 0]),
    ],
    [
      '5x5 grid: aligned, box [-2,-1,2,3], 2x2, sampling 1 → x = −1.5 < −1 is 0, y = −0.5 clamps to 0',
      () =>
        // x ∈ {−1.5 → 0, 0.5}, y ∈ {−0.5 → 0, 1.5}: 0 0.5 / 0 8
        gridCase(device, K, [-2, -1, 2, 3], 2, 1, true, [0, 0.5, 0, 8]),
    ],
    [
      '5x5 grid: unaligned, box [0,0,4,2], 2x2, adaptive sampling (grid 2 wide, 1 high)',
      () =>
        // y ∈ {0.5, 1.5}; x means 1 and 3: 3.5 5.5 / 8.5 10.5
        gridCase(device, K, [0, 0, 4, 2], 2, 0, false, [3.5, 5.5, 8.5, 10.5]),
    ],
    [
      '5x5 grid: unaligned, tiny box [2,2,2.2,2.2] → sides forced to 1, 1x1 sampling 1 → (2.5, 2.5) = 15',
      () => gridCase(device, K, [2, 2, 2.2, 2.2], 1, 1, false, [15]),
    ],
    [
      '5x5 grid at spatial scale 1/2: aligned, box [2,2,6,6], 2x2, sampling 1 → same as [1,1,3,3]',
      () => gridCase(device, K, [2, 2, 6, 6], 2, 1, true, [6, 7, 11, 12], 0.5),
    ],
    [
      'FPN level assignment edges (√area 224 → P4, 223.5 → P3, 112 → P3, 111.9 → P2, 448 → P5, tiny → P2, huge → P5)',
      async () => {
        // Level l filled with the constant l + 1 (both channels), so every output value names its level.
        const sides = [128, 64, 32, 16];
        const levels = sides.map((s, l) => ({ data: new Float32Array(2 * s * s).fill(l + 2), height: s, width: s, spatialScale: 1 / (4 << l) }));
        const boxes = [
          [0, 0, 224, 224],
          [0, 0, 223, 224],
          [100, 100, 212, 212],
          [0, 0, 111.9, 112],
          [0, 0, 448, 448],
          [10, 10, 12, 13],
          [0, 0, 512, 512],
          [0, 0, 112, 448],
          [50, 60, 50, 90],
        ];
        const want = [4, 3, 3, 2, 5, 2, 5, 4, 2];
        const c: RoiCase = {
          levels,
          channels: 2,
          rois: new Float32Array(boxes.flat()),
          count: boxes.length,
          params: { ...FPN_MAPPING, outSize: 1, samplingRatio: 1, aligned: true },
        };
        const { values, ms } = await runRoi(device, K, c);
        const got = boxes.map((_, n) => values[2 * n]!);
        const refLevels = boxes.map((b) => roiLevelIndex(b[0]!, b[1]!, b[2]!, b[3]!, FPN_MAPPING, 4) + 2);
        const pass = firstMismatch(got, want) < 0 && firstMismatch(refLevels, want) < 0;
        return { pass, detail: `GPU levels ${got.join(',')}; reference ${refLevels.join(',')}; want ${want.join(',')}`, ms };
      },
    ],
    [
      'CenterMask level rule (Eq. 2, 512² input, P3..P5): half the input → P4, just above → P5; a quarter → P3, just above → P4',
      async () => {
        // P3..P5 of a 512 input (64², 32², 16²), level l filled with l + 3 so each value names its level.
        const sides = [64, 32, 16];
        const levels = sides.map((s, l) => ({ data: new Float32Array(2 * s * s).fill(l + 3), height: s, width: s, spatialScale: 1 / (8 << l) }));
        const boxes = [
          [0, 0, 512, 256],
          [0, 0, 512, 256.5],
          [0, 0, 512, 255.5], // exactly / above / below half
          [0, 0, 256, 256],
          [10, 20, 266, 276.5],
          [0, 0, 256, 255.5], // exactly / above / below a quarter
          [0, 0, 512, 512],
          [5, 5, 9, 9],
          [50, 60, 50, 90],
          [100, 100, 90, 300], // whole, tiny, empty, inverted
        ];
        const want = [4, 5, 4, 3, 4, 3, 5, 3, 3, 3];
        const mapping = { ...CENTERMASK_MAPPING, inputArea: 512 * 512 };
        const c: RoiCase = {
          levels,
          channels: 2,
          rois: new Float32Array(boxes.flat()),
          count: boxes.length,
          params: { ...mapping, outSize: 1, samplingRatio: 1, aligned: true },
        };
        const { values, ms } = await runRoi(device, K, c);
        const got = boxes.map((_, n) => values[2 * n]!);
        const refLevels = boxes.map((b) => roiLevelIndex(b[0]!, b[1]!, b[2]!, b[3]!, mapping, 3) + 3);
        const pass = firstMismatch(got, want) < 0 && firstMismatch(refLevels, want) < 0;
        return { pass, detail: `GPU levels ${got.join(',')}; reference ${refLevels.join(',')}; want ${want.join(',')}`, ms };
      },
    ],
    [
      'CenterMask level rule on a 640x384 input: half = 122880 px² → P4, 122881 → P5',
      async () => {
        const sides: Array<[number, number]> = [
          [48, 80],
          [24, 40],
          [12, 20],
        ];
        const levels = sides.map(([h, w], l) => ({ data: new Float32Array(h * w).fill(l + 3), height: h, width: w, spatialScale: 1 / (8 << l) }));
        const boxes = [
          [0, 0, 320, 384],
          [0, 0, 320.0025, 384.003],
          [0, 0, 320, 192],
          [0, 0, 319, 192],
        ];
        const want = [4, 5, 3, 3];
        const mapping = { ...CENTERMASK_MAPPING, inputArea: 640 * 384 };
        const c: RoiCase = {
          levels,
          channels: 1,
          rois: new Float32Array(boxes.flat()),
          count: boxes.length,
          params: { ...mapping, outSize: 1, samplingRatio: 1, aligned: true },
        };
        const { values, ms } = await runRoi(device, K, c);
        const got = Array.from(values);
        const refLevels = boxes.map((b) => roiLevelIndex(b[0]!, b[1]!, b[2]!, b[3]!, mapping, 3) + 3);
        const pass = firstMismatch(got, want) < 0 && firstMismatch(refLevels, want) < 0;
        return { pass, detail: `GPU levels ${got.join(',')}; reference ${refLevels.join(',')}; want ${want.join(',')}`, ms };
      },
    ],
    [
      'random: CenterMask rule, P3..P5 of a 512 input, 30 RoIs, C 4, 14x14, sampling 2, aligned',
      () =>
        randomCase(
          device,
          K,
          {
            levels: randomLevels(4, 73).slice(1),
            channels: 4,
            rois: randomRois(30, 74),
            count: 30,
            params: { ...CENTERMASK_MAPPING, inputArea: 512 * 512, outSize: 14, samplingRatio: 2, aligned: true },
          },
          1e-4,
        ),
    ],
    [
      'random: 4 levels (512 input), 40 of 48 RoIs, C 8, 7x7, sampling 2, unaligned',
      () =>
        randomCase(
          device,
          K,
          {
            levels: randomLevels(8, 61),
            channels: 8,
            rois: randomRois(48, 62),
            count: 40,
            params: { ...FPN_MAPPING, outSize: 7, samplingRatio: 2, aligned: false },
          },
          1e-4,
        ),
    ],
    [
      'random: 4 levels, C 8, 14x14, sampling 2, aligned (the bundled model)',
      () =>
        randomCase(
          device,
          K,
          {
            levels: randomLevels(8, 63),
            channels: 8,
            rois: randomRois(40, 64),
            count: 40,
            params: { ...FPN_MAPPING, outSize: 14, samplingRatio: 2, aligned: true },
          },
          1e-4,
        ),
    ],
    [
      'random: 4 levels, C 4, 7x7, adaptive sampling, aligned',
      () =>
        randomCase(
          device,
          K,
          {
            levels: randomLevels(4, 65),
            channels: 4,
            rois: randomRois(30, 66),
            count: 30,
            params: { ...FPN_MAPPING, outSize: 7, samplingRatio: 0, aligned: true },
          },
          1e-4,
        ),
    ],
    [
      'random: RoIs read from DetectionRecords (relative boxes, count in the header)',
      () =>
        randomCase(
          device,
          K,
          {
            levels: randomLevels(4, 67),
            channels: 4,
            rois: randomRois(20, 68),
            count: 13,
            params: { ...FPN_MAPPING, outSize: 14, samplingRatio: 2, aligned: true },
          },
          1e-4,
          { width: 512, height: 512 },
        ),
    ],
    // One sample a bin keeps this size affordable on software adapters; rows past the count
    // (the output starts at −99) check that every index of the 2D dispatch is written.
    [
      'large: 350 RoIs x 64 channels x 14², sampling 1 (68.6k workgroups: 2D dispatch)',
      () =>
        randomCase(
          device,
          K,
          {
            levels: randomLevels(64, 69),
            channels: 64,
            rois: randomRois(350, 70),
            count: 340,
            params: { ...FPN_MAPPING, outSize: 14, samplingRatio: 1, aligned: true },
          },
          1e-4,
        ),
    ],
    [
      'count 0: every row zero',
      () =>
        randomCase(
          device,
          K,
          {
            levels: randomLevels(2, 71),
            channels: 2,
            rois: randomRois(5, 72),
            count: 0,
            params: { ...FPN_MAPPING, outSize: 7, samplingRatio: 2, aligned: true },
          },
          0,
        ),
    ],
  ]);
}

export async function roiPoolConformance(device: GPUDevice): Promise<CaseResult[]> {
  const K: RoiKind = 'pool';
  return runCases('roiPool', device, [
    // Max of a bin of v(y, x) = 5y + x is its bottom-right cell.
    [
      '5x5 grid: box [1,1,3,3], 2x2 → size 3, bins rows/cols {1,2}, {2,3}: 12 13 / 17 18',
      () => gridCase(device, K, [1, 1, 3, 3], 2, 0, false, [12, 13, 17, 18]),
    ],
    [
      '5x5 grid: box [3.4,0.5,7,1.6], 2x2 → rows {1}, {2}; cols {3,4} and a bin past W (empty → 0): 9 0 / 14 0',
      () => gridCase(device, K, [3.4, 0.5, 7, 1.6], 2, 0, false, [9, 0, 14, 0]),
    ],
    [
      '5x5 grid: box [1,1,2.5,2.5], 1x1 → ends round half away to 3: rows/cols 1..3 → 18 (half to even: 12)',
      () => gridCase(device, K, [1, 1, 2.5, 2.5], 1, 0, false, [18]),
    ],
    ['5x5 grid at scale 1/2: box [2,2,8,8] → [1,1,4,4], 2x2: 12 14 / 22 24', () => gridCase(device, K, [2, 2, 8, 8], 2, 0, false, [12, 14, 22, 24], 0.5)],
    ['5x5 grid: box outside [6,6,9,9] → every bin empty: 0', () => gridCase(device, K, [6, 6, 9, 9], 2, 0, false, [0, 0, 0, 0])],
    [
      'random: 4 levels, 40 of 48 RoIs, C 8, 7x7',
      () =>
        randomCase(
          device,
          K,
          {
            levels: randomLevels(8, 81),
            channels: 8,
            rois: randomRois(48, 82),
            count: 40,
            params: { ...FPN_MAPPING, outSize: 7, samplingRatio: 0, aligned: false },
          },
          0,
        ),
    ],
    [
      'random: 4 levels, C 8, 14x14, RoIs from DetectionRecords',
      () =>
        randomCase(
          device,
          K,
          {
            levels: randomLevels(8, 83),
            channels: 8,
            rois: randomRois(24, 84),
            count: 24,
            params: { ...FPN_MAPPING, outSize: 14, samplingRatio: 0, aligned: false },
          },
          0,
          { width: 512, height: 512 },
        ),
    ],
  ]);
}
