/**
 * COCO run-length encoding (RLE) of binary masks, as the COCO tools define it.
 *
 * A mask of height h and width w is read in COLUMN-MAJOR order (down column 0, then
 * down column 1, …): pixel (x, y) has linear index x·h + y. `counts` alternates runs of
 * 0s and 1s and always starts with a run of 0s (possibly of length 0). The counts sum to
 * h·w.
 *
 * The compressed string form (COCO's `counts` string in JSON) writes each count as a
 * signed varint of 5-bit groups, least significant group first, each character = group
 * + 48, bit 0x20 of a group = "more groups follow", bit 0x10 of the last group = sign.
 * From the fourth count on (index i > 2) the value written is the difference with the
 * count two places back (the run of the same colour before); counts 0, 1 and 2 are
 * written as they are. (i > 2, not i ≥ 2: that is what the reference tools do.)
 *
 * Masks elsewhere in the app are row-major: `Uint8Array` of h·w with index y·w + x, or
 * the bit-packed `InstanceMasks` of app/types.ts.
 */
import type { InstanceMasks } from '../types';

/** Uncompressed RLE: `counts` alternate 0-runs and 1-runs, first run of 0s. */
export interface Rle {
  height: number;
  width: number;
  counts: number[];
}

/** COCO JSON form: `size` is [height, width], `counts` the compressed string. */
export interface CocoRle {
  size: [number, number];
  counts: string;
}

/** [x, y, width, height] in pixels, COCO's box convention. */
export type XywhBox = [number, number, number, number];

// ---------------------------------------------------------------------------
// Encode / decode
// ---------------------------------------------------------------------------

/** Encode a row-major binary mask `[height, width]` (non-zero = in the mask). */
export function encodeMask(mask: ArrayLike<number>, height: number, width: number): Rle {
  if (mask.length !== height * width) {
    throw new Error(`encodeMask: mask has ${mask.length} values, expected ${height}x${width}`);
  }
  const counts: number[] = [];
  let current = 0; // colour of the run being counted
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = mask[y * width + x]! !== 0 ? 1 : 0;
      if (v !== current) {
        counts.push(run);
        run = 0;
        current = v;
      }
      run++;
    }
  }
  counts.push(run);
  return { height, width, counts };
}

/**
 * Encode mask `index` of bit-packed `InstanceMasks` (`[N, height, wordsPerRow]` u32).
 * Only the columns and rows of the mask's bounding box are scanned; everything outside
 * is a 0-run, so the cost follows the mask's extent, not the image size.
 */
export function encodeInstanceMask(masks: InstanceMasks, index: number): Rle {
  const { width, height, wordsPerRow, bits } = masks;
  const base = index * height * wordsPerRow;
  if (base + height * wordsPerRow > bits.length) {
    throw new Error(`encodeInstanceMask: mask ${index} is outside the bit planes`);
  }
  // Rows and word columns that hold any set bit.
  let y0 = height;
  let y1 = -1;
  let w0 = wordsPerRow;
  let w1 = -1;
  for (let y = 0; y < height; y++) {
    const row = base + y * wordsPerRow;
    for (let k = 0; k < wordsPerRow; k++) {
      if (bits[row + k]! !== 0) {
        if (y < y0) y0 = y;
        y1 = y;
        if (k < w0) w0 = k;
        if (k > w1) w1 = k;
      }
    }
  }
  const x0 = w0 * 32;
  const x1 = Math.min(width - 1, w1 * 32 + 31);
  if (y1 < 0 || x0 > x1) return { height, width, counts: [height * width] };
  const counts: number[] = [];
  let current = 0;
  // Everything before column x0, row y0 is background.
  let run = x0 * height + y0;
  for (let x = x0; x <= x1; x++) {
    const word = x >>> 5;
    const bit = 1 << (x & 31);
    for (let y = y0; y <= y1; y++) {
      const v = (bits[base + y * wordsPerRow + word]! & bit) !== 0 ? 1 : 0;
      if (v !== current) {
        counts.push(run);
        run = 0;
        current = v;
      }
      run++;
    }
    // Rows outside [y0, y1] of this column (below, then above in the next column).
    if (x < x1) {
      const gap = height - 1 - y1 + y0;
      if (gap > 0) {
        if (current !== 0) {
          counts.push(run);
          run = 0;
          current = 0;
        }
        run += gap;
      }
    }
  }
  const tail = height - 1 - y1 + (width - 1 - x1) * height;
  if (tail > 0) {
    if (current !== 0) {
      counts.push(run);
      run = 0;
    }
    run += tail;
  }
  counts.push(run);
  return { height, width, counts };
}

