// blender — BlendMask's blender (Chen et al. 2020; AdelaiDet blender.py `merge_bases`,
// /work/shared/MODELS.md §5), also B2Inst's (its boundary basis is one more basis: K = 5).
// Reference: app/reference/blender.ts, which writes out every rule below.
//
// For record n < count (DetectionRecords; box relative to the model input) and output pixel
// (py, px) of R×R (R = 56):
//   box in input pixels = box · (inputWidth, inputHeight); RoIAlign of each basis k of
//   bases [K, Hb, Wb] with aligned=True, sampling 1, scale 1/4 (detectron2 ROIAlignV2):
//     start = box·scale − 0.5, bin = (end − start) / R (no clamp),
//     y = start_y + (py + 0.5)·bin_h (x alike), torchvision's bilinear (0 past −1 / H,
//     clamped into the map)                                       → roi_k
//   attention: the K×M×M row of the record's location (sourceIndex = FCOS location g, top_feats
//     of its level), plane k upsampled M → R bilinearly, align_corners=False:
//     src = max((p + 0.5)·M/R − 0.5, 0), i0 = min(⌊src⌋, M − 1), i1 = min(i0 + 1, M − 1)
//                                                                  → a_k
//   softmax over k (max subtracted), logit = Σ_k roi_k · softmax_k.
// Output: logits [maxDetections, R, R] f32, rows at or past the count 0. No sigmoid here: its
// consumers apply it (mask_paste.wgsl in detectron2 mode samples sigmoid(logit) per cell, as
// AdelaiDet pastes the sigmoided masks; boundary_map.wgsl thresholds it).
//
// Attention source: location g of level l (levels[l] = (first, count, locStride, featStride))
// reads element j (= k·M·M + i·M + jx) at topFeats_l[(g − first)·locStride + j·featStride]:
// AdelaiDet's per-level top_feats [1, K·M·M, H, W] → (1, H·W); a gathered [N, K·M·M] → (K·M·M, 1).
//
// Bindings: 0 params, 1 records (read), 2 bases [K, Hb, Wb] f32, 3..7 topFeats of levels 0..4
//   (unused levels bind any buffer), 8 logits [maxDetections, R, R] f32 (write).
// Dispatch: one invocation per output value, maxDetections·R² of them in workgroups of 64 folded
//   into (x ≤ 65535, y) (common/folded_index.wgsl: the entry point).

// Params: app/gpu/kernels/blender.ts writes it by field name, laid out from this declaration
// (app/gpu/uniforms.ts; the byte offsets in the comments are checked by uniforms.test.ts).
struct Params {
  maxDetections: u32,              //  0: rows of the output
  numBases: u32,                   //  4: K (≤ MAX_BASES)
  basisHeight: u32,                //  8: Hb
  basisWidth: u32,                 // 12: Wb
  outSize: u32,                    // 16: R (56)
  attnSize: u32,                   // 20: M (14)
  numLevels: u32,                  // 24: attention levels bound (1..5)
  _pad0: u32,                      // 28
  inputWidth: f32,                 // 32: relative box → input pixels
  inputHeight: f32,                // 36
  spatialScale: f32,               // 40: 1 / basis stride (0.25)
  _pad1: f32,                      // 44
  levels: array<vec4<u32>, 5>,     // 48: (first location, locations, locStride, featStride)
}

//!include record
//!include records
//!include bilinear_taps

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> records: Records;
@group(0) @binding(2) var<storage, read> bases: array<f32>;
@group(0) @binding(3) var<storage, read> top0: array<f32>;
@group(0) @binding(4) var<storage, read> top1: array<f32>;
@group(0) @binding(5) var<storage, read> top2: array<f32>;
@group(0) @binding(6) var<storage, read> top3: array<f32>;
@group(0) @binding(7) var<storage, read> top4: array<f32>;
@group(0) @binding(8) var<storage, read_write> logits: array<f32>;

const WORKGROUP: u32 = 64u;
// Bases the softmax holds in registers (BlendMask 4, B2Inst 5).
const MAX_BASES: u32 = 8u;
const MAX_LEVELS: u32 = 5u;

