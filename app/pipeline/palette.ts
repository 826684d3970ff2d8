/**
 * Instance colours by class: one table (app/reference/composeOverlay.ts
 * `defaultClassColours`, packed r | g << 8 | b << 16) feeds the GPU compose kernel, the
 * CPU compose reference and the Konva boxes, so a class has one colour everywhere.
 */
import { defaultClassColours } from '../reference/composeOverlay';

/** Enough for COCO's 80 classes and more; indexed modulo its length. */
const TABLE_SIZE = 128;
const table = defaultClassColours(TABLE_SIZE);

/** RGB 0–255 of a class. */
export function classColor(classIndex: number): [number, number, number] {
  const c = table[classIndex % TABLE_SIZE]!;
  return [c & 255, (c >>> 8) & 255, (c >>> 16) & 255];
}

export function classColorCss(classIndex: number, alpha = 1): string {
  const [r, g, b] = classColor(classIndex);
  return alpha === 1 ? `rgb(${r},${g},${b})` : `rgba(${r},${g},${b},${alpha})`;
}

/** Packed colour table for `numClasses` classes (compose kernel and reference input). */
export function classColourTable(numClasses: number): Uint32Array {
  return table.slice(0, Math.max(1, numClasses));
}
