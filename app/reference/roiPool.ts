/**
 * Reference of shaders/roi_pool.wgsl: multi-level RoIPool (Fast R-CNN, Girshick 2015) as
 * torchvision.ops.roi_pool, with the same FPN level assignment as RoIAlign
 * (`roiLevelIndex` in ./roiAlign.ts).
 *
 * Per RoI: start/end = round(box · spatialScale) (half away from zero, C's round), size =
 * max(end − start + 1, 1), bin = size / out (f32); bin (ph, pw) covers rows
 * [⌊ph·bin_h⌋, ⌈(ph+1)·bin_h⌉) + start_h clamped to [0, H] (columns likewise); value = max
 * over the bin, or 0 for an empty bin. RoIs at or past `count` give zeros.
 */
import { roiLevelIndex, type FeatureLevel, type RoiLevelMapping } from './roiAlign';

const f = Math.fround;

/** C's round(): half away from zero. */
export function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
}

/** @returns [capacity, C, outSize, outSize] */
export function roiPoolReference(
  levels: readonly FeatureLevel[],
  channels: number,
  rois: ArrayLike<number>,
  count: number,
  capacity: number,
  p: RoiLevelMapping & { outSize: number },
): Float32Array {
  const out = p.outSize;
  const result = new Float32Array(capacity * channels * out * out);
  for (let n = 0; n < Math.min(count, capacity); n++) {
    const [x1, y1, x2, y2] = [rois[4 * n]!, rois[4 * n + 1]!, rois[4 * n + 2]!, rois[4 * n + 3]!];
    const level = levels[roiLevelIndex(x1, y1, x2, y2, p, levels.length)]!;
    const { height: H, width: W } = level;
    const scale = f(level.spatialScale);
    const startW = roundHalfAway(f(x1 * scale));
    const startH = roundHalfAway(f(y1 * scale));
    const endW = roundHalfAway(f(x2 * scale));
    const endH = roundHalfAway(f(y2 * scale));
    const binH = f(Math.max(endH - startH + 1, 1) / out);
    const binW = f(Math.max(endW - startW + 1, 1) / out);
    for (let c = 0; c < channels; c++) {
      const base = c * H * W;
      for (let ph = 0; ph < out; ph++) {
        const h0 = Math.min(Math.max(Math.floor(f(ph * binH)) + startH, 0), H);
        const h1 = Math.min(Math.max(Math.ceil(f((ph + 1) * binH)) + startH, 0), H);
        for (let pw = 0; pw < out; pw++) {
          const w0 = Math.min(Math.max(Math.floor(f(pw * binW)) + startW, 0), W);
          const w1 = Math.min(Math.max(Math.ceil(f((pw + 1) * binW)) + startW, 0), W);
          let v = h1 <= h0 || w1 <= w0 ? 0 : -Infinity;
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) v = Math.max(v, level.data[base + h * W + w]!);
          result[((n * channels + c) * out + ph) * out + pw] = v;
        }
      }
    }
  }
  return result;
}
