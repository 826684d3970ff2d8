import { describe, expect, it } from 'vitest';
import type { InstanceMasks } from '../types';
import { polygonToRle } from './polygon';
import {
  boxIou,
  compressCounts,
  decodeRle,
  decompressCounts,
  encodeInstanceMask,
  encodeMask,
  fromCocoRle,
  rleArea,
  rleIntersection,
  rleIou,
  rleMerge,
  rleToBbox,
  toCocoRle,
} from './rle';

/** Row-major mask from rows of '0'/'1'. */
function maskOf(rows: string[]): { mask: Uint8Array; h: number; w: number } {
  const h = rows.length;
  const w = rows[0]!.length;
  const mask = new Uint8Array(h * w);
  rows.forEach((r, y) => [...r].forEach((c, x) => (mask[y * w + x] = c === '1' ? 1 : 0)));
  return { mask, h, w };
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random blob-ish mask: a few filled rectangles. */
function randomMask(h: number, w: number, rand: () => number): Uint8Array {
  const m = new Uint8Array(h * w);
  const n = Math.floor(rand() * 4);
  for (let k = 0; k < n; k++) {
    const x0 = Math.floor(rand() * w);
    const y0 = Math.floor(rand() * h);
    const x1 = Math.min(w, x0 + 1 + Math.floor(rand() * w));
    const y1 = Math.min(h, y0 + 1 + Math.floor(rand() * h));
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * w + x] = 1;
  }
  // Salt: isolated pixels make many short runs.
  for (let k = 0; k < 5; k++) if (rand() < 0.5) m[Math.floor(rand() * h * w)] = 1;
  return m;
}

function pack(masks: Uint8Array[], h: number, w: number): InstanceMasks {
  const wordsPerRow = Math.ceil(w / 32);
  const bits = new Uint32Array(masks.length * h * wordsPerRow);
  masks.forEach((m, n) => {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (m[y * w + x]) bits[(n * h + y) * wordsPerRow + (x >>> 5)]! |= 1 << (x & 31);
  });
  return { width: w, height: h, wordsPerRow, bits };
}

describe('RLE encode/decode', () => {
  it('encodes a 3x3 mask column by column', () => {
    // column 0: 0 0 0 | column 1: 1 1 0 | column 2: 0 1 0  → 000 110 010
    const { mask, h, w } = maskOf(['010', '011', '000']);
    const rle = encodeMask(mask, h, w);
    expect(rle.counts).toEqual([3, 2, 2, 1, 1]);
    expect(rleArea(rle)).toBe(3);
    expect(rleToBbox(rle)).toEqual([1, 0, 2, 2]);
    expect([...decodeRle(rle)]).toEqual([...mask]);
  });

  it('starts with a zero-length 0-run when pixel (0, 0) is set', () => {
    // 2x4, column-major: col0 = 1 1, col1 = 1 0, col2 = 0 0, col3 = 0 1 → 11 10 00 01
    const { mask, h, w } = maskOf(['1100', '1001']);
    expect(encodeMask(mask, h, w).counts).toEqual([0, 3, 4, 1]);
    expect(rleToBbox(encodeMask(mask, h, w))).toEqual([0, 0, 4, 2]);
  });

  it('handles the empty and the full mask', () => {
    expect(encodeMask(new Uint8Array(6), 2, 3).counts).toEqual([6]);
    expect(encodeMask(new Uint8Array(6).fill(1), 2, 3).counts).toEqual([0, 6]);
    expect(rleToBbox({ height: 2, width: 3, counts: [6] })).toEqual([0, 0, 0, 0]);
    expect(rleToBbox({ height: 2, width: 3, counts: [0, 6] })).toEqual([0, 0, 3, 2]);
  });

  it('bbox of a run that wraps to the next column spans the full height', () => {
    // h=4, w=3: one 1-run from column 0 row 3 to column 1 row 0 → pixels (0,3), (1,0)
    const rle = { height: 4, width: 3, counts: [3, 2, 7] };
    expect(rleToBbox(rle)).toEqual([0, 0, 2, 4]);
    const dec = decodeRle(rle);
    expect(dec[3 * 3 + 0]).toBe(1);
    expect(dec[0 * 3 + 1]).toBe(1);
    expect(rleArea(rle)).toBe(2);
  });

  it('round-trips random masks and matches the bit-packed encoder', () => {
    const rand = rng(7);
    for (let trial = 0; trial < 40; trial++) {
      const h = 1 + Math.floor(rand() * 40);
      const w = 1 + Math.floor(rand() * 70); // crosses 32-bit word edges
      const masks = [randomMask(h, w, rand), randomMask(h, w, rand), new Uint8Array(h * w)];
      const packed = pack(masks, h, w);
      masks.forEach((m, n) => {
        const rle = encodeMask(m, h, w);
        let sum = 0;
        for (const c of rle.counts) sum += c;
        expect(sum).toBe(h * w);
        for (let i = 1; i < rle.counts.length; i++) expect(rle.counts[i]).toBeGreaterThan(0);
        expect([...decodeRle(rle)]).toEqual([...m]);
        expect(encodeInstanceMask(packed, n).counts).toEqual(rle.counts);
        expect(rleArea(rle)).toBe(m.reduce((s, v) => s + v, 0));
        // bbox by brute force
        let xs = w,
          ys = h,
          xe = -1,
          ye = -1;
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++)
            if (m[y * w + x]) {
              xs = Math.min(xs, x);
              xe = Math.max(xe, x);
              ys = Math.min(ys, y);
              ye = Math.max(ye, y);
            }
        // COCO's toBbox widens to the full height when a run wraps columns; compare
        // against the brute-force box only for x, and y when the box is 1 column wide
        // or no run wraps (checked by the dedicated test above).
        const box = rleToBbox(rle);
        if (xe < 0) expect(box).toEqual([0, 0, 0, 0]);
        else {
          expect(box[0]).toBe(xs);
          expect(box[2]).toBe(xe - xs + 1);
          expect(box[1]).toBeLessThanOrEqual(ys);
          expect(box[1] + box[3]).toBeGreaterThanOrEqual(ye + 1);
        }
      });
    }
  });
});

