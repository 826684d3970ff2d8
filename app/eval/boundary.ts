/**
 * Boundary IoU (Cheng et al., "Boundary IoU: Improving Object-Centric Image Segmentation
 * Evaluation", CVPR 2021), as specified in shared/MODELS.md §6.
 *
 * A mask's boundary is the set of its pixels within Chebyshev distance d of a non-mask
 * pixel or of the image frame, d = max(1, round(0.02 · √(H² + W²))) with the image size
 * (round = Python's round, half to even). Equivalently: pad the mask with one row/column
 * of 0 on each side, erode d times with a 3x3 square, and remove the eroded interior.
 * Boundary IoU = |B(D) ∩ B(G)| / |B(D) ∪ B(G)|.
 *
 * The erosion by a (2d+1)² square is separable: a pixel is interior iff its horizontal
 * run of 1s reaches d pixels both ways, and that is true for the d rows above and below.
 * Everything outside a mask's box is 0, so the work is done on the box only.
 */
import { rleIntersection, rleArea, rleToBbox, type Rle } from './rle';

/** Fraction of the image diagonal used as the boundary width (the paper's default). */
export const BOUNDARY_DILATION_RATIO = 0.02;

/** Python 3 `round` (ties to even) for the non-negative values used here. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  if (Math.abs(v - Math.trunc(v)) === 0.5) return 2 * Math.round(v / 2);
  return r;
}

/** Boundary width d in pixels for an image of this size. */
export function boundaryWidth(height: number, width: number, ratio = BOUNDARY_DILATION_RATIO): number {
  return Math.max(1, roundHalfEven(ratio * Math.sqrt(height * height + width * width)));
}

/**
 * Boundary of a row-major binary mask `[h, w]` (non-zero = mask), returned as 0/1
 * `[h, w]`. Straightforward on the full frame; `rleBoundary` is the fast path.
 */
export function maskBoundary(mask: ArrayLike<number>, h: number, w: number, d = boundaryWidth(h, w)): Uint8Array {
  const bin = new Uint8Array(h * w);
  for (let i = 0; i < h * w; i++) bin[i] = mask[i]! !== 0 ? 1 : 0;
  const interior = erodeSquare(bin, h, w, d);
  const out = new Uint8Array(h * w);
  for (let i = 0; i < h * w; i++) out[i] = bin[i]! & (interior[i]! ^ 1);
  return out;
}

/**
 * Erosion of a 0/1 image `[h, w]` by a (2d+1)² square, pixels outside the image = 0.
 * Returns 0/1 `[h, w]`.
 */
export function erodeSquare(bin: Uint8Array, h: number, w: number, d: number): Uint8Array {
  // Horizontal pass: 1 where the row run of 1s reaches d pixels left and right.
  const horiz = new Uint8Array(h * w);
  const left = new Int32Array(w);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let run = 0;
    for (let x = 0; x < w; x++) {
      run = bin[o + x] ? run + 1 : 0;
      left[x] = run; // ones ending at x, x included
    }
    run = 0;
    for (let x = w - 1; x >= 0; x--) {
      run = bin[o + x] ? run + 1 : 0;
      horiz[o + x] = left[x]! > d && run > d ? 1 : 0;
    }
  }
  // Vertical pass on the horizontal result.
  const out = new Uint8Array(h * w);
  const up = new Int32Array(h);
  for (let x = 0; x < w; x++) {
    let run = 0;
    for (let y = 0; y < h; y++) {
      run = horiz[y * w + x] ? run + 1 : 0;
      up[y] = run;
    }
    run = 0;
    for (let y = h - 1; y >= 0; y--) {
      run = horiz[y * w + x] ? run + 1 : 0;
      out[y * w + x] = up[y]! > d && run > d ? 1 : 0;
    }
  }
  return out;
}

/**
 * Boundary of an RLE mask as an RLE of the same size. Works on the mask's box: outside
 * it everything is 0, which erodes exactly like the image frame does.
 */
export function rleBoundary(rle: Rle, d = boundaryWidth(rle.height, rle.width)): Rle {
  const { height, width } = rle;
  const [bx, by, bw, bh] = rleToBbox(rle);
  if (bw === 0 || bh === 0) return { height, width, counts: [height * width] };
  // Decode the box region `[bh, bw]` row-major.
  const crop = new Uint8Array(bh * bw);
  let p = 0;
  const counts = rle.counts;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (i % 2 === 1) {
      // The run, column piece by column piece.
      let q = p;
      let left = n;
      while (left > 0) {
        const x = Math.floor(q / height);
        const y = q - x * height;
        const len = Math.min(left, height - y);
        for (let yy = y; yy < y + len; yy++) crop[(yy - by) * bw + (x - bx)] = 1;
        q += len;
        left -= len;
      }
    }
    p += n;
  }
  const interior = erodeSquare(crop, bh, bw, d);
  for (let i = 0; i < crop.length; i++) crop[i] = crop[i]! & (interior[i]! ^ 1);
  return encodeRegion(crop, bx, by, bw, bh, height, width);
}

/** RLE of a `[height, width]` mask that is 0 outside the box region `crop` `[bh, bw]`. */
export function encodeRegion(crop: Uint8Array, bx: number, by: number, bw: number, bh: number, height: number, width: number): Rle {
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  const zeros = (n: number): void => {
    if (n <= 0) return;
    if (current !== 0) {
      counts.push(run);
      run = 0;
      current = 0;
    }
    run += n;
  };
  zeros(bx * height + by);
  for (let x = 0; x < bw; x++) {
    if (x > 0) zeros(height - bh);
    for (let y = 0; y < bh; y++) {
      const v = crop[y * bw + x]!;
      if (v !== current) {
        counts.push(run);
        run = 0;
        current = v;
      }
      run++;
    }
  }
  zeros(height - by - bh + (width - bx - bw) * height);
  counts.push(run);
  return { height, width, counts };
}

/** Boundary IoU of two boundaries (already computed with `rleBoundary`). */
export function boundaryIouOfBoundaries(a: Rle, b: Rle): number {
  const inter = rleIntersection(a, b);
  const union = rleArea(a) + rleArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** Boundary IoU of two masks of the same size. */
export function boundaryIou(a: Rle, b: Rle, d = boundaryWidth(a.height, a.width)): number {
  return boundaryIouOfBoundaries(rleBoundary(a, d), rleBoundary(b, d));
}
