/** Small pure-maths checks of the RPN / RoI references and the dispatch folding. */
import { describe, expect, it } from 'vitest';
import { baseAnchors, decodeBox, levelOffsets, roundHalfEven, rpnGeometry, BBOX_XFORM_CLIP } from '../../app/reference/rpnDecode';
import { roiLevelIndex } from '../../app/reference/roiAlign';
import { roundHalfAway } from '../../app/reference/roiPool';
import { linearDispatch } from '../../app/gpu/kernels/rpnDecode';

describe('rpnDecode reference', () => {
  it('rounds half to even (torch.round) and half away from zero (C round)', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 2, -3]);
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6].map(roundHalfAway)).toEqual([1, 2, 3, -1, -2, 2, -3]);
  });

  it('cell anchors: size 16 → [−11, −6, 11, 6], ±8, [−6, −11, 6, 11]; size 10 → ±5; size 5 → ±2.5 → ±2 (half to even)', () => {
    expect(baseAnchors(16, [0.5, 1, 2])).toEqual([
      [-11, -6, 11, 6],
      [-8, -8, 8, 8],
      [-6, -11, 6, 11],
    ]);
    expect(baseAnchors(10, [1])).toEqual([[-5, -5, 5, 5]]);
    // size 5, ratio 1: ±2.5 → half to even → ±2
    expect(baseAnchors(5, [1])).toEqual([[-2, -2, 2, 2]]);
  });

  it('512 model: 65472 anchors, level offsets 0, 49152, 61440, 64512, 65280', () => {
    const g = rpnGeometry({ width: 512, height: 512 }, [4, 8, 16, 32, 64], [16, 32, 64, 128, 256], [0.5, 1, 2]);
    expect(levelOffsets(g)).toEqual({ offsets: [0, 49152, 61440, 64512, 65280], counts: [49152, 12288, 3072, 768, 192], total: 65472 });
  });

  it('decode: zero deltas give the anchor; dw above log(1000/16) is clamped', () => {
    expect(decodeBox([2, 4, 18, 12], [0, 0, 0, 0])).toEqual([2, 4, 18, 12]);
    const [x1, , x2] = decodeBox([0, 0, 16, 16], [0, 0, 50, 0]);
    expect(x2 - x1).toBeCloseTo(16 * Math.exp(BBOX_XFORM_CLIP), 2); // 1000
  });
});

describe('FPN level of a RoI (canonical 224 at P4, P2..P5)', () => {
  const m = { canonicalScale: 224, canonicalLevel: 4, minLevel: 2, maxLevel: 5 };
  it.each([
    [[0, 0, 224, 224], 2],
    [[0, 0, 223, 224], 1],
    [[0, 0, 112, 112], 1],
    [[0, 0, 111.9, 112], 0],
    [[0, 0, 448, 448], 3],
    [[0, 0, 1, 1], 0],
    [[0, 0, 2000, 2000], 3],
    [[5, 5, 5, 9], 0],
    [[9, 9, 1, 1], 0], // both sides inverted: area +64 → √ 8 → P2, as the training code's product
  ])('%j → index %i', (box, want) => {
    expect(roiLevelIndex(box[0]!, box[1]!, box[2]!, box[3]!, m, 4)).toBe(want);
  });
  it('one feature map: always index 0', () => {
    expect(roiLevelIndex(0, 0, 448, 448, m, 1)).toBe(0);
  });
});

describe('linearDispatch', () => {
  it('stays 1D up to 65535 workgroups, then folds into 2D covering every invocation', () => {
    expect(linearDispatch(64 * 65535, 64)).toEqual([65535, 1]);
    for (const n of [64 * 65535 + 1, 4_390_400, 10_000_000]) {
      const [x, y] = linearDispatch(n, 64);
      expect(x).toBeLessThanOrEqual(65535);
      expect(x * y * 64).toBeGreaterThanOrEqual(n);
      expect(x * (y - 1) * 64).toBeLessThan(n);
    }
  });
});