fn topFeat(level: u32, index: u32) -> f32 {
  switch level {
    case 0u: { return top0[index]; }
    case 1u: { return top1[index]; }
    case 2u: { return top2[index]; }
    case 3u: { return top3[index]; }
    default: { return top4[index]; }
  }
}

// torchvision's bilinear_interpolate on basis plane `base` (common/bilinear_taps.wgsl).
fn basisSample(base: u32, yIn: f32, xIn: f32) -> f32 {
  let t = bilinearTaps(params.basisHeight, params.basisWidth, yIn, xIn);
  if (!t.inside) {
    return 0.0;
  }
  return (((t.w1 * bases[base + t.i1] + t.w2 * bases[base + t.i2]) + t.w3 * bases[base + t.i3]) + t.w4 * bases[base + t.i4]);
}

// Taps of output pixel p of an M → R upsample (align_corners=False): (i0, i1, weight of i1).
struct AttnTaps {
  i0: u32,
  i1: u32,
  w1: f32,
}

fn attnTaps(p: u32) -> AttnTaps {
  let m = params.attnSize;
  let src = max((f32(p) + 0.5) * (f32(m) / f32(params.outSize)) - 0.5, 0.0);
  let i0 = min(u32(floor(src)), m - 1u);
  let i1 = min(i0 + 1u, m - 1u);
  return AttnTaps(i0, i1, src - f32(i0));
}

//!include folded_index

fn atIndex(index: u32) {
  let r = params.outSize;
  if (index >= params.maxDetections * r * r) {
    return;
  }
  let n = index / (r * r);
  if (n >= records.count) {
    logits[index] = 0.0;
    return;
  }
  let py = (index / r) % r;
  let px = index % r;
  let record = records.items[n];

  // RoIAlign geometry of this bin (aligned, sampling 1).
  let box = record.box * vec4<f32>(params.inputWidth, params.inputHeight, params.inputWidth, params.inputHeight);
  let start = box.xy * params.spatialScale - 0.5;
  let bin = ((box.zw * params.spatialScale - 0.5) - start) / f32(r);
  let y = (start.y + f32(py) * bin.y) + (0.5 * bin.y);
  let x = (start.x + f32(px) * bin.x) + (0.5 * bin.x);

  // The record's attention row: its level and location there.
  let g = record.sourceIndex;
  var level = 0u;
  for (var l = 1u; l < min(params.numLevels, MAX_LEVELS); l++) {
    if (g >= params.levels[l].x) {
      level = l;
    }
  }
  let lv = params.levels[level];
  let rowBase = (g - lv.x) * lv.z;
  let m = params.attnSize;
  let ty = attnTaps(py);
  let tx = attnTaps(px);

  var attention: array<f32, MAX_BASES>;
  var top = -3.4e38;
  let k = min(params.numBases, MAX_BASES);
  for (var b = 0u; b < k; b++) {
    let plane = b * m * m;
    let v00 = topFeat(level, rowBase + (plane + ty.i0 * m + tx.i0) * lv.w);
    let v01 = topFeat(level, rowBase + (plane + ty.i0 * m + tx.i1) * lv.w);
    let v10 = topFeat(level, rowBase + (plane + ty.i1 * m + tx.i0) * lv.w);
    let v11 = topFeat(level, rowBase + (plane + ty.i1 * m + tx.i1) * lv.w);
    let upper = (1.0 - tx.w1) * v00 + tx.w1 * v01;
    let lower = (1.0 - tx.w1) * v10 + tx.w1 * v11;
    let a = (1.0 - ty.w1) * upper + ty.w1 * lower;
    attention[b] = a;
    top = max(top, a);
  }
  var weights = 0.0;
  var blended = 0.0;
  let planeSize = params.basisHeight * params.basisWidth;
  for (var b = 0u; b < k; b++) {
    let e = exp(attention[b] - top);
    weights += e;
    blended += basisSample(b * planeSize, y, x) * e;
  }
  logits[index] = blended / weights;
}
