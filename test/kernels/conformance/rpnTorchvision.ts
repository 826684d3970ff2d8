/**
 * Our RPN and RoI kernels against torchvision itself: test/kernels/fixtures/rpnTorchvisionFixture.ts
 * holds what torchvision 0.14 computed (AnchorGenerator, RegionProposalNetwork
 * .filter_proposals, ops.roi_align, ops.roi_pool) on inputs regenerated here bit for bit
 * (seeded mulberry32, plain arithmetic; the formulas are those of
 * test/kernels/fixtures/rpnTorchvisionFixture.py).
 */
import { ANCHORS_512, ROI_ALIGN_FIXTURE, ROI_FIXTURE, ROI_POOL_FIXTURE, RPN_FIXTURE, RPN_FIXTURE_512, RPN_GEOMETRY } from '../fixtures/rpnTorchvisionFixture';
import { levelOffsets, rpnAnchors, rpnGeometry, type RpnGeometry } from '../../../app/reference/rpnDecode';
import type { FeatureLevel, RoiAlignParams } from '../../../app/reference/roiAlign';
import { maxAbsDiff, rng, runCases, type CaseResult } from './common';
import { runRpnDecode, runRpnProposalNms, runRpnTopN } from './rpn';
import { runRoi, type RoiCase } from './roi';
import { geometry512 } from './rpnData';

/** One RPN case of the fixture: its input side, top-n, R, seed and torchvision's output. */
export type RpnFixtureCase = typeof RPN_FIXTURE;
export const RPN_FIXTURE_CASES: RpnFixtureCase[] = [RPN_FIXTURE, RPN_FIXTURE_512];

export function fixtureRpnGeometry(c: RpnFixtureCase): RpnGeometry {
  return rpnGeometry({ width: c.input, height: c.input }, RPN_GEOMETRY.strides, RPN_GEOMETRY.sizes, RPN_GEOMETRY.ratios);
}

/** The fixture's RPN inputs: logits 8u − 4; deltas (u − 0.5)·0.8, then dh = −30 (u < 0.02) or dw = 9 (u < 0.04). */
export function fixtureRpnInputs(c: RpnFixtureCase): { objectness: Float32Array; rpnDeltas: Float32Array } {
  const { total } = levelOffsets(fixtureRpnGeometry(c));
  const r = rng(c.seed);
  const objectness = new Float32Array(total);
  for (let i = 0; i < total; i++) objectness[i] = r() * 8 - 4;
  const rpnDeltas = new Float32Array(4 * total);
  for (let i = 0; i < 4 * total; i++) rpnDeltas[i] = (r() - 0.5) * 0.8;
  for (let i = 0; i < total; i++) {
    const u = r();
    if (u < 0.02) rpnDeltas[4 * i + 3] = -30;
    else if (u < 0.04) rpnDeltas[4 * i + 2] = 9;
  }
  return { objectness, rpnDeltas };
}

/**
 * Our proposals against torchvision's, up to the order among equal scores. torchvision sorts
 * by the f32 sigmoid (stable: ties by level, then top-k order), we by the logit (then anchor
 * index) so that kernel and reference agree exactly; near 1 the sigmoid maps many logits to
 * one f32, so rows of equal score may be permuted. Per run of equal torchvision scores, every
 * box must be found within `tol` among our rows of that run (the last run may be cut by R
 * and is excused there).
 */
export function compareWithTorchvision(
  rois: ArrayLike<number>,
  scores: ArrayLike<number>,
  count: number,
  want: { boxes: number[]; scores: number[] },
  tol: number,
): { pass: boolean; boxErr: number; scoreErr: number; detail: string } {
  const n = want.scores.length;
  let scoreErr = 0;
  for (let i = 0; i < n; i++) scoreErr = Math.max(scoreErr, Math.abs(scores[i]! - want.scores[i]!));
  let boxErr = 0;
  let missing = 0;
  let tieGroups = 0;
  let permuted = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && want.scores[j + 1] === want.scores[i]) j++;
    if (j > i) tieGroups++;
    for (let k = i; k <= j; k++) {
      let best = Infinity;
      let at = -1;
      for (let m = i; m <= j; m++) {
        let e = 0;
        for (let q = 0; q < 4; q++) e = Math.max(e, Math.abs(rois[4 * m + q]! - want.boxes[4 * k + q]!));
        if (e < best) [best, at] = [e, m];
      }
      if (best <= tol) {
        boxErr = Math.max(boxErr, best);
        if (at !== k) permuted++;
      } else if (j !== n - 1) missing++;
    }
    i = j + 1;
  }
  return {
    pass: count === n && missing === 0 && scoreErr <= 1e-6,
    boxErr,
    scoreErr,
    detail:
      `${count} RoIs (torchvision ${n}); ${missing} unmatched; ${tieGroups} runs of equal scores, ${permuted} rows permuted within them; ` +
      `box err ${boxErr.toExponential(2)}, score err ${scoreErr.toExponential(2)}`,
  };
}

