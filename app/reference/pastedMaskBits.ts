/**
 * References of shaders/pasted_mask_bits.wgsl (app/gpu/kernels/pastedMaskBits.ts): the masks
 * of public Mask R-CNN exports → bit-packed masks at mask resolution + areas.
 *
 *   pastedMaskBitsReference  torchvision [N,1,H,W] probabilities pasted at the input size:
 *                            mask pixel centre → image → input pixel, bilinear
 *                            (align_corners=False, maskAssembly.ts `upsampleMapping` with
 *                            proto = input), > 0.5
 *   roiMaskBitsReference     ONNX-zoo [N,1,28,28] probabilities, unpasted: torchvision's
 *                            `paste_masks_in_image` with padding 1, done at mask resolution:
 *                            the box in mask pixels, pad 28 → 30 with zeros, expand the box
 *                            about its centre by 30/28, truncate to int, w = x2 − x1 + 1,
 *                            h = y2 − y1 + 1; pixel (x, y) of the inclusive region clipped to
 *                            the mask samples the 30x30 grid bilinearly at
 *                            ((x − x1 + 0.5)·30/w − 0.5, (y − y1 + 0.5)·30/h − 0.5), > 0.5
 * Record n reads plane `sourceIndex_n` (the export's row), not plane n. Float arithmetic that
 * decides sample positions is rounded to f32 in the WGSL's order (`Math.fround`).
 */
import type { DecodedRecord, InputTransform } from '../gpu/layout';
import type { InstanceMasks } from '../types';
import { bilinearTaps, upsampleMapping, wordsPerRowFor } from './maskAssembly';

const f = Math.fround;

/** The zoo's mask side (maskrcnn-benchmark mask head output, unpasted). */
export const ROI_MASK_SIDE = 28;
/** torchvision `paste_masks_in_image` padding. */
export const PASTE_PADDING = 1;
/** Mask probability threshold (torchvision / zoo consumers: > 0.5). */
export const MASK_THRESHOLD = 0.5;

/**
 * torchvision pasted masks [N,1,H,W] (input resolution) → bits at mask resolution: each
 * mask pixel samples plane `sourceIndex` bilinearly through the input→image transform.
 */
export function pastedMaskBitsReference(
  records: readonly Pick<DecodedRecord, 'sourceIndex'>[],
  pastedMasks: Float32Array,
  input: { width: number; height: number },
  transform: InputTransform,
  image: { width: number; height: number },
  mask: { width: number; height: number },
  keepSoft = false,
): { masks: InstanceMasks; areas: number[]; soft?: Float32Array } {
  const mapping = upsampleMapping(transform, image, mask, input);
  const { width: mw, height: mh } = mask;
  const wordsPerRow = wordsPerRowFor(mw);
  const bits = new Uint32Array(records.length * mh * wordsPerRow);
  const soft = keepSoft ? new Float32Array(records.length * mh * mw) : undefined;
  const plane = input.width * input.height;
  const xs = Array.from({ length: mw }, (_, x) => bilinearTaps(x, mapping.scaleX, mapping.biasX, input.width));
  const areas = records.map((rec, n) => {
    let area = 0;
    const base = rec.sourceIndex * plane;
    for (let y = 0; y < mh; y++) {
      const [y0, y1, ly] = bilinearTaps(y, mapping.scaleY, mapping.biasY, input.height);
      const row0 = base + y0 * input.width;
      const row1 = base + y1 * input.width;
      for (let x = 0; x < mw; x++) {
        const [x0, x1, lx] = xs[x]!;
        const top = (1 - lx) * pastedMasks[row0 + x0]! + lx * pastedMasks[row0 + x1]!;
        const bottom = (1 - lx) * pastedMasks[row1 + x0]! + lx * pastedMasks[row1 + x1]!;
        const v = (1 - ly) * top + ly * bottom;
        if (soft) soft[(n * mh + y) * mw + x] = v;
        if (v > MASK_THRESHOLD) {
          bits[(n * mh + y) * wordsPerRow + (x >>> 5)]! |= 1 << (x & 31);
          area++;
        }
      }
    }
    return area;
  });
  return { masks: { width: mw, height: mh, bits, wordsPerRow }, areas, soft };
}

/**
 * The integer paste box of torchvision's `paste_masks_in_image` (padding 1) for a box in
 * mask pixels: expanded by (M + 2)/M about its centre, truncated toward zero; w, h ≥ 1.
 */