/** Decode to a row-major `Uint8Array` `[height, width]` of 0/1. */
export function decodeRle(rle: Rle): Uint8Array {
  const { height, width, counts } = rle;
  const out = new Uint8Array(height * width);
  let p = 0; // column-major position
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (i % 2 === 1) {
      for (let q = p; q < p + n; q++) {
        const x = Math.floor(q / height);
        const y = q - x * height;
        out[y * width + x] = 1;
      }
    }
    p += n;
  }
  if (p !== height * width) {
    throw new Error(`decodeRle: counts sum to ${p}, expected ${height * width}`);
  }
  return out;
}

/** Number of mask pixels. */
export function rleArea(rle: Rle): number {
  let a = 0;
  for (let i = 1; i < rle.counts.length; i += 2) a += rle.counts[i]!;
  return a;
}

/**
 * Tight box [x, y, w, h] of the mask (COCO `toBbox`); [0, 0, 0, 0] for an empty mask.
 * A 1-run that crosses a column boundary covers the full height of the columns between.
 */
export function rleToBbox(rle: Rle): XywhBox {
  const h = rle.height;
  let xs = Infinity;
  let xe = -1;
  let ys = Infinity;
  let ye = -1;
  let p = 0;
  for (let i = 0; i < rle.counts.length; i++) {
    const n = rle.counts[i]!;
    if (i % 2 === 1 && n > 0) {
      const first = p;
      const last = p + n - 1;
      const cx0 = Math.floor(first / h);
      const cx1 = Math.floor(last / h);
      xs = Math.min(xs, cx0);
      xe = Math.max(xe, cx1);
      if (cx0 === cx1) {
        ys = Math.min(ys, first - cx0 * h);
        ye = Math.max(ye, last - cx1 * h);
      } else {
        ys = 0;
        ye = h - 1;
      }
    }
    p += n;
  }
  if (xe < 0) return [0, 0, 0, 0];
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}

// ---------------------------------------------------------------------------
// Set operations
// ---------------------------------------------------------------------------

/** |a ∩ b| by walking both run lists once. Masks must have the same size. */
export function rleIntersection(a: Rle, b: Rle): number {
  const ca = a.counts;
  const cb = b.counts;
  let ia = 0;
  let ib = 0;
  let la = ca[0] ?? 0; // pixels left in the current run of a
  let lb = cb[0] ?? 0;
  let va = 0; // colour of that run
  let vb = 0;
  let inter = 0;
  while (ia < ca.length && ib < cb.length) {
    const step = Math.min(la, lb);
    if (va === 1 && vb === 1) inter += step;
    la -= step;
    lb -= step;
    if (la === 0) {
      ia++;
      la = ca[ia] ?? 0;
      va ^= 1;
    }
    if (lb === 0) {
      ib++;
      lb = cb[ib] ?? 0;
      vb ^= 1;
    }
  }
  return inter;
}

/** Merge by union (`intersect` false) or intersection (true), as COCO `merge`. */
export function rleMerge(rles: Rle[], intersect = false): Rle {
  if (rles.length === 0) throw new Error('rleMerge: no masks');
  const { height, width } = rles[0]!;
  const acc = decodeRle(rles[0]!);
  for (let k = 1; k < rles.length; k++) {
    const m = decodeRle(rles[k]!);
    for (let i = 0; i < acc.length; i++) acc[i] = intersect ? acc[i]! & m[i]! : acc[i]! | m[i]!;
  }
  return encodeMask(acc, height, width);
}

/**
 * IoU of each detection mask with each ground-truth mask, `[D, G]` row-major
 * (entry d·G + g). For a crowd ground truth the denominator is the detection's area
 * (|D∩G| / |D|). A zero denominator gives 0.
 */
