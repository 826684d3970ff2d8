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
 * CenterMask's paste (`mode: 'detectron2'`, MODELS.md §4) is `detectron2PasteRow`, with the
 * channel offset 0 and the mask row taken from sourceIndex after its rescoring.
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
export function pasteMapping(transform: InputTransform, image: { width: number; height: number }, mask: { width: number; height: number }): PasteMapping {
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

/** 'torchvision' (Mask R-CNN, above) or 'detectron2' (CenterMask, `detectron2PasteRow`). */
export type PasteMode = 'torchvision' | 'detectron2';

export interface MaskPasteSpec {
  /** K foreground classes: mask_logits has K + classOffset channels. */
  numClasses: number;
  /** S = 28. */
  maskSize: number;
  /** Default PASTE_PADDING (1; torchvision mode only). */
  padding?: number;
  /** Default 'torchvision'. */
  mode?: PasteMode;
  /** Channel of class 0: 1 (default, channel 0 = background) or 0 (CenterMask's [M, K, S, S]). */
  classOffset?: number;
  /** Row of record n in maskLogits: its sourceIndex (true) or n (default). */
  rowFromSource?: boolean;
  /** One mask a row ([M, 1, S, S], BlendMask's blender): class, numClasses, classOffset ignored. */
  classAgnostic?: boolean;
}

/**
 * detectron2's paste (`_do_paste_mask` via grid_sample, align_corners=False, zeros padding;
 * CenterMask), one mask row: the box in mask pixels clipped to the mask, x0 … y1 (f32; the
 * caller skips an empty one). Pixel (x, y) samples the S×S probabilities `probs` at
 * sx = (x + 0.5 − x0)/(x1 − x0)·S − 0.5 (sy alike), bilinearly, taps outside the grid 0.
 * Only x in [⌊x0⌋ − 1, ⌈x1⌉] are sampled (outside, the sample is more than half a cell off
 * the grid and its value < 0.5). Calls `set(x, value)` for each sampled pixel.
 */
function detectron2PasteRow(
  probs: Float32Array,
  s: number,
  box: { x0: number; y0: number; x1: number; y1: number },
  y: number,
  maskWidth: number,
  set: (x: number, value: number) => void,
): void {
  const { x0, y0, x1, y1 } = box;
  if (y < Math.floor(y0) - 1 || y > Math.ceil(y1)) return;
  const cell = (i: number, j: number) => (i < 0 || j < 0 || i >= s || j >= s ? 0 : probs[i * s + j]!);
  const sy = f(f(f(f(f(y + 0.5) - y0) / f(y1 - y0)) * s) - 0.5);
  const iy = Math.floor(sy);
  const wy = f(sy - iy);
  for (let x = Math.max(Math.floor(x0) - 1, 0); x <= Math.min(Math.ceil(x1), maskWidth - 1); x++) {
    const sx = f(f(f(f(f(x + 0.5) - x0) / f(x1 - x0)) * s) - 0.5);
    const ix = Math.floor(sx);
    const wx = f(sx - ix);
    const top = f(f(f(1 - wx) * cell(iy, ix)) + f(wx * cell(iy, ix + 1)));
    const bottom = f(f(f(1 - wx) * cell(iy + 1, ix)) + f(wx * cell(iy + 1, ix + 1)));
    set(x, f(f(f(1 - wy) * top) + f(wy * bottom)));
  }
}

/**
 * @param records the kept records (box relative to the model input, classIndex 0-based)
 * @param maskLogits [M ≥ records.length, K + classOffset, S, S] f32, row n = record n (or its sourceIndex)
 * @param keepSoft also return the pasted probabilities [n, maskH, maskW] (tests)
 */
export function maskPasteReference(
  records: readonly (Pick<DecodedRecord, 'box' | 'classIndex'> & { sourceIndex?: number })[],
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
  const offset = spec.classOffset ?? 1;
  const planeOf = (rec: { classIndex: number; sourceIndex?: number }, n: number) => {
    const row = spec.rowFromSource ? (rec.sourceIndex ?? n) : n;
    if (spec.classAgnostic) return row * s * s;
    return (row * (spec.numClasses + offset) + rec.classIndex + offset) * s * s;
  };
  if (spec.mode === 'detectron2') {
    const probs = new Float32Array(s * s);
    records.forEach((rec, n) => {
      const plane = planeOf(rec, n);
      for (let i = 0; i < s * s; i++) probs[i] = f(sigmoid(maskLogits[plane + i]!));
      const clampTo = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
      const box = {
        x0: clampTo(f(f(f(rec.box[0]) * mapping.scaleX) + mapping.biasX), mw),
        y0: clampTo(f(f(f(rec.box[1]) * mapping.scaleY) + mapping.biasY), mh),
        x1: clampTo(f(f(f(rec.box[2]) * mapping.scaleX) + mapping.biasX), mw),
        y1: clampTo(f(f(f(rec.box[3]) * mapping.scaleY) + mapping.biasY), mh),
      };
      let area = 0;
      if (box.x1 > box.x0 && box.y1 > box.y0) {
        for (let y = Math.max(Math.floor(box.y0) - 1, 0); y <= Math.min(Math.ceil(box.y1), mh - 1); y++) {
          detectron2PasteRow(probs, s, box, y, mw, (x, v) => {
            if (soft) soft[(n * mh + y) * mw + x] = v;
            if (v >= PASTE_THRESHOLD) {
              bits[(n * mh + y) * wordsPerRow + (x >>> 5)]! |= 1 << (x & 31);
              area++;
            }
          });
        }
      }
      areas.push(area);
    });
    return { masks: { width: mw, height: mh, bits, wordsPerRow }, areas, soft };
  }
  records.forEach((rec, n) => {
    // 1. Sigmoid of the class's logits, zero border.
    padded.fill(0);
    const plane = planeOf(rec, n);
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
