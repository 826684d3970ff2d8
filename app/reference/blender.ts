/**
 * Reference of shaders/blender.wgsl: BlendMask's blender (Chen et al., "BlendMask:
 * Top-Down Meets Bottom-Up for Instance Segmentation", CVPR 2020; AdelaiDet
 * `adet/modeling/blendmask/blender.py`, `merge_bases`; /work/shared/MODELS.md §5), which
 * B2Inst reuses. f32 steps (Math.fround) in the kernel's order.
 *
 * For each kept record n (DetectionRecords order; box relative to the model input):
 *
 * 1. RoIAlign of the K bases [K, Hb, Wb] to R×R (R = 56): detectron2's ROIAlignV2, i.e.
 *    torchvision roi_align with aligned=True, sampling_ratio 1, spatial scale 1/4 (bases at
 *    stride 4), on the box in input pixels (box · input size). Exactly
 *    `roiAlignReference` (app/reference/roiAlign.ts) on one level: start = box·¼ − 0.5, bin =
 *    (end − start) / R with no clamp, one sample at the bin centre, torchvision's bilinear.
 * 2. The record's attention: the K·M·M row (M = 14) of the detector's `top_feats` at the
 *    record's location (sourceIndex = FCOS global location g; see `AttentionLevel`), viewed as
 *    [K, M, M], each plane upsampled to R×R as AdelaiDet's `F.interpolate(coeffs, (R, R),
 *    mode='bilinear')`. That call passes no align_corners, so PyTorch's default False
 *    applies, with an explicit output size, so the scale is in/out = M/R (= ¼ exactly):
 *      src = (p + 0.5)·M/R − 0.5, clamped ≥ 0; i0 = min(⌊src⌋, M − 1), i1 = min(i0 + 1, M − 1),
 *      w1 = src − i0; value = (1 − w_y)((1 − w_x)·v00 + w_x·v01) + w_y((1 − w_x)·v10 + w_x·v11).
 *    (MODELS.md "Conventions": Bilinear (align_corners=False).)
 * 3. Softmax over K per pixel, then Σ_K roi_k · softmax_k → the mask logit. Computed as
 *    Σ_k roi_k·e_k / Σ_k e_k with e_k = exp(a_k − max_k a_k): the same value as softmax-then-sum
 *    up to f32 rounding (one division instead of K), and safe for large attentions.
 * 4. Sigmoid → the R×R mask probability (AdelaiDet's `pred_masks`); the kernel writes the
 *    logit of step 3 and leaves the sigmoid to its consumers (mask_paste.wgsl's detectron2
 *    paste samples sigmoid(logit) per cell, which is AdelaiDet's paste of the sigmoided
 *    masks; boundary_map.wgsl). `blenderReference` returns both.
 *
 * K is a parameter: 4 for BlendMask; 5 for B2Inst, whose boundary basis is the bases
 * tensor's 5th channel and takes part in the blender exactly like the others (its own 14×14
 * attention plane in a top_feats row of 5·14·14 = 980, inside the softmax). Chosen because
 * MODELS.md §5 reads B2Inst's boundary basis as "an extra basis channel fed to the blender",
 * because a separate (un-softmaxed) boundary term would be a second blender the paper does not
 * describe, and because one kernel then serves both models; how the model weighs the boundary
 * basis is learnt in its attentions.
 *
 * Records at or past `count` (rows up to `capacity`) give zeros, as the kernel.
 */
import { recordRoisInPixels, roiAlignReference } from './roiAlign';
import { sigmoidF32 } from './fcosDecode';

const f = Math.fround;

/** R of BlendMask's blender (BOTTOM_RESOLUTION). */
export const BLENDER_RESOLUTION = 56;
/** M of the attentions (ATTN_SIZE). */
export const BLENDER_ATTN_SIZE = 14;
/** The bases' spatial scale (stride 4). */
export const BLENDER_SPATIAL_SCALE = 0.25;

/**
 * One level's attentions: location g ∈ [first, first + locations) reads attention element j
 * at data[(g − first)·locStride + j·featStride]. AdelaiDet's top_feats [1, K·M·M, H, W]:
 * locations H·W, locStride 1, featStride H·W. A gathered [N, K·M·M]: locStride K·M·M, featStride 1.
 */
export interface AttentionLevel {
  data: Float32Array;
  first: number;
  locations: number;
  locStride: number;
  featStride: number;
}

/** The per-level top_feats [1, K·M·M, H, W] of one FCOS level, as an `AttentionLevel`. */
export function nchwAttentionLevel(data: Float32Array, first: number, height: number, width: number): AttentionLevel {
  return { data, first, locations: height * width, locStride: 1, featStride: height * width };
}

