/**
 * Instance colours by class: the same table feeds the GPU compose kernel, the CPU
 * compose reference and the Konva boxes, so a class has one colour everywhere.
 * Hues spread by the golden angle so neighbouring class indices differ clearly.
 */
const GOLDEN_ANGLE = 137.508;

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
  };
  return [Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)];
}

const cache = new Map<number, [number, number, number]>();

/** RGB 0–255 of a class. */
export function classColor(classIndex: number): [number, number, number] {
  let c = cache.get(classIndex);
  if (!c) {
    c = hslToRgb((classIndex * GOLDEN_ANGLE + 20) % 360, 0.75, 0.55);
    cache.set(classIndex, c);
  }
  return c;
}

export function classColorCss(classIndex: number, alpha = 1): string {
  const [r, g, b] = classColor(classIndex);
  return alpha === 1 ? `rgb(${r},${g},${b})` : `rgba(${r},${g},${b},${alpha})`;
}

/** `[numClasses, 4]` f32 RGBA in [0, 1] (alpha 1), the compose kernel's colour table. */
export function colorTable(numClasses: number): Float32Array {
  const table = new Float32Array(numClasses * 4);
  for (let c = 0; c < numClasses; c++) {
    const [r, g, b] = classColor(c);
    table.set([r / 255, g / 255, b / 255, 1], c * 4);
  }
  return table;
}
