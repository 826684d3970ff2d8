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
  const padLeft = Math.round((W - resizedWidth) / 2 - 0.1);
  const padTop = Math.round((H - resizedHeight) / 2 - 0.1);
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
  const px = (x: number, y: number, ch: number) => rgba[4 * (y * width + x) + ch]!;

  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const inside =
        x >= padLeft && x < padLeft + resizedWidth && y >= padTop && y < padTop + resizedHeight;
      let sx = 0;
      let sy = 0;
      let x0 = 0;
      let y0 = 0;
      let x1 = 0;
      let y1 = 0;
      if (inside) {
        sx = Math.max((x - padLeft + 0.5) * ratioX - 0.5, 0);
        sy = Math.max((y - padTop + 0.5) * ratioY - 0.5, 0);
        x0 = Math.min(Math.floor(sx), width - 1);
        y0 = Math.min(Math.floor(sy), height - 1);
        x1 = Math.min(x0 + 1, width - 1);
        y1 = Math.min(y0 + 1, height - 1);
      }
      const lx = sx - x0;
      const ly = sy - y0;
      for (let c = 0; c < 3; c++) {
        const ch = order[c]!;
        let value: number;
        if (inside) {
          const top = (1 - lx) * px(x0, y0, ch) + lx * px(x1, y0, ch);
          const bottom = (1 - lx) * px(x0, y1, ch) + lx * px(x1, y1, ch);
          value = (1 - ly) * top + ly * bottom;
        } else {
          value = padValue;
        }
        const v = value * input.scale;
        tensor[c * plane + y * W + x] = (v - input.mean[c]!) / input.std[c]!;
      }
    }
  }
  return { tensor, geometry };
}
