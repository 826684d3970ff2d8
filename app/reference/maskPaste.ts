/**
 * Reference of shaders/mask_paste.wgsl — Mask R-CNN's `paste_masks_in_image` (torchvision
 * roi_heads.py, padding 1), straight into our bit-packed InstanceMasks + per-record areas.
 *
 * For record n (class c, box relative to the model input), with S = maskSize (28), P = S + 2:
 *  1. probabilities: sigmoid of mask_logits[n, c + 1] (row n = record n; channel 0 is the
 *     background), padded with a zero border to P×P;
 *  2. the box in MASK pixels: relative → input pixels → image pixels through the
 *     InputTransform, then × mask/image size (`pasteMapping`): the paste happens at mask
 *     resolution, which is the image resolution unless the mask is capped (maskSizeFor) — then
 *     it is torchvision's paste into the image resized to the mask size;
 *  3. expanded about its centre by P / S (w_half = (x2 − x1)·0.5·P/S, x_c = (x2 + x1)·0.5,
 *     x1' = x_c − w_half, x2' = x_c + w_half; y alike), truncated toward zero to integers
 *     (torch `.to(int64)`), w = max(x2' − x1' + 1, 1), h = max(y2' − y1' + 1, 1);
 *  4. mask pixel (x, y) with x1' ≤ x ≤ x2', y1' ≤ y ≤ y2' (inside the mask) takes the bilinear
 *     resize P×P → (h, w), align_corners=False (src = max((j + 0.5)·P/w − 0.5, 0), i0 =
 *     floor(src), i1 = min(i0 + 1, P − 1)), at j = x − x1', i = y − y1'; zero elsewhere;
 *  5. set when the value > 0.5.
 * Float steps are rounded to f32 in the kernel's order, so the integer box and the sample
 * positions agree bit for bit; values can differ from the kernel by the f32 rounding of exp
 * (~1e-7), which can only flip a pixel whose value is that close to 0.5.
 */
import type { InstanceMasks } from '../types';
import type { DecodedRecord, InputTransform } from '../gpu/layout';
import { sigmoid, wordsPerRowFor } from './maskAssembly';

const f = Math.fround;

/** torchvision `paste_masks_in_image(..., padding=1)`. */
export const PASTE_PADDING = 1;
/** A pasted pixel is in the mask when its probability is above this. */
export const PASTE_THRESHOLD = 0.5;

/** Relative input coordinate → mask pixel: `u · scale + bias` per axis (f32). */
export interface PasteMapping {
  scaleX: number;
  biasX: number;
  scaleY: number;
  biasY: number;
}

/**
 * image x = (u·inputW − offsetX) / gainX; mask x = image x · maskW / imageW. Folded:
 * scale = inputW / gainX · maskW / imageW, bias = −offsetX / gainX · maskW / imageW.
 */
export function pasteMapping(
  transform: InputTransform,
  image: { width: number; height: number },
  mask: { width: number; height: number },
): PasteMapping {
  const rx = mask.width / image.width;
  const ry = mask.height / image.height;
  return {
    scaleX: f((transform.inputWidth / transform.gainX) * rx),
    biasX: f((-transform.offsetX / transform.gainX) * rx),
    scaleY: f((transform.inputHeight / transform.gainY) * ry),
    biasY: f((-transform.offsetY / transform.gainY) * ry),
  };
}

/** The integer pasted box (x1', y1', x2', y2') in mask pixels, inclusive, before clipping. */
export function pasteBox(
  box: readonly [number, number, number, number],
  mapping: PasteMapping,
  maskSize: number,
  padding = PASTE_PADDING,
): [number, number, number, number] {
  const expand = f((maskSize + 2 * padding) / maskSize);
  const x1 = f(f(f(box[0]) * mapping.scaleX) + mapping.biasX);
  const y1 = f(f(f(box[1]) * mapping.scaleY) + mapping.biasY);
  const x2 = f(f(f(box[2]) * mapping.scaleX) + mapping.biasX);
  const y2 = f(f(f(box[3]) * mapping.scaleY) + mapping.biasY);
  const halfW = f(f(f(x2 - x1) * 0.5) * expand);
  const halfH = f(f(f(y2 - y1) * 0.5) * expand);
  const cx = f(f(x2 + x1) * 0.5);
  const cy = f(f(y2 + y1) * 0.5);
  return [toI32(f(cx - halfW)), toI32(f(cy - halfH)), toI32(f(cx + halfW)), toI32(f(cy + halfH))];
}

