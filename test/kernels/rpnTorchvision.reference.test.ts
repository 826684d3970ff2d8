/**
 * The RPN and RoI references against torchvision itself (fixtures/rpnTorchvisionFixture.ts,
 * written by rpnTorchvisionFixture.py). The kernels are compared with the same fixture in
 * conformance/rpnTorchvision.ts.
 */
import { describe, expect, it } from 'vitest';
import { ANCHORS_512, ROI_ALIGN_FIXTURE, ROI_FIXTURE, ROI_POOL_FIXTURE, RPN_GEOMETRY } from './fixtures/rpnTorchvisionFixture';
import { rpnAnchors } from '../../app/reference/rpnDecode';
import { rpnProposalsReference } from '../../app/reference/rpnProposals';
import { roiAlignReference } from '../../app/reference/roiAlign';
import { roiPoolReference } from '../../app/reference/roiPool';
import { compareWithTorchvision, fixtureRoiInputs, fixtureRpnInputs, ROI_ALIGN_VARIANTS, RPN_FIXTURE_CASES } from './conformance/rpnTorchvision';
import { geometry512 } from './conformance/rpnData';
import { maxAbsDiff } from './conformance/common';

describe('references vs torchvision 0.14', () => {
  it('rpnAnchors = AnchorGenerator (512 model, 25 anchors incl. each level’s first three)', () => {
    const anchors = rpnAnchors(geometry512());
    for (const [i, ...box] of ANCHORS_512) expect(Array.from(anchors.subarray(4 * i!, 4 * i! + 4))).toEqual(box);
  });

  it.each(RPN_FIXTURE_CASES)('rpnProposalsReference = RegionProposalNetwork.filter_proposals ($input input, top $preNmsTopN, R $postNmsTopN)', (c) => {
    const { objectness, rpnDeltas } = fixtureRpnInputs(c);
    const config = {
      strides: RPN_GEOMETRY.strides,
      anchorSizes: RPN_GEOMETRY.sizes,
      anchorRatios: RPN_GEOMETRY.ratios,
      rpnPreNmsTopN: c.preNmsTopN,
      rpnPostNmsTopN: c.postNmsTopN,
      rpnNmsIou: RPN_GEOMETRY.nmsIou,
    };
    const got = rpnProposalsReference(objectness, rpnDeltas, config, { width: c.input, height: c.input });
    const cmp = compareWithTorchvision(got.rois, got.scores, got.count, c, 1e-4);
    console.log(`rpnProposalsReference vs torchvision (${c.input}): ${cmp.detail}`);
    expect(cmp.detail).toContain(' 0 unmatched');
    expect(cmp.pass).toBe(true);
  });

  it.each(ROI_ALIGN_VARIANTS)('roiAlignReference = roi_align (%s)', (key, aligned, samplingRatio) => {
    const { level, rois } = fixtureRoiInputs();
    const got = roiAlignReference([level], ROI_FIXTURE.channels, rois, ROI_FIXTURE.numRois, ROI_FIXTURE.numRois, {
      canonicalScale: 224,
      canonicalLevel: 4,
      minLevel: 2,
      maxLevel: 2,
      outSize: ROI_FIXTURE.outSize,
      samplingRatio,
      aligned,
    });
    expect(maxAbsDiff(got, ROI_ALIGN_FIXTURE[key]!)).toBeLessThanOrEqual(1e-6);
  });

  it('roiPoolReference = roi_pool', () => {
    const { level, rois } = fixtureRoiInputs();
    const got = roiPoolReference([level], ROI_FIXTURE.channels, rois, ROI_FIXTURE.numRois, ROI_FIXTURE.numRois, {
      canonicalScale: 224,
      canonicalLevel: 4,
      minLevel: 2,
      maxLevel: 2,
      outSize: ROI_FIXTURE.outSize,
    });
    expect(Array.from(got)).toEqual(ROI_POOL_FIXTURE);
  });
});
