/**
 * Just enough COCO for the tests to check exported results and ground truth on their own,
 * independently of app/eval: compressed RLE decode (the `counts` string of pycocotools),
 * uncompressed RLE, polygon rasterisation, and mask IoU. Masks are column-major
 * (`index = x * height + y`), as COCO's RLE is.
 */

export interface CocoRle {
  size: [number, number]; // [height, width]
  counts: string | number[];
}

export type CocoSegmentation = CocoRle | number[][];

export interface CocoResult {
  image_id: number | string;
  category_id: number;
  bbox: [number, number, number, number]; // x, y, w, h
  score: number;
  segmentation: CocoRle;
}

export interface CocoGroundTruth {
  images: Array<{ id: number; file_name: string; width: number; height: number }>;
  annotations: Array<{
    id: number;
    image_id: number;
    category_id: number;
    bbox: [number, number, number, number];
    segmentation: CocoSegmentation;
    area?: number;
    iscrowd?: number;
  }>;
  categories: Array<{ id: number; name: string }>;
}

/**
 * Run lengths from pycocotools' string form: each count is a little-endian sequence of
 * 5-bit groups, 6 bits a character offset by 48, bit 0x20 = more groups follow, the last
 * group's 0x10 bit = sign; counts from the third on are stored as differences to the
 * count two places before.
 */
export function decodeRleCounts(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let value = 0;
    let shift = 0;
    let more = true;
    while (more) {
      const c = s.charCodeAt(p++) - 48;
      value |= (c & 0x1f) << shift;
      more = (c & 0x20) !== 0;
      shift += 5;
      if (!more && (c & 0x10) !== 0) value |= -1 << shift;
    }
    if (counts.length > 2) value += counts[counts.length - 2]!;
    counts.push(value);
  }
  return counts;
}

/** Mask `[height * width]` (column-major, 0/1) from an RLE; runs alternate 0s and 1s from 0s. */
export function rleToMask(rle: CocoRle): Uint8Array {
  const [h, w] = rle.size;
  const counts = typeof rle.counts === 'string' ? decodeRleCounts(rle.counts) : rle.counts;
  const mask = new Uint8Array(h * w);
  let p = 0;
  counts.forEach((run, i) => {
    if (i % 2 === 1) mask.fill(1, p, p + run);
    p += run;
  });
  if (p !== h * w) throw new Error(`RLE covers ${p} pixels, image has ${h * w}`);
  return mask;
}

/** Even-odd fill of polygons (COCO [x0,y0,x1,y1,...] lists) at pixel centres, column-major. */
export function polygonsToMask(polygons: number[][], height: number, width: number): Uint8Array {
  const mask = new Uint8Array(height * width);
  for (const poly of polygons) {
    const n = poly.length / 2;
    for (let y = 0; y < height; y++) {
      const py = y + 0.5;
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        const x0 = poly[2 * i]!;
        const y0 = poly[2 * i + 1]!;
        const x1 = poly[2 * ((i + 1) % n)]!;
        const y1 = poly[2 * ((i + 1) % n) + 1]!;
        if ((y0 <= py && y1 > py) || (y1 <= py && y0 > py)) xs.push(x0 + ((py - y0) / (y1 - y0)) * (x1 - x0));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const from = Math.max(0, Math.ceil(xs[k]! - 0.5));
        const to = Math.min(width - 1, Math.floor(xs[k + 1]! - 0.5));
        for (let x = from; x <= to; x++) mask[x * height + y] ^= 1;
      }
    }
  }
  return mask;
}

export function segmentationToMask(seg: CocoSegmentation, height: number, width: number): Uint8Array {
  return Array.isArray(seg) ? polygonsToMask(seg, height, width) : rleToMask(seg);
}

export function maskIou(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`mask sizes differ: ${a.length} vs ${b.length}`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i]! & b[i]!;
    union += a[i]! | b[i]!;
  }
  return union > 0 ? inter / union : 0;
}

export function maskArea(m: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < m.length; i++) n += m[i]!;
  return n;
}

/**
 * Pairs detections with same-class ground-truth objects of one frame, highest mask IoU
 * first, each used once; pairs below `minIou` are not made (not the same object).
 */
export function pairByMaskIou<D extends { name: string; mask: Uint8Array }>(
  dets: readonly D[],
  gts: ReadonlyArray<{ name: string; mask: Uint8Array }>,
  minIou: number,
): Array<{ det: D; iou: number }> {
  const candidates: Array<{ d: number; g: number; iou: number }> = [];
  dets.forEach((d, di) =>
    gts.forEach((g, gi) => {
      if (g.name !== d.name) return;
      const iou = maskIou(d.mask, g.mask);
      if (iou >= minIou) candidates.push({ d: di, g: gi, iou });
    }),
  );
  candidates.sort((a, b) => b.iou - a.iou);
  const usedD = new Set<number>();
  const usedG = new Set<number>();
  const pairs: Array<{ det: D; iou: number }> = [];
  for (const c of candidates) {
    if (usedD.has(c.d) || usedG.has(c.g)) continue;
    usedD.add(c.d);
    usedG.add(c.g);
    pairs.push({ det: dets[c.d]!, iou: c.iou });
  }
  return pairs;
}