describe('compressed counts string', () => {
  it('matches a hand-derived string', () => {
    // [3, 2, 2, 1, 1]: first three written as is → '3' '2' '2'; then 1−2 = −1 twice:
    // −1 = group 0b11111 (31) with the sign bit set and nothing left → 31 + 48 = 'O'.
    expect(compressCounts([3, 2, 2, 1, 1])).toBe('322OO');
    // 100 = 3·32 + 4 → group 4 with 'more' (4|32 = 36 → 'T'), then 3 → '3'.
    expect(compressCounts([100])).toBe('T3');
    // 16 has bit 0x10 set, so a second group is needed to keep it positive:
    // (16|32)+48 = 96 '`', then 0 → '0'.
    expect(compressCounts([16])).toBe('`0');
    // i = 2 is written as is (no delta): [5, 1, 40] → '5', '1', 40 = 1·32 + 8 → (8|32)+48 = 'X', '1'.
    expect(compressCounts([5, 1, 40])).toBe('51X1');
    // i = 3 is a delta against i = 1: [5, 1, 40, 33] → 33 − 1 = 32 → (0|32)+48 = 'P', '1'.
    expect(compressCounts([5, 1, 40, 33])).toBe('51X1P1');
    // negative delta needing two groups: [0, 100, 0, 20] → i=3: 20 − 100 = −80
    // −80 = −3·32 + 16 → group 16 with more (x = −3 ≠ −1): (16|32)+48 = '`';
    // then −3 → group 29 (0b11101, sign set), x = −1 → stop: 29 + 48 = 'M'.
    expect(compressCounts([0, 100, 0, 20])).toBe('0T30`M');
  });

  it('decompresses what it compresses (random counts, large values)', () => {
    const rand = rng(3);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rand() * 30);
      const counts = Array.from({ length: n }, (_, i) => (i === 0 ? 0 : 1) + Math.floor(rand() ** 3 * 5_000_000));
      expect(decompressCounts(compressCounts(counts))).toEqual(counts);
    }
    expect(decompressCounts('322OO')).toEqual([3, 2, 2, 1, 1]);
    expect(decompressCounts('0T30`M')).toEqual([0, 100, 0, 20]);
  });

  it('converts to and from the COCO JSON form', () => {
    const { mask, h, w } = maskOf(['010', '011', '000']);
    const coco = toCocoRle(encodeMask(mask, h, w));
    expect(coco).toEqual({ size: [3, 3], counts: '322OO' });
    expect(fromCocoRle(coco).counts).toEqual([3, 2, 2, 1, 1]);
    expect(fromCocoRle({ size: [3, 3], counts: [3, 2, 2, 1, 1] }).counts).toEqual([3, 2, 2, 1, 1]);
    expect(() => fromCocoRle({ size: [3, 4], counts: '322OO' })).toThrow(/sum/);
  });
});