export interface BlenderSpec {
  /** K (BlendMask 4, B2Inst 5). */
  numBases: number;
  /** R (56). */
  outSize: number;
  /** M (14). */
  attnSize: number;
  /** 1 / basis stride (0.25). */
  spatialScale: number;
}

export interface BlenderRecord {
  /** xyxy relative to the model input. */
  box: readonly [number, number, number, number];
  /** FCOS global location (the attention row). */
  sourceIndex: number;
}

/** Level of global location g: the last level whose first location is ≤ g. */
export function attentionLevelOf(levels: readonly AttentionLevel[], g: number): number {
  let level = 0;
  for (let l = 1; l < levels.length; l++) if (g >= levels[l]!.first) level = l;
  return level;
}

/** Taps of output pixel p of an m → r upsample (align_corners=False): [i0, i1, w1]. */
export function upsampleTaps(p: number, m: number, r: number): [number, number, number] {
  const src = Math.max(f(f(f(p + 0.5) * f(m / r)) - 0.5), 0);
  const i0 = Math.min(Math.floor(src), m - 1);
  const i1 = Math.min(i0 + 1, m - 1);
  return [i0, i1, f(src - i0)];
}

/**
 * Step 2 alone: record's attention upsampled, [K, R, R] (before the softmax).
 */
export function upsampledAttention(levels: readonly AttentionLevel[], g: number, spec: BlenderSpec): Float32Array {
  const { numBases: K, outSize: R, attnSize: M } = spec;
  const lv = levels[attentionLevelOf(levels, g)]!;
  const rowBase = (g - lv.first) * lv.locStride;
  const at = (j: number) => lv.data[rowBase + j * lv.featStride]!;
  const out = new Float32Array(K * R * R);
  for (let k = 0; k < K; k++) {
    const plane = k * M * M;
    for (let py = 0; py < R; py++) {
      const [y0, y1, wy] = upsampleTaps(py, M, R);
      for (let px = 0; px < R; px++) {
        const [x0, x1, wx] = upsampleTaps(px, M, R);
        const upper = f(f(f(1 - wx) * at(plane + y0 * M + x0)) + f(wx * at(plane + y0 * M + x1)));
        const lower = f(f(f(1 - wx) * at(plane + y1 * M + x0)) + f(wx * at(plane + y1 * M + x1)));
        out[(k * R + py) * R + px] = f(f(f(1 - wy) * upper) + f(wy * lower));
      }
    }
  }
  return out;
}

/**
 * @param bases [K, Hb, Wb] f32
 * @param records the kept records (record n = row n of the output)
 * @param capacity rows of the output (≥ records.length)
 * @returns logits and probabilities (sigmoid), each [capacity, R, R]
 */
export function blenderReference(
  bases: { data: Float32Array; height: number; width: number },
  levels: readonly AttentionLevel[],
  records: readonly BlenderRecord[],
  capacity: number,
  input: { width: number; height: number },
  spec: BlenderSpec,
): { logits: Float32Array; probabilities: Float32Array } {
  const { numBases: K, outSize: R } = spec;
  const rois = recordRoisInPixels(records, input);
  // Step 1: [n, K, R, R].
  const pooled = roiAlignReference(
    [{ data: bases.data, height: bases.height, width: bases.width, spatialScale: spec.spatialScale }],
    K,
    rois,
    records.length,
    records.length,
    { outSize: R, samplingRatio: 1, aligned: true, canonicalScale: 224, canonicalLevel: 4, minLevel: 0, maxLevel: 0 },
  );
  const logits = new Float32Array(capacity * R * R);
  const probabilities = new Float32Array(capacity * R * R);
  records.forEach((rec, n) => {
    const attention = upsampledAttention(levels, rec.sourceIndex, spec);
    for (let i = 0; i < R * R; i++) {
      let top = -Infinity;
      for (let k = 0; k < K; k++) top = Math.max(top, attention[k * R * R + i]!);
      let weights = 0;
      let blended = 0;
      for (let k = 0; k < K; k++) {
        const e = f(Math.exp(f(attention[k * R * R + i]! - top)));
        weights = f(weights + e);
        blended = f(blended + f(pooled[(n * K + k) * R * R + i]! * e));
      }
      const logit = f(blended / weights);
      logits[n * R * R + i] = logit;
      probabilities[n * R * R + i] = sigmoidF32(logit);
    }
  });
  return { logits, probabilities };
}
