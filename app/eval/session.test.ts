import { describe, expect, it } from 'vitest';
import type { FrameResult, InstanceMasks } from '../types';
import { loadCocoGroundTruth } from './dataset';
import { EvalSession } from './session';
import { encodeMask, toCocoRle } from './rle';

// 1 image 8x4 (w x h) with one GT: the 3x2 block at x 1..3, y 1..2.
const gtMask = new Uint8Array(32);
for (let y = 1; y <= 2; y++) for (let x = 1; x <= 3; x++) gtMask[y * 8 + x] = 1;
const gtJson = {
  images: [
    { id: 3, file_name: 'x.jpg', width: 8, height: 4 },
    { id: 4, file_name: 'y.jpg', width: 8, height: 4 },
  ],
  categories: [{ id: 5, name: 'cat' }],
  annotations: [
    { id: 1, image_id: 3, category_id: 5, bbox: [1, 1, 3, 2], area: 6, iscrowd: 0, segmentation: toCocoRle(encodeMask(gtMask, 4, 8)) },
    { id: 2, image_id: 4, category_id: 5, bbox: [1, 1, 3, 2], area: 6, iscrowd: 0, segmentation: toCocoRle(encodeMask(gtMask, 4, 8)) },
  ],
};

function frameWith(boxW: number): { frame: FrameResult; masks: InstanceMasks } {
  // One detection covering x 1..boxW, y 1..2, as bits of one u32 word per row.
  const bits = new Uint32Array(4);
  let row = 0;
  for (let x = 1; x <= boxW; x++) row |= 1 << x;
  bits[1] = row;
  bits[2] = row;
  return {
    frame: {
      imageWidth: 8,
      imageHeight: 4,
      maskWidth: 8,
      maskHeight: 4,
      bytesReadBack: 0,
      path: 'wasm',
      timings: { source: 'cpu' },
      detections: [{ box: [1, 1, boxW + 1, 3], score: 0.9, classIndex: 0, maskArea: 2 * boxW }],
    },
    masks: { width: 8, height: 4, wordsPerRow: 1, bits },
  };
}

describe('EvalSession', () => {
  it('evaluates only the images added, all three types', () => {
    const s = new EvalSession(loadCocoGroundTruth(gtJson));
    expect(s.imageIdOf('x.jpg')).toBe(3);
    const { frame, masks } = frameWith(3);
    s.addFrame(3, frame, masks, { categoryIds: [5] });
    const r = s.evaluate();
    expect(r.imagesEvaluated).toBe(1); // image 4 not run yet: its GT is not counted
    expect(r.mask!.summary.ap).toBeCloseTo(1, 12);
    expect(r.box!.summary.ap).toBeCloseTo(1, 12);
    expect(r.boundary!.summary.ap).toBeCloseTo(1, 12);
    // Image 4: a 2-wide detection, mask IoU 4/6 → matches .50–.65 (4 of 10 thresholds).
    const second = frameWith(2);
    s.addFrame(4, second.frame, second.masks, { categoryIds: [5] });
    const r2 = s.evaluate(['segm']);
    // Both TPs at .50–.65 (AP 1 there: 4 thresholds); above, one TP of 2 GTs with the
    // first-ranked detection (equal scores: image 3 first) → precision 1 to recall .5
    // → 51/101 for the 6 other thresholds.
    expect(r2.mask!.summary.ap).toBeCloseTo((4 + (6 * 51) / 101) / 10, 12);
    expect(r2.box).toBeUndefined();
    expect(() => s.addFrame(4, second.frame, second.masks, {})).toThrow(/already/);
    expect(() => s.addFrame(9, second.frame, second.masks, {})).toThrow(/not in the ground truth/);
  });
});
