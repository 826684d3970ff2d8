/**
 * Reference of shaders/preprocess.wgsl: an RGBA image → the model input tensor, f32 NCHW
 * [1, 3, H, W]. Also the geometry of the resize (stretch or letterbox) and the
 * InputTransform that maps model-input coordinates back to image pixels; the kernel's host
 * code uses the same `resizeGeometry`, so both paths agree on sizes and pads.
 *
 * Per output pixel (x, y):
 *   outside the resized area (letterbox pad): v = padValue · scale
 *   inside: bilinear sample with PyTorch's align_corners=False mapping
 *     src = (dst − pad + 0.5) · in / resized − 0.5, negative clamped to 0,
 *     i0 = floor(src), i1 = min(i0 + 1, in − 1), λ = src − i0,
 *   of the pixel values (0–255), then v = value · scale
 *   tensor[c, y, x] = (v[channel c] − mean[c]) / std[c], channel c = r,g,b or b,g,r.
 */
import type { InputTransform } from '../gpu/layout';
import type { ModelManifest } from '../types';

export type InputSpec = ModelManifest['input'];

export interface ResizeGeometry {
  /** Size of the resized image inside the model input (= input size for stretch). */
  resizedWidth: number;
  resizedHeight: number;
  /** Letterbox pad before the image, in input pixels (0 for stretch). */
  padLeft: number;
  padTop: number;
  transform: InputTransform;
}

/** Python's round(): halves go to the even neighbour (Ultralytics uses it for sizes). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Stretch or letterbox geometry for an image of `imageWidth`×`imageHeight`. */
export function resizeGeometry(imageWidth: number, imageHeight: number, input: InputSpec): ResizeGeometry {
  const W = input.width;
  const H = input.height;
  if (input.resize === 'stretch') {
    return {
      resizedWidth: W,
      resizedHeight: H,
      padLeft: 0,
      padTop: 0,
      transform: { inputWidth: W, inputHeight: H, gainX: W / imageWidth, gainY: H / imageHeight, offsetX: 0, offsetY: 0 },
    };
  }
  // Letterbox as Ultralytics: r = min(W/w0, H/h0), size (round(w0 r), round(h0 r)),
  // pad split top = round(dh/2 − 0.1), left = round(dw/2 − 0.1).
  const r = Math.min(W / imageWidth, H / imageHeight);
  const resizedWidth = Math.min(W, Math.max(1, roundHalfEven(imageWidth * r)));
  const resizedHeight = Math.min(H, Math.max(1, roundHalfEven(imageHeight * r)));
  // max(0, ·): round(−0.1) is −0 when nothing is padded.
  const padLeft = Math.max(0, Math.round((W - resizedWidth) / 2 - 0.1));
  const padTop = Math.max(0, Math.round((H - resizedHeight) / 2 - 0.1));
  return {
    resizedWidth,
    resizedHeight,
    padLeft,
    padTop,
    transform: { inputWidth: W, inputHeight: H, gainX: r, gainY: r, offsetX: padLeft, offsetY: padTop },
  };
}

/**
 * @param rgba image pixels, [height, width, 4] RGBA 0–255 (alpha ignored)
 * @returns tensor [1, 3, H, W] and the geometry used
 */
export function preprocessReference(
  rgba: Uint8ClampedArray | Uint8Array,
  width: number,
  height: number,
  input: InputSpec,
): { tensor: Float32Array; geometry: ResizeGeometry } {
  const geometry = resizeGeometry(width, height, input);
  const { resizedWidth, resizedHeight, padLeft, padTop } = geometry;
  const W = input.width;
  const H = input.height;
  const plane = W * H;
  const tensor = new Float32Array(3 * plane);
  const order = input.channels === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const padValue = input.padValue ?? 114;
  const ratioX = width / resizedWidth;
  const ratioY = height / resizedHeight;

  // Source taps and weights, per output column and per output row (the same mapping for
  // every pixel of a column / row): src = max((dst − pad + 0.5)·in/resized − 0.5, 0).
  const taps = (count: number, pad: number, resized: number, ratio: number, size: number) => {
    const i0 = new Int32Array(count);
    const i1 = new Int32Array(count);
    const frac = new Float64Array(count);
    const inside = new Uint8Array(count);
    for (let d = 0; d < count; d++) {
      if (d < pad || d >= pad + resized) continue;
      const src = Math.max((d - pad + 0.5) * ratio - 0.5, 0);
      const a = Math.min(Math.floor(src), size - 1);
      i0[d] = a;
      i1[d] = Math.min(a + 1, size - 1);
      frac[d] = src - a;
      inside[d] = 1;
    }
    return { i0, i1, frac, inside };
  };
  const cols = taps(W, padLeft, resizedWidth, ratioX, width);
  const rows = taps(H, padTop, resizedHeight, ratioY, height);

  for (let c = 0; c < 3; c++) {
    const ch = order[c]!;
    const padNormalized = (padValue * input.scale - input.mean[c]!) / input.std[c]!;
    const base = c * plane;
    for (let y = 0; y < H; y++) {
      const rowInside = rows.inside[y] === 1;
      const r0 = 4 * rows.i0[y]! * width + ch;
      const r1 = 4 * rows.i1[y]! * width + ch;
      const ly = rows.frac[y]!;
      for (let x = 0; x < W; x++) {
        const o = base + y * W + x;
        if (!rowInside || cols.inside[x] !== 1) {
          tensor[o] = padNormalized;
          continue;
        }
        const x0 = 4 * cols.i0[x]!;
        const x1 = 4 * cols.i1[x]!;
        const lx = cols.frac[x]!;
        const top = (1 - lx) * rgba[r0 + x0]! + lx * rgba[r0 + x1]!;
        const bottom = (1 - lx) * rgba[r1 + x0]! + lx * rgba[r1 + x1]!;
        const v = ((1 - ly) * top + ly * bottom) * input.scale;
        tensor[o] = (v - input.mean[c]!) / input.std[c]!;
      }
    }
  }
  return { tensor, geometry };
}
