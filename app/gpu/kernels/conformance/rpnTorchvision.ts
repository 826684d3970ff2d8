/**
 * Our RPN and RoI kernels against torchvision itself: app/reference/rpnTorchvisionFixture.ts
 * holds what torchvision 0.14 computed (AnchorGenerator, RegionProposalNetwork
 * .filter_proposals, ops.roi_align, ops.roi_pool) on inputs regenerated here bit for bit
 * (seeded mulberry32, plain arithmetic; the formulas are those of
 * app/reference/rpnTorchvisionFixture.py).
 */
import {
  ANCHORS_512,
  ROI_ALIGN_FIXTURE,
  ROI_FIXTURE,
  ROI_POOL_FIXTURE,
  RPN_FIXTURE,
  RPN_FIXTURE_BOXES,
  RPN_FIXTURE_SCORES,
} from '../../../reference/rpnTorchvisionFixture';
import { levelOffsets, rpnAnchors, rpnGeometry, type RpnGeometry } from '../../../reference/rpnDecode';
import type { FeatureLevel, RoiAlignParams } from '../../../reference/roiAlign';
import { maxAbsDiff, rng, runCases, type CaseResult } from './common';
import { runRpnDecode, runRpnProposalNms, runRpnTopN } from './rpn';
import { runRoi, type RoiCase } from './roi';
import { geometry512 } from './rpnData';

export function fixtureRpnGeometry(): RpnGeometry {
  const size = { width: RPN_FIXTURE.input, height: RPN_FIXTURE.input };
  return rpnGeometry(size, RPN_FIXTURE.strides, RPN_FIXTURE.sizes, RPN_FIXTURE.ratios);
}

/** The fixture's RPN inputs: logits 8u − 4; deltas (u − 0.5)·0.8, then dh = −30 (u < 0.02) or dw = 9 (u < 0.04). */
export function fixtureRpnInputs(): { objectness: Float32Array; rpnDeltas: Float32Array } {
  const { total } = levelOffsets(fixtureRpnGeometry());
  const r = rng(RPN_FIXTURE.seed);
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
    ['GPU anchors of the 512 model = torchvision AnchorGenerator (25 picked anchors, zero deltas)', async () => {
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
    }],
    ['GPU decode → top-n → proposal NMS = torchvision filter_proposals (128 input, 4092 anchors, top 100, R 150)', async () => {
      const g = fixtureRpnGeometry();
      const input = { width: RPN_FIXTURE.input, height: RPN_FIXTURE.input };
      const { objectness, rpnDeltas } = fixtureRpnInputs();
      const decoded = await runRpnDecode(device, rpnDeltas, g, input);
      const top = await runRpnTopN(device, objectness, g, RPN_FIXTURE.preNmsTopN);
      const R = RPN_FIXTURE.postNmsTopN;
      const got = await runRpnProposalNms(device, decoded.boxes, decoded.valid, objectness, top, RPN_FIXTURE.preNmsTopN, RPN_FIXTURE.nmsIou, R);
      const n = RPN_FIXTURE_SCORES.length;
      const boxErr = maxAbsDiff(got.rois.subarray(0, 4 * n), RPN_FIXTURE_BOXES);
      const scoreErr = maxAbsDiff(got.scores.subarray(0, n), RPN_FIXTURE_SCORES);
      return {
        pass: got.count === n && boxErr <= 1e-3 && scoreErr <= 1e-6,
        maxAbsError: boxErr,
        detail: `${got.count} RoIs (torchvision ${n}), kept ${got.keptTotal}; box err ${boxErr.toExponential(2)}, score err ${scoreErr.toExponential(2)}`,
        ms: decoded.ms + top.ms + got.ms,
      };
    }],
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
    ['GPU roiPool = torchvision roi_pool (12 RoIs, 5x5)', async () => {
      const { level, rois } = fixtureRoiInputs();
      const c: RoiCase = {
        levels: [level], channels: ROI_FIXTURE.channels, rois, count: ROI_FIXTURE.numRois,
        params: { ...oneLevel, outSize: ROI_FIXTURE.outSize, samplingRatio: 0, aligned: false },
      };
      const { values, ms } = await runRoi(device, 'pool', c);
      const err = maxAbsDiff(values, ROI_POOL_FIXTURE);
      return { pass: err === 0, maxAbsError: err, detail: `${values.length} values`, ms };
    }],
  ]);
}