/** The fixture's RoI inputs: one map [3, 9, 11] of u·2 − 1 at scale 1/4, 12 boxes. */
export function fixtureRoiInputs(): { level: FeatureLevel; rois: Float32Array } {
  const { channels, height, width, spatialScale, numRois } = ROI_FIXTURE;
  const r = rng(ROI_FIXTURE.seed);
  const data = new Float32Array(channels * height * width);
  for (let i = 0; i < data.length; i++) data[i] = r() * 2 - 1;
  const rois = new Float32Array(4 * numRois);
  for (let n = 0; n < numRois; n++) {
    const x1 = r() * 60 - 8;
    const y1 = r() * 48 - 8;
    const w = 2 + 40 * r();
    const h = 2 + 40 * r();
    rois.set([x1, y1, x1 + w, y1 + h], 4 * n);
  }
  return { level: { data, height, width, spatialScale }, rois };
}

/** The four roi_align variants of the fixture: key → (aligned, samplingRatio). */
export const ROI_ALIGN_VARIANTS: Array<[string, boolean, number]> = [
  ['unaligned_s2', false, 2],
  ['unaligned_s0', false, 0],
  ['aligned_s2', true, 2],
  ['aligned_s0', true, 0],
];

const oneLevel = { canonicalScale: 224, canonicalLevel: 4, minLevel: 2, maxLevel: 2 };

export async function rpnTorchvisionConformance(device: GPUDevice): Promise<CaseResult[]> {
  return runCases('rpnTorchvision', device, [
    [
      'GPU anchors of the 512 model = torchvision AnchorGenerator (25 picked anchors, zero deltas)',
      async () => {
        const g = geometry512();
        const { total } = levelOffsets(g);
        const big = { width: 1e6, height: 1e6 };
        const out = await runRpnDecode(device, new Float32Array(4 * total), g, big);
        const ref = rpnAnchors(g);
        let err = 0;
        for (const [i, ...box] of ANCHORS_512) {
          const clipped = box.map((v) => Math.max(v!, 0)); // the kernel clips at 0
          err = Math.max(err, maxAbsDiff(out.boxes.subarray(4 * i!, 4 * i! + 4), clipped), maxAbsDiff(ref.subarray(4 * i!, 4 * i! + 4), box));
        }
        return { pass: err === 0, maxAbsError: err, detail: `${ANCHORS_512.length} anchors, GPU (clipped at 0) and rpnAnchors exact`, ms: out.ms };
      },
    ],
    ...RPN_FIXTURE_CASES.map((c): [string, () => Promise<Omit<CaseResult, 'kernel' | 'name'>>] => [
      `GPU decode → top-n → proposal NMS = torchvision filter_proposals (${c.input} input, top ${c.preNmsTopN}, R ${c.postNmsTopN})`,
      async () => {
        const g = fixtureRpnGeometry(c);
        const input = { width: c.input, height: c.input };
        const { objectness, rpnDeltas } = fixtureRpnInputs(c);
        const decoded = await runRpnDecode(device, rpnDeltas, g, input);
        const top = await runRpnTopN(device, objectness, g, c.preNmsTopN);
        const got = await runRpnProposalNms(device, decoded.boxes, decoded.valid, objectness, top, c.preNmsTopN, RPN_GEOMETRY.nmsIou, c.postNmsTopN);
        const cmp = compareWithTorchvision(got.rois, got.scores, got.count, c, 1e-3);
        return {
          pass: cmp.pass,
          maxAbsError: cmp.boxErr,
          detail: `${levelOffsets(g).total} anchors, kept ${got.keptTotal}; ${cmp.detail}`,
          ms: decoded.ms + top.ms + got.ms,
        };
      },
    ]),
    ...ROI_ALIGN_VARIANTS.map(([key, aligned, samplingRatio]): [string, () => Promise<Omit<CaseResult, 'kernel' | 'name'>>] => [
      `GPU roiAlign = torchvision roi_align (${key}: 12 RoIs, 3 x 9 x 11 map, scale 1/4, 5x5)`,
      async () => {
        const { level, rois } = fixtureRoiInputs();
        const params: RoiAlignParams = { ...oneLevel, outSize: ROI_FIXTURE.outSize, samplingRatio, aligned };
        const c: RoiCase = { levels: [level], channels: ROI_FIXTURE.channels, rois, count: ROI_FIXTURE.numRois, params };
        const { values, ms } = await runRoi(device, 'align', c);
        const err = maxAbsDiff(values, ROI_ALIGN_FIXTURE[key]!);
        return { pass: err <= 1e-5, maxAbsError: err, detail: `${values.length} values`, ms };
      },
    ]),
    [
      'GPU roiPool = torchvision roi_pool (12 RoIs, 5x5)',
      async () => {
        const { level, rois } = fixtureRoiInputs();
        const c: RoiCase = {
          levels: [level],
          channels: ROI_FIXTURE.channels,
          rois,
          count: ROI_FIXTURE.numRois,
          params: { ...oneLevel, outSize: ROI_FIXTURE.outSize, samplingRatio: 0, aligned: false },
        };
        const { values, ms } = await runRoi(device, 'pool', c);
        const err = maxAbsDiff(values, ROI_POOL_FIXTURE);
        return { pass: err === 0, maxAbsError: err, detail: `${values.length} values`, ms };
      },
    ],
  ]);
}
