/**
 * The instance overlay in plain TypeScript: the oracle of the `composeOverlay` kernel and
 * the overlay of the no-WebGPU path (its bytes go straight into an ImageData).
 *
 * Per pixel: the winning instance is the highlighted one if it covers the pixel (and its
 * class is shown), else the highest-scored visible instance covering it (records are sorted
 * by score, so later instances lie under earlier ones). The pixel gets the winner's class
 * colour at `fillAlpha`, or `outlineAlpha` on the instance's edge (a 4-neighbour inside the
 * image is outside the winner's mask). With a highlight, the highlighted instance is
 * lightened towards white and more opaque, the others dimmed. Pixels no visible instance
 * covers are transparent (0, 0, 0, 0).
 *
 * All arithmetic is on integers 0–255 so that the kernel's rgba8unorm stores reproduce these
 * bytes exactly. Output is straight (non-premultiplied) alpha unless `premultiplied` is set,
 * in which case rgb = round(rgb · a / 255) (what a WebGPU canvas with alphaMode
 * 'premultiplied' expects).
 */
import type { InstanceMasks } from '../types';

/** No instance highlighted (also what any index ≥ count means). */
export const NO_HIGHLIGHT = 0xffffffff;

export interface OverlayStyle {
  /** Alpha (0–255) of mask interiors. */
  fillAlpha: number;
  /** Alpha of mask edges. */
  outlineAlpha: number;
  /** Alpha of the highlighted instance's interior (its edge is opaque). */
  highlightFillAlpha: number;
  /** Other instances' alpha is scaled by dimPercent / 100 while one is highlighted. */
  dimPercent: number;
  /** The highlighted instance's rgb moves lightenPercent % of the way towards white. */
  lightenPercent: number;
  premultiplied: boolean;
}

export const DEFAULT_OVERLAY_STYLE: OverlayStyle = {
  fillAlpha: 110,
  outlineAlpha: 230,
  highlightFillAlpha: 170,
  dimPercent: 35,
  lightenPercent: 35,
  premultiplied: false,
};

/** Colours packed as u32 r | g << 8 | b << 16 (the byte order of an RGBA pixel). */
export function packColour(r: number, g: number, b: number): number {
  return ((r & 255) | ((g & 255) << 8) | ((b & 255) << 16)) >>> 0;
}

/**
 * A distinct, saturated colour per class: hues spaced by the golden angle so neighbouring
 * class indices differ strongly. Deterministic, so GPU and CPU overlays match.
 */
export function defaultClassColours(numClasses: number): Uint32Array {
  const out = new Uint32Array(Math.max(1, numClasses));
  for (let c = 0; c < out.length; c++) {
    const hue = (c * 137.508) % 360;
    const s = c % 2 === 0 ? 0.85 : 0.65;
    const v = c % 3 === 1 ? 0.8 : 0.95;
    const k = (n: number) => (n + hue / 60) % 6;
    const channel = (n: number) => Math.round(255 * (v - v * s * Math.max(0, Math.min(k(n), 4 - k(n), 1))));
    out[c] = packColour(channel(5), channel(3), channel(1));
  }
  return out;
}

/** Hidden-classes bitmask: bit (c % 32) of word c / 32 set when class c is hidden. */
export function hiddenClassMask(hidden: Iterable<number>, numClasses: number): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(Math.max(1, Math.ceil(numClasses / 32)));
  for (const c of hidden) {
    if (c >= 0 && c < words.length * 32) words[c >>> 5]! |= 1 << (c & 31);
  }
  return words;
}

export interface ComposeInput {
  masks: InstanceMasks;
  /** Class index of each instance, in score order; its length is the instance count. */
  classIndices: ArrayLike<number>;
  /** Packed colours (`packColour`), indexed by class modulo its length. */
  classColours: Uint32Array;
  /** `hiddenClassMask(...)`. */
  hiddenClasses: Uint32Array;
  /** Instance index, or NO_HIGHLIGHT / null. */
  highlight: number | null;
  style?: Partial<OverlayStyle>;
}

/** RGBA bytes [height, width, 4] of the overlay at mask resolution. */
export function composeOverlayReference(input: ComposeInput): Uint8ClampedArray<ArrayBuffer> {
  const { masks, classIndices, classColours, hiddenClasses } = input;
  const style = { ...DEFAULT_OVERLAY_STYLE, ...input.style };
  const { width: w, height: h, wordsPerRow: wpr, bits } = masks;
  const count = classIndices.length;
  const out = new Uint8ClampedArray(w * h * 4);
  const highlight = input.highlight !== null && input.highlight < count ? input.highlight : -1;
  const hidden = (n: number) => {
    const c = classIndices[n]!;
    const word = c >>> 5;
    return word < hiddenClasses.length && ((hiddenClasses[word]! >>> (c & 31)) & 1) === 1;
  };
  const visible = Array.from({ length: count }, (_, n) => !hidden(n));
  const bit = (n: number, x: number, y: number) => ((bits[(n * h + y) * wpr + (x >>> 5)]! >>> (x & 31)) & 1) === 1;

  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let winner = -1;
      if (highlight >= 0 && visible[highlight] && bit(highlight, x, y)) winner = highlight;
      else {
        for (let n = 0; n < count; n++) {
          if (visible[n] && bit(n, x, y)) {
            winner = n;
            break;
          }
        }
      }
      if (winner < 0) continue;
      const edge =
        (x > 0 && !bit(winner, x - 1, y)) ||
        (x + 1 < w && !bit(winner, x + 1, y)) ||
        (y > 0 && !bit(winner, x, y - 1)) ||
        (y + 1 < h && !bit(winner, x, y + 1));
      const colour = classColours[classIndices[winner]! % classColours.length]!;
      let r = colour & 255;
      let g = (colour >>> 8) & 255;
      let b = (colour >>> 16) & 255;
      let a = edge ? style.outlineAlpha : style.fillAlpha;
      if (highlight >= 0) {
        if (winner === highlight) {
          r += Math.floor(((255 - r) * style.lightenPercent) / 100);
          g += Math.floor(((255 - g) * style.lightenPercent) / 100);
          b += Math.floor(((255 - b) * style.lightenPercent) / 100);
          a = edge ? 255 : style.highlightFillAlpha;
        } else {
          a = Math.floor((a * style.dimPercent) / 100);
        }
      }
      if (style.premultiplied) {
        r = Math.floor((r * a + 127) / 255);
        g = Math.floor((g * a + 127) / 255);
        b = Math.floor((b * a + 127) / 255);
      }
      const o = (y * w + x) * 4;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = a;
    }
  }
  return out;
}