describe('IoU', () => {
  it('mask IoU and crowd IoU on a hand case', () => {
    // D: 4 pixels (2x2 square at top-left); G: 6 pixels (2x3 at top), overlap 4.
    const d = encodeMask(maskOf(['1100', '1100', '0000']).mask, 3, 4);
    const g = encodeMask(maskOf(['1110', '1110', '0000']).mask, 3, 4);
    expect(rleIntersection(d, g)).toBe(4);
    const iou = rleIou([d], [g, g], [false, true]);
    expect(iou[0]).toBeCloseTo(4 / 6, 15);
    expect(iou[1]).toBe(1); // crowd: |D∩G| / |D| = 4 / 4
    const empty = encodeMask(new Uint8Array(12), 3, 4);
    expect([...rleIou([empty], [g], [false])]).toEqual([0]);
  });

  it('matches brute force on random masks', () => {
    const rand = rng(11);
    const h = 23;
    const w = 37;
    const ms = Array.from({ length: 8 }, () => randomMask(h, w, rand));
    const rles = ms.map((m) => encodeMask(m, h, w));
    const crowd = [false, true, false, false];
    const iou = rleIou(rles.slice(0, 4), rles.slice(4), crowd);
    for (let d = 0; d < 4; d++)
      for (let g = 0; g < 4; g++) {
        let i = 0,
          a = 0,
          b = 0;
        for (let p = 0; p < h * w; p++) {
          i += ms[d]![p]! & ms[4 + g]![p]!;
          a += ms[d]![p]!;
          b += ms[4 + g]![p]!;
        }
        const u = crowd[g] ? a : a + b - i;
        expect(iou[d * 4 + g]).toBeCloseTo(u > 0 ? i / u : 0, 12);
      }
  });

  it('box IoU (no +1) and crowd boxes', () => {
    const iou = boxIou(
      [[0, 0, 10, 10]],
      [
        [5, 0, 10, 10],
        [0, 0, 20, 20],
        [20, 20, 5, 5],
      ],
      [false, true, false],
    );
    expect(iou[0]).toBeCloseTo(50 / 150, 15);
    expect(iou[1]).toBe(1);
    expect(iou[2]).toBe(0);
  });

  it('merge = union of masks', () => {
    const a = encodeMask(maskOf(['10', '00']).mask, 2, 2);
    const b = encodeMask(maskOf(['00', '01']).mask, 2, 2);
    expect(rleMerge([a, b]).counts).toEqual([0, 1, 2, 1]);
    expect(rleMerge([a, b], true).counts).toEqual([4]);
  });
});

describe('polygons', () => {
  it('an axis-aligned rectangle covers the pixels whose centres are inside', () => {
    // Square with corners (1, 1) and (4, 3): pixel centres x+0.5 in (1, 4) → x = 1..3,
    // y+0.5 in (1, 3) → y = 1..2.
    const rle = polygonToRle([1, 1, 4, 1, 4, 3, 1, 3], 5, 6);
    const m = decodeRle(rle);
    const expected = maskOf(['000000', '011100', '011100', '000000', '000000']).mask;
    expect([...m]).toEqual([...expected]);
    expect(rleToBbox(rle)).toEqual([1, 1, 3, 2]);
  });

  it('a triangle: area close to the polygon area', () => {
    const rle = polygonToRle([0, 0, 40, 0, 0, 40], 50, 50);
    expect(Math.abs(rleArea(rle) - 800)).toBeLessThan(45);
    const m = decodeRle(rle);
    expect(m[5 * 50 + 5]).toBe(1); // well inside
    expect(m[35 * 50 + 35]).toBe(0); // outside the hypotenuse
  });
});