export function pasteBox(box: readonly [number, number, number, number], side = ROI_MASK_SIDE): { x1: number; y1: number; w: number; h: number } {
  const scale = f((side + 2 * PASTE_PADDING) / side);
  const wHalf = f(f(f(box[2] - box[0]) * 0.5) * scale);
  const hHalf = f(f(f(box[3] - box[1]) * 0.5) * scale);
  const xc = f(f(box[2] + box[0]) * 0.5);
  const yc = f(f(box[3] + box[1]) * 0.5);
  const x1 = Math.trunc(f(xc - wHalf));
  const x2 = Math.trunc(f(xc + wHalf));
  const y1 = Math.trunc(f(yc - hHalf));
  const y2 = Math.trunc(f(yc + hHalf));
  return { x1, y1, w: Math.max(x2 - x1 + 1, 1), h: Math.max(y2 - y1 + 1, 1) };
}

/**
 * Relative box (model input) → mask pixels, one scale and bias per axis (f32, as the WGSL
 * uniform): (rel · inputW − offsetX) / gainX · maskW / imageW.
 */
export function maskToBoxScale(
  transform: InputTransform,
  image: { width: number; height: number },
  mask: { width: number; height: number },
): { scaleX: number; biasX: number; scaleY: number; biasY: number } {
  return {
    scaleX: f(((transform.inputWidth / transform.gainX) * mask.width) / image.width),
    biasX: f(((-transform.offsetX / transform.gainX) * mask.width) / image.width),
    scaleY: f(((transform.inputHeight / transform.gainY) * mask.height) / image.height),
    biasY: f(((-transform.offsetY / transform.gainY) * mask.height) / image.height),
  };
}

/** The record's box (relative to the input) in mask pixels, f32 as the WGSL computes it. */
export function boxInMaskPixels(
  box: readonly [number, number, number, number],
  transform: InputTransform,
  image: { width: number; height: number },
  mask: { width: number; height: number },
): [number, number, number, number] {
  const { scaleX: sx, biasX: bx, scaleY: sy, biasY: by } = maskToBoxScale(transform, image, mask);
  return [f(f(box[0] * sx) + bx), f(f(box[1] * sy) + by), f(f(box[2] * sx) + bx), f(f(box[3] * sy) + by)];
}

/** Value of the zero-padded (side + 2)² grid of a side² probability mask at (row, col). */
function padded(masks: Float32Array, base: number, side: number, r: number, c: number): number {
  const rr = r - PASTE_PADDING;
  const cc = c - PASTE_PADDING;
  if (rr < 0 || cc < 0 || rr >= side || cc >= side) return 0;
  return masks[base + rr * side + cc]!;
}

/** One axis of the paste's bilinear sampling (PyTorch align_corners=False, in/out ratio). */
export function pasteTaps(j: number, padded: number, out: number): [number, number, number] {
  const scale = f(padded / out);
  const src = Math.max(f(f(f(j + 0.5) * scale) - 0.5), 0);
  const i0 = Math.min(Math.floor(src), padded - 1);
  return [i0, Math.min(i0 + 1, padded - 1), f(src - i0)];
}

/** ONNX-zoo 28x28 probabilities [N,1,28,28] → bits at mask resolution (paste, padding 1). */
export function roiMaskBitsReference(
  records: readonly Pick<DecodedRecord, 'box' | 'sourceIndex'>[],
  roiMasks: Float32Array,
  transform: InputTransform,
  image: { width: number; height: number },
  mask: { width: number; height: number },
  side = ROI_MASK_SIDE,
  keepSoft = false,
): { masks: InstanceMasks; areas: number[]; soft?: Float32Array } {
  const { width: mw, height: mh } = mask;
  const wordsPerRow = wordsPerRowFor(mw);
  const bits = new Uint32Array(records.length * mh * wordsPerRow);
  const soft = keepSoft ? new Float32Array(records.length * mh * mw) : undefined;
  const p = side + 2 * PASTE_PADDING;
  const areas = records.map((rec, n) => {
    const { x1, y1, w, h } = pasteBox(boxInMaskPixels(rec.box, transform, image, mask), side);
    const base = rec.sourceIndex * side * side;
    let area = 0;
    const xStart = Math.max(x1, 0);
    const xEnd = Math.min(x1 + w, mw);
    for (let y = Math.max(y1, 0); y < Math.min(y1 + h, mh); y++) {
      const [r0, r1, ly] = pasteTaps(y - y1, p, h);
      for (let x = xStart; x < xEnd; x++) {
        const [c0, c1, lx] = pasteTaps(x - x1, p, w);
        const top = (1 - lx) * padded(roiMasks, base, side, r0, c0) + lx * padded(roiMasks, base, side, r0, c1);
        const bottom = (1 - lx) * padded(roiMasks, base, side, r1, c0) + lx * padded(roiMasks, base, side, r1, c1);
        const v = (1 - ly) * top + ly * bottom;
        if (soft) soft[(n * mh + y) * mw + x] = v;
        if (v > MASK_THRESHOLD) {
          bits[(n * mh + y) * wordsPerRow + (x >>> 5)]! |= 1 << (x & 31);
          area++;
        }
      }
    }
    return area;
  });
  return { masks: { width: mw, height: mh, bits, wordsPerRow }, areas, soft };
}