/** WGSL's i32(f32): toward zero, saturated to the i32 range (and no −0). */
function toI32(v: number): number {
  return Math.min(Math.max(Math.trunc(v), -2147483648), 2147483647) + 0;
}

/** Bilinear taps along one axis of the P-pixel padded mask resized to `out` pixels: [i0, i1, λ1]. */
export function pasteTaps(j: number, out: number, padded: number): [number, number, number] {
  const scale = f(padded / out);
  const src = Math.max(f(f(f(j + 0.5) * scale) - 0.5), 0);
  const i0 = Math.min(Math.floor(src), padded - 1);
  const i1 = Math.min(i0 + 1, padded - 1);
  return [i0, i1, f(src - i0)];
}

export interface MaskPasteSpec {
  /** K foreground classes: mask_logits has K + 1 channels, channel 0 = background. */
  numClasses: number;
  /** S = 28. */
  maskSize: number;
  /** Default PASTE_PADDING (1). */
  padding?: number;
}

/**
 * @param records the kept records (box relative to the model input, classIndex 0-based)
 * @param maskLogits [M ≥ records.length, K + 1, S, S] f32, row n = record n
 * @param keepSoft also return the pasted probabilities [n, maskH, maskW] (tests)
 */
export function maskPasteReference(
  records: readonly Pick<DecodedRecord, 'box' | 'classIndex'>[],
  maskLogits: Float32Array,
  spec: MaskPasteSpec,
  transform: InputTransform,
  image: { width: number; height: number },
  mask: { width: number; height: number } = image,
  keepSoft = false,
): { masks: InstanceMasks; areas: number[]; soft?: Float32Array } {
  const s = spec.maskSize;
  const pad = spec.padding ?? PASTE_PADDING;
  const p = s + 2 * pad;
  const { width: mw, height: mh } = mask;
  const wordsPerRow = wordsPerRowFor(mw);
  const bits = new Uint32Array(records.length * mh * wordsPerRow);
  const soft = keepSoft ? new Float32Array(records.length * mh * mw) : undefined;
  const mapping = pasteMapping(transform, image, mask);
  const padded = new Float32Array(p * p);
  const areas: number[] = [];
  records.forEach((rec, n) => {
    // 1. Sigmoid of the class's logits, zero border.
    padded.fill(0);
    const plane = (n * (spec.numClasses + 1) + rec.classIndex + 1) * s * s;
    for (let i = 0; i < s; i++) {
      for (let j = 0; j < s; j++) padded[(i + pad) * p + j + pad] = f(sigmoid(maskLogits[plane + i * s + j]!));
    }
    // 2–3. Integer box.
    const [bx1, by1, bx2, by2] = pasteBox(rec.box, mapping, s, pad);
    const w = Math.max(bx2 - bx1 + 1, 1);
    const h = Math.max(by2 - by1 + 1, 1);
    let area = 0;
    // 4. Inclusive region clipped to the mask.
    for (let y = Math.max(by1, 0); y < Math.min(by2 + 1, mh); y++) {
      const [i0, i1, ly] = pasteTaps(y - by1, h, p);
      for (let x = Math.max(bx1, 0); x < Math.min(bx2 + 1, mw); x++) {
        const [j0, j1, lx] = pasteTaps(x - bx1, w, p);
        const top = (1 - lx) * padded[i0 * p + j0]! + lx * padded[i0 * p + j1]!;
        const bottom = (1 - lx) * padded[i1 * p + j0]! + lx * padded[i1 * p + j1]!;
        const v = (1 - ly) * top + ly * bottom;
        if (soft) soft[(n * mh + y) * mw + x] = v;
        if (v > PASTE_THRESHOLD) {
          bits[(n * mh + y) * wordsPerRow + (x >>> 5)]! |= 1 << (x & 31);
          area++;
        }
      }
    }
    areas.push(area);
  });
  return { masks: { width: mw, height: mh, bits, wordsPerRow }, areas, soft };
}
