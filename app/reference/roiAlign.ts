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
 * RoIs at or past `count` give zeros. CenterMask's ratio rule (Equation 2): `ratioLevel`.
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
  /**
   * 'scale' (default): FPN's Equation 1 above (Mask R-CNN). 'ratio': CenterMask's adaptive
   * assignment (Equation 2), k = ceil(maxLevel − log2(inputArea / area)) clamped to
   * [minLevel, maxLevel] (canonicalScale / canonicalLevel unused).
   */
  rule?: 'scale' | 'ratio';
  /** A_input of Equation 2: the input's width · height in pixels² (rule 'ratio'). */
  inputArea?: number;
}

/**
 * CenterMask's Equation 2 on an f32 box area: the smallest k in [minLevel, maxLevel) with
 * inputArea ≥ 2^(maxLevel − k)·area, else maxLevel. That is ceil(maxLevel − log2(inputArea /
 * area)) clamped, written as comparisons with powers of two (exact), so boxes of exactly
 * half / a quarter of the input fall on the same side in the kernel and here (a GPU's log2
 * may be a few ulp off): half → maxLevel − 1, just above half → maxLevel.
 */
export function ratioLevel(area: number, inputArea: number, minLevel: number, maxLevel: number): number {
  const a = f(Math.max(area, 0));
  for (let k = minLevel; k < maxLevel; k++) {
    if (f(inputArea) >= f(2 ** (maxLevel - k) * a)) return k;
  }
  return maxLevel;
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
  if (m.rule === 'ratio') {
    if (!(m.inputArea !== undefined && m.inputArea > 0)) throw new Error('RoI level rule “ratio” needs the input area');
    return Math.min(ratioLevel(area, m.inputArea, m.minLevel, m.maxLevel) - m.minLevel, numLevels - 1);
  }
  const s = f(Math.sqrt(Math.max(area, 0)));
  const k = Math.floor(f(f(f(m.canonicalLevel) + f(Math.log2(f(s / f(m.canonicalScale))))) + f(1e-6)));
  const clamped = Math.min(Math.max(k, m.minLevel), m.maxLevel);
  return Math.min(clamped - m.minLevel, numLevels - 1);
}

/**
 * One axis of torchvision's bilinear_interpolate: a sample at coordinate v of an axis of
 * length n → (low, high, l, h = 1 − l), or null where v < −1 or v > n (the sample is 0).
 * The 2D sample is separable: weights (h_y·h_x, h_y·l_x, l_y·h_x, l_y·l_x).
 */
interface Tap {
  low: number;
  high: number;
  l: number;
  h: number;
}

function axisTap(v: number, n: number): Tap | null {
  if (v < -1 || v > n) return null;
  if (v <= 0) v = 0;
  let low = Math.floor(v);
  let high: number;
  if (low >= n - 1) {
    high = low = n - 1;
    v = low;
  } else high = low + 1;
  const l = f(v - low);
  return { low, high, l, h: f(1 - l) };
}

/**
 * Records' relative boxes → RoIs [n, 4] in input pixels, f32 as the kernels scale them
 * (`recordsRoiSource`): the RoIs of the second parts of Mask R-CNN, CenterMask and B2Inst,
 * and of the blender.
 */
export function recordRoisInPixels(records: readonly { box: readonly number[] }[], input: { width: number; height: number }): Float32Array {
  const rois = new Float32Array(records.length * 4);
  records.forEach((rec, n) => {
    rois.set([f(f(rec.box[0]!) * input.width), f(f(rec.box[1]!) * input.height), f(f(rec.box[2]!) * input.width), f(f(rec.box[3]!) * input.height)], 4 * n);
  });
  return rois;
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
    // Taps per (bin, sample) of each axis, shared by every channel: [out · grid] each.
    const yTaps: Array<Tap | null> = [];
    for (let ph = 0; ph < out; ph++) {
      for (let iy = 0; iy < gridH; iy++) yTaps.push(axisTap(f(f(startH + f(ph * binH)) + f(f(f(iy + 0.5) * binH) / gridH)), level.height));
    }
    const xTaps: Array<Tap | null> = [];
    for (let pw = 0; pw < out; pw++) {
      for (let ix = 0; ix < gridW; ix++) xTaps.push(axisTap(f(f(startW + f(pw * binW)) + f(f(f(ix + 0.5) * binW) / gridW)), level.width));
    }
    const W = level.width;
    for (let c = 0; c < channels; c++) {
      const plane = level.data;
      const base = c * level.height * W;
      for (let ph = 0; ph < out; ph++) {
        for (let pw = 0; pw < out; pw++) {
          let sum = 0;
          for (let iy = 0; iy < gridH; iy++) {
            const ty = yTaps[ph * gridH + iy];
            for (let ix = 0; ix < gridW; ix++) {
              const tx = xTaps[pw * gridW + ix];
              if (!ty || !tx) {
                sum = f(sum + 0); // the sample is 0
                continue;
              }
              const rowLow = base + ty.low * W;
              const rowHigh = base + ty.high * W;
              const value = f(
                f(
                  f(f(f(ty.h * tx.h) * plane[rowLow + tx.low]!) + f(f(ty.h * tx.l) * plane[rowLow + tx.high]!)) + f(f(ty.l * tx.h) * plane[rowHigh + tx.low]!),
                ) + f(f(ty.l * tx.l) * plane[rowHigh + tx.high]!),
              );
              sum = f(sum + value);
            }
          }
          result[((n * channels + c) * out + ph) * out + pw] = f(sum / samples);
        }
      }
    }
  }
  return result;
}
