/**
 * The RPN and RoI references against torchvision itself (app/reference/rpnTorchvisionFixture.ts,
 * written by rpnTorchvisionFixture.py). The kernels are compared with the same fixture in
 * app/gpu/kernels/conformance/rpnTorchvision.ts.
 */
import { describe, expect, it } from 'vitest';
import { ANCHORS_512, ROI_ALIGN_FIXTURE, ROI_FIXTURE, ROI_POOL_FIXTURE, RPN_FIXTURE, RPN_FIXTURE_BOXES, RPN_FIXTURE_SCORES } from './rpnTorchvisionFixture';
import { rpnAnchors } from './rpnDecode';
import { rpnProposalsReference } from './rpnProposals';
import { roiAlignReference } from './roiAlign';
import { roiPoolReference } from './roiPool';
import { fixtureRoiInputs, fixtureRpnInputs, ROI_ALIGN_VARIANTS } from '../gpu/kernels/conformance/rpnTorchvision';
import { geometry512 } from '../gpu/kernels/conformance/rpnData';
import { maxAbsDiff } from '../gpu/kernels/conformance/common';

describe('references vs torchvision 0.14', () => {
  it('rpnAnchors = AnchorGenerator (512 model, 25 anchors incl. each level’s first three)', () => {
    const anchors = rpnAnchors(geometry512());
    for (const [i, ...box] of ANCHORS_512) expect(Array.from(anchors.subarray(4 * i!, 4 * i! + 4))).toEqual(box);
  });

  it('rpnProposalsReference = RegionProposalNetwork.filter_proposals', () => {
    const { objectness, rpnDeltas } = fixtureRpnInputs();
    const input = { width: RPN_FIXTURE.input, height: RPN_FIXTURE.input };
    const config = {
      strides: RPN_FIXTURE.strides, anchorSizes: RPN_FIXTURE.sizes, anchorRatios: RPN_FIXTURE.ratios,
      rpnPreNmsTopN: RPN_FIXTURE.preNmsTopN, rpnPostNmsTopN: RPN_FIXTURE.postNmsTopN, rpnNmsIou: RPN_FIXTURE.nmsIou,
    };
    const got = rpnProposalsReference(objectness, rpnDeltas, config, input);
    const n = RPN_FIXTURE_SCORES.length;
    expect(got.count).toBe(n);
    const boxErr = maxAbsDiff(got.rois.subarray(0, 4 * n), RPN_FIXTURE_BOXES);
    const scoreErr = maxAbsDiff(got.scores.subarray(0, n), RPN_FIXTURE_SCORES);
    console.log(`rpnProposalsReference vs torchvision: ${n} proposals, box err ${boxErr.toExponential(2)}, score err ${scoreErr.toExponential(2)}`);
    expect(boxErr).toBeLessThanOrEqual(1e-4);
    expect(scoreErr).toBeLessThanOrEqual(1e-6);
  });

  it.each(ROI_ALIGN_VARIANTS)('roiAlignReference = roi_align (%s)', (key, aligned, samplingRatio) => {
    const { level, rois } = fixtureRoiInputs();
    const got = roiAlignReference([level], ROI_FIXTURE.channels, rois, ROI_FIXTURE.numRois, ROI_FIXTURE.numRois, {
      canonicalScale: 224, canonicalLevel: 4, minLevel: 2, maxLevel: 2, outSize: ROI_FIXTURE.outSize, samplingRatio, aligned,
    });
    expect(maxAbsDiff(got, ROI_ALIGN_FIXTURE[key]!)).toBeLessThanOrEqual(1e-6);
  });

  it('roiPoolReference = roi_pool', () => {
    const { level, rois } = fixtureRoiInputs();
    const got = roiPoolReference([level], ROI_FIXTURE.channels, rois, ROI_FIXTURE.numRois, ROI_FIXTURE.numRois, {
      canonicalScale: 224, canonicalLevel: 4, minLevel: 2, maxLevel: 2, outSize: ROI_FIXTURE.outSize,
    });
    expect(Array.from(got)).toEqual(ROI_POOL_FIXTURE);
  });
});
