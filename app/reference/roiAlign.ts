/**
 * Reference of shaders/roi_align.wgsl: multi-level RoIAlign as torchvision's
 * MultiScaleRoIAlign + roi_align (Mask R-CNN, He et al. 2017; FPN level assignment, Lin et
 * al. 2017). f32 steps (Math.fround) in the kernel's order.
 *
 * Level of a RoI (area in input pixels, clamped ≥ 0; FPN eq. 1):
 *   k = floor(canonicalLevel + log2(√area / canonicalScale + 1e-6)), clamped to
 *   [minLevel, maxLevel]; feature map index k − minLevel. The 1e-6 sits inside the log2 as in
 *   the issue-6 contract and our training code (models/maskrcnn/loss.py `roi_levels`);
 *   torchvision 0.14's LevelMapper adds it after the log2 — the two differ only for √area
 *   within ~1e-6 relative of 224·2^j. It also keeps log2 finite for an empty box.
 * Per bin (ph, pw) of out×out and channel c, with offset = aligned ? 0.5 : 0:
 *   start = box · spatialScale − offset, size = end − start (unaligned: ≥ 1), bin = size / out,
 *   grid = samplingRatio > 0 ? samplingRatio : ceil(size / out) per side,
 *   y = start_y + ph·bin_h + (iy + 0.5)·bin_h / grid_h (x likewise),
 *   value = Σ bilinear(y, x) / max(grid_h·grid_w, 1),
 *   bilinear: 0 if y < −1 or y > H or x < −1 or x > W; y, x clamped ≥ 0; y_low = ⌊y⌋, and if
 *   y_low ≥ H − 1 then y_low = y_high = H − 1, y = y_low; else y_high = y_low + 1 (x likewise);
 *   w = (1 − ly)(1 − lx), (1 − ly)·lx, ly·(1 − lx), ly·lx.
 * RoIs at or past `count` give zeros.
 */

const f = Math.fround;

/** One feature map: NCHW [1, C, height, width], sampled at box · spatialScale. */
export interface FeatureLevel {
  data: Float32Array;
  height: number;
  width: number;
  /** 1 / stride. */
  spatialScale: number;
}

export interface RoiLevelMapping {
  canonicalScale: number;
  canonicalLevel: number;
  minLevel: number;
  maxLevel: number;
}

export interface RoiAlignParams extends RoiLevelMapping {
  /** Output side (7 for the box head, 14 for the mask head). */
  outSize: number;
  /** > 0: fixed sampling points per bin side; ≤ 0: adaptive ceil(size / outSize). */
  samplingRatio: number;
  aligned: boolean;
}

/** FPN level k of an xyxy box in input pixels, as an index into the feature maps (k − minLevel). */
export function roiLevelIndex(x1: number, y1: number, x2: number, y2: number, m: RoiLevelMapping, numLevels: number): number {
  if (numLevels <= 1) return 0;
  const area = f(f(x2 - x1) * f(y2 - y1));
  const s = f(Math.sqrt(Math.max(area, 0)));
  const k = Math.floor(f(f(f(m.canonicalLevel) + f(Math.log2(f(s / f(m.canonicalScale))))) + f(1e-6)));
  const clamped = Math.min(Math.max(k, m.minLevel), m.maxLevel);
  return Math.min(clamped - m.minLevel, numLevels - 1);
}

/** torchvision's bilinear_interpolate on one channel plane. */
function bilinear(plane: Float32Array, base: number, height: number, width: number, y: number, x: number): number {
  if (y < -1 || y > height || x < -1 || x > width) return 0;
  if (y <= 0) y = 0;
  if (x <= 0) x = 0;
  let yLow = Math.floor(y);
  let xLow = Math.floor(x);
  let yHigh: number;
  let xHigh: number;
  if (yLow >= height - 1) {
    yHigh = yLow = height - 1;
    y = yLow;
  } else yHigh = yLow + 1;
  if (xLow >= width - 1) {
    xHigh = xLow = width - 1;
    x = xLow;
  } else xHigh = xLow + 1;
  const ly = f(y - yLow);
  const lx = f(x - xLow);
  const hy = f(1 - ly);
  const hx = f(1 - lx);
  const v1 = plane[base + yLow * width + xLow]!;
  const v2 = plane[base + yLow * width + xHigh]!;
  const v3 = plane[base + yHigh * width + xLow]!;
  const v4 = plane[base + yHigh * width + xHigh]!;
  return f(f(f(f(f(hy * hx) * v1) + f(f(hy * lx) * v2)) + f(f(ly * hx) * v3)) + f(f(ly * lx) * v4));
}

/**
 * @param rois [capacity, 4] xyxy boxes in input pixels (rows ≥ count ignored)
 * @returns [capacity, C, outSize, outSize]
 */
export function roiAlignReference(
  levels: readonly FeatureLevel[],
  channels: number,
  rois: ArrayLike<number>,
  count: number,
  capacity: number,
  p: RoiAlignParams,
): Float32Array {
  const out = p.outSize;
  const result = new Float32Array(capacity * channels * out * out);
  const offset = p.aligned ? 0.5 : 0;
  for (let n = 0; n < Math.min(count, capacity); n++) {
    const [x1, y1, x2, y2] = [rois[4 * n]!, rois[4 * n + 1]!, rois[4 * n + 2]!, rois[4 * n + 3]!];
    const level = levels[roiLevelIndex(x1, y1, x2, y2, p, levels.length)]!;
    const scale = f(level.spatialScale);
    const startW = f(f(x1 * scale) - offset);
    const startH = f(f(y1 * scale) - offset);
    let roiW = f(f(f(x2 * scale) - offset) - startW);
    let roiH = f(f(f(y2 * scale) - offset) - startH);
    if (!p.aligned) {
      roiW = Math.max(roiW, 1);
      roiH = Math.max(roiH, 1);
    }
    const binH = f(roiH / out);
    const binW = f(roiW / out);
    const gridH = p.samplingRatio > 0 ? p.samplingRatio : Math.ceil(f(roiH / out));
    const gridW = p.samplingRatio > 0 ? p.samplingRatio : Math.ceil(f(roiW / out));
    const samples = Math.max(gridH * gridW, 1);
    for (let c = 0; c < channels; c++) {
      const base = c * level.height * level.width;
      for (let ph = 0; ph < out; ph++) {
        for (let pw = 0; pw < out; pw++) {
          let sum = 0;
          for (let iy = 0; iy < gridH; iy++) {
            const y = f(f(startH + f(ph * binH)) + f(f(f(iy + 0.5) * binH) / gridH));
            for (let ix = 0; ix < gridW; ix++) {
              const x = f(f(startW + f(pw * binW)) + f(f(f(ix + 0.5) * binW) / gridW));
              sum = f(sum + bilinear(level.data, base, level.height, level.width, y, x));
            }
          }
          result[((n * channels + c) * out + ph) * out + pw] = f(sum / samples);
        }
      }
    }
  }
  return result;
}
