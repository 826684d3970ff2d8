/**
 * A model's auxiliary map (FrameResult.auxiliaryMap, e.g. B2Inst's boundary basis) as pixels
 * the overlay can draw: each value v ∈ [0, 1] a cyan pixel of opacity v, so the frame shows
 * through where the map is low. `auxiliaryMapSummary` is the overlay's caption (and what the
 * e2e tests read).
 */
import type { AuxiliaryMap } from '../types';

/** The map's colour (straight alpha): cyan, distinct from the class palette's masks. */
export const AUXILIARY_RGB = [0, 229, 255] as const;

/** RGBA bytes [height, width, 4] of the map: colour AUXILIARY_RGB, alpha = round(255 · clamp(v, 0, 1)). */
export function auxiliaryMapRgba(map: Pick<AuxiliaryMap, 'width' | 'height' | 'values'>): Uint8ClampedArray<ArrayBuffer> {
  const rgba = new Uint8ClampedArray(map.width * map.height * 4);
  for (let i = 0; i < map.width * map.height; i++) {
    const v = map.values[i]!;
    rgba.set([AUXILIARY_RGB[0], AUXILIARY_RGB[1], AUXILIARY_RGB[2], Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)))], 4 * i);
  }
  return rgba;
}

/** A canvas holding the map's pixels (drawn scaled onto the frame by Konva), or null outside a browser. */
export function auxiliaryMapCanvas(map: AuxiliaryMap): HTMLCanvasElement | null {
  if (typeof document === 'undefined') return null;
  const canvas = document.createElement('canvas');
  canvas.width = map.width;
  canvas.height = map.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.putImageData(new ImageData(auxiliaryMapRgba(map), map.width, map.height), 0, 0);
  return canvas;
}

/** "boundary basis 128×128 · 7.3% of cells ≥ 0.5": the caption under the overlay. */
export function auxiliaryMapSummary(map: Pick<AuxiliaryMap, 'name' | 'width' | 'height' | 'values'>): string {
  let high = 0;
  for (const v of map.values) if (v >= 0.5) high++;
  const share = map.values.length === 0 ? 0 : (100 * high) / map.values.length;
  return `${map.name} ${map.width}×${map.height} · ${share.toFixed(1)}% of cells ≥ 0.5`;
}
