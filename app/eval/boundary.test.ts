import { describe, expect, it } from 'vitest';
import { boundaryIou, boundaryWidth, maskBoundary, rleBoundary } from './boundary';
import { decodeRle, encodeMask } from './rle';

/**
 * Independent oracle, straight from the definition: a mask pixel is on the boundary iff
 * some pixel within Chebyshev distance d is outside the mask or outside the image.
 */
function boundaryByDefinition(m: Uint8Array, h: number, w: number, d: number): Uint8Array {
  const out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (!m[y * w + x]) continue;
      let edge = false;
      for (let dy = -d; dy <= d && !edge; dy++)
        for (let dx = -d; dx <= d && !edge; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || yy >= h || xx < 0 || xx >= w || !m[yy * w + xx]) edge = true;
        }
      out[y * w + x] = edge ? 1 : 0;
    }
  return out;
}

describe('boundary', () => {
  it('width d = max(1, round(0.02 · diagonal)), Python rounding (ties to even)', () => {
    expect(boundaryWidth(480, 640)).toBe(16); // diagonal 800 → 16
    expect(boundaryWidth(100, 100)).toBe(3); // 141.42 · 0.02 = 2.83 → 3
    expect(boundaryWidth(20, 20)).toBe(1); // 0.57 → 1 → max(1, ·)
    expect(boundaryWidth(75, 100)).toBe(2); // diagonal 125 → 2.5 → 2 (half to even)
    expect(boundaryWidth(105, 140)).toBe(4); // diagonal 175 → 3.5 → 4
  });

  it('a full 5x5 mask: ring of 16 at d = 1, all but the centre at d = 2', () => {
    const full = new Uint8Array(25).fill(1);
    const b1 = maskBoundary(full, 5, 5, 1);
    expect(b1.reduce((s, v) => s + v, 0)).toBe(16);
    expect(b1[12]).toBe(0);
    expect(b1[6]).toBe(0);
    expect(b1[0]).toBe(1);
    const b2 = maskBoundary(full, 5, 5, 2);
    expect(b2.reduce((s, v) => s + v, 0)).toBe(24);
    expect(b2[12]).toBe(0);
  });

  it('matches the definition on random masks (full-frame and box-cropped paths)', () => {
    let seed = 42;
    const rand = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let trial = 0; trial < 30; trial++) {
      const h = 5 + Math.floor(rand() * 30);
      const w = 5 + Math.floor(rand() * 30);
      const m = new Uint8Array(h * w);
      const x0 = Math.floor(rand() * w);
      const y0 = Math.floor(rand() * h);
      const x1 = x0 + Math.floor(rand() * (w - x0));
      const y1 = y0 + Math.floor(rand() * (h - y0));
      for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m[y * w + x] = rand() < 0.85 ? 1 : 0;
      const d = 1 + Math.floor(rand() * 3);
      const expected = boundaryByDefinition(m, h, w, d);
      expect([...maskBoundary(m, h, w, d)]).toEqual([...expected]);
      expect([...decodeRle(rleBoundary(encodeMask(m, h, w), d))]).toEqual([...expected]);
    }
  });

  it('boundary IoU of a mask with itself is 1, of a shifted square by hand', () => {
    // 20x20 image (d = 1), squares 6x6 at x = 2 and x = 3, both y = 2..7.
    const h = 20;
    const w = 20;
    const sq = (x0: number): Uint8Array => {
      const m = new Uint8Array(h * w);
      for (let y = 2; y < 8; y++) for (let x = x0; x < x0 + 6; x++) m[y * w + x] = 1;
      return m;
    };
    const a = encodeMask(sq(2), h, w);
    const b = encodeMask(sq(3), h, w);
    expect(boundaryIou(a, a)).toBe(1);
    // Each boundary = 20-pixel ring. Ring A: columns 2 and 7 full (rows 2..7), rows 2
    // and 7 (cols 2..7). Ring B: columns 3, 8 full, rows 2, 7 (cols 3..8).
    // Common: rows 2 and 7 at cols 3..7 (10) + column 7 rows 3..6 (in A's column 7;
    // in B? column 7 rows 3..6 is B's interior → no) + column 3 rows 3..6 (in B's
    // column 3; A's interior → no) → 10. Union = 20 + 20 − 10 = 30.
    expect(boundaryIou(a, b)).toBeCloseTo(10 / 30, 15);
  });

  it('an empty mask has an empty boundary', () => {
    const e = encodeMask(new Uint8Array(12), 3, 4);
    expect(rleBoundary(e, 1).counts).toEqual([12]);
    expect(boundaryIou(e, e)).toBe(0);
  });
});