export function rleIou(dts: Rle[], gts: Rle[], iscrowd: ArrayLike<boolean | number>): Float64Array {
  const D = dts.length;
  const G = gts.length;
  const out = new Float64Array(D * G);
  if (D === 0 || G === 0) return out;
  const dArea = dts.map(rleArea);
  const gArea = gts.map(rleArea);
  const dBox = dts.map(rleToBbox);
  const gBox = gts.map(rleToBbox);
  for (let d = 0; d < D; d++) {
    for (let g = 0; g < G; g++) {
      if (dts[d]!.height !== gts[g]!.height || dts[d]!.width !== gts[g]!.width) {
        throw new Error('rleIou: masks of different sizes');
      }
      // Disjoint boxes: no pixel in common, skip the run walk.
      if (boxIntersection(dBox[d]!, gBox[g]!) <= 0) continue;
      const inter = rleIntersection(dts[d]!, gts[g]!);
      const union = iscrowd[g] ? dArea[d]! : dArea[d]! + gArea[g]! - inter;
      out[d * G + g] = union > 0 ? inter / union : 0;
    }
  }
  return out;
}

function boxIntersection(a: XywhBox, b: XywhBox): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * IoU of xywh boxes `[D, G]`, COCO's `bbIou`: no +1 on widths; crowd ground truth → the
 * detection box's area as denominator; zero denominator → 0.
 */
export function boxIou(dts: XywhBox[], gts: XywhBox[], iscrowd: ArrayLike<boolean | number>): Float64Array {
  const D = dts.length;
  const G = gts.length;
  const out = new Float64Array(D * G);
  for (let d = 0; d < D; d++) {
    const a = dts[d]!;
    const da = a[2] * a[3];
    for (let g = 0; g < G; g++) {
      const b = gts[g]!;
      const inter = boxIntersection(a, b);
      if (inter <= 0) continue;
      const union = iscrowd[g] ? da : da + b[2] * b[3] - inter;
      out[d * G + g] = union > 0 ? inter / union : 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Compressed string form
// ---------------------------------------------------------------------------

/** COCO's compressed `counts` string. */
export function compressCounts(counts: readonly number[]): string {
  const chars: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i]!;
    if (i > 2) x -= counts[i - 2]!;
    let more = true;
    while (more) {
      const group = ((x % 32) + 32) % 32; // low 5 bits, two's complement
      x = Math.floor(x / 32); // arithmetic shift right by 5
      // Stop once the rest is only sign extension of the group's top bit.
      more = (group & 0x10) !== 0 ? x !== -1 : x !== 0;
      chars.push((more ? group | 0x20 : group) + 48);
    }
  }
  // Chunked: a spread of a very long array would overflow the argument limit.
  let out = '';
  for (let i = 0; i < chars.length; i += 8192) out += String.fromCharCode(...chars.slice(i, i + 8192));
  return out;
}

/** Inverse of `compressCounts`. */
export function decompressCounts(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let scale = 1; // 32^k
    let more = true;
    while (more) {
      if (p >= s.length) throw new Error('decompressCounts: truncated string');
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`decompressCounts: bad character at ${p}`);
      x += (c & 0x1f) * scale;
      more = (c & 0x20) !== 0;
      p++;
      scale *= 32;
      if (!more && (c & 0x10) !== 0) x -= scale; // negative: sign-extend
    }
    if (counts.length > 2) x += counts[counts.length - 2]!;
    counts.push(x);
  }
  return counts;
}

/** To COCO's JSON form {size: [h, w], counts: string}. */
export function toCocoRle(rle: Rle): CocoRle {
  return { size: [rle.height, rle.width], counts: compressCounts(rle.counts) };
}

/** From COCO's JSON form; `counts` may be the compressed string or a plain array. */
export function fromCocoRle(coco: { size: [number, number] | number[]; counts: string | number[] }): Rle {
  const [height, width] = coco.size as [number, number];
  const counts = typeof coco.counts === 'string' ? decompressCounts(coco.counts) : coco.counts.slice();
  let sum = 0;
  for (const c of counts) sum += c;
  if (sum !== height * width) {
    throw new Error(`RLE counts sum to ${sum}, expected ${height}x${width} = ${height * width}`);
  }
  return { height, width, counts };
}
