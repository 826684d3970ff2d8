// Multi-level RoI pooling frame — what roi_align.wgsl and roi_pool.wgsl share: their params
// and bindings, reading RoI n through the strided box view, its FPN level from the box size
// (app/reference/roiAlign.ts roiLevelIndex), and the entry point: one invocation per output
// value (n, c, ph, pw), RoIs at or past the count (and rows of a larger capacity) written 0.
// The including kernel defines `fn pooledValue(box: vec4<f32>, level: u32, c: u32, ph: u32,
// pw: u32) -> f32`, the value of bin (ph, pw) of channel c (box in input pixels; `feature`
// reads the level's map).
//
// Level rules (`levelRule`): LEVEL_RULE_SCALE, FPN's Equation 1 (Mask R-CNN): k = floor(
// canonicalLevel + log2(√area / canonicalScale + 1e-6)); LEVEL_RULE_RATIO, CenterMask's
// Equation 2: k = ceil(maxLevel − log2(inputArea / area)), i.e. the smallest k with
// inputArea ≥ 2^(maxLevel − k)·area, found by exact comparisons (powers of two), so a box of
// exactly half / a quarter of the input lands on the same level as in the reference. Both
// clamped to [minLevel, maxLevel].
//
// RoIs are read through a strided view so one kernel serves both the RPN's [R, 4] boxes in
// input pixels and DetectionRecords (relative boxes, count in the header):
//   box n = boxes[roiOffset + n·roiStride .. + 4] · (roiScaleX, roiScaleY, roiScaleX, roiScaleY),
//   count = counts[countWord].
// Bindings: 0 params, 1 boxes f32 (read), 2 counts u32 (read; may be the same buffer as 1),
//   3..6 features P2..P5 NCHW [1, C, H_l, W_l] f32 (read; unused levels bind any buffer),
//   7 output [R, C, out, out] f32.
// Dispatch: one invocation per output value, R·C·out² of them in workgroups of 64 folded
//   into (x ≤ 65535, y) (folded_index.wgsl, included here: the entry point).

// Params: app/gpu/kernels/roiAlign.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  numRois: u32,                      //   0: R, rows of the output
  channels: u32,                     //   4: C
  outSize: u32,                      //   8
  numLevels: u32,                    //  12: feature maps bound (1..4)
  roiOffset: u32,                    //  16: f32 word of box 0 in `boxes`
  roiStride: u32,                    //  20: f32 words between boxes
  countWord: u32,                    //  24: u32 word of the count in `counts`
  samplingRatio: i32,                //  28: ≤ 0 adaptive (RoIAlign only)
  aligned: u32,                      //  32: 1 = half-pixel offset (RoIAlign only)
  minLevel: i32,                     //  36
  maxLevel: i32,                     //  40
  levelRule: u32,                    //  44: LEVEL_RULE_SCALE (Eq. 1) | LEVEL_RULE_RATIO (Eq. 2)
  roiScaleX: f32,                    //  48: box → input pixels
  roiScaleY: f32,                    //  52
  canonicalScale: f32,               //  56: 224
  canonicalLevel: f32,               //  60: 4
  levelSizes: array<vec4<u32>, 4>,   //  64: (height, width, 0, 0) per feature map
  spatialScales: vec4<f32>,          // 128: 1 / stride per feature map
  inputArea: f32,                    // 144: A_input of Eq. 2 (input width · height, pixels²)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> boxes: array<f32>;
@group(0) @binding(2) var<storage, read> counts: array<u32>;
@group(0) @binding(3) var<storage, read> p2: array<f32>;
@group(0) @binding(4) var<storage, read> p3: array<f32>;
@group(0) @binding(5) var<storage, read> p4: array<f32>;
@group(0) @binding(6) var<storage, read> p5: array<f32>;
@group(0) @binding(7) var<storage, read_write> output: array<f32>;

const WORKGROUP: u32 = 64u;
// Inside the log2 (contract, models/maskrcnn/loss.py): a box of exactly 224·2^j px lands on
// level 4 + j despite rounding, and an empty box's log2 stays finite.
const LEVEL_EPS: f32 = 1e-6;
const LEVEL_RULE_SCALE: u32 = 0u;
const LEVEL_RULE_RATIO: u32 = 1u;

fn feature(level: u32, index: u32) -> f32 {
  switch level {
    case 0u: { return p2[index]; }
    case 1u: { return p3[index]; }
    case 2u: { return p4[index]; }
    default: { return p5[index]; }
  }
}

fn roiBox(n: u32) -> vec4<f32> {
  let o = params.roiOffset + n * params.roiStride;
  let s = vec4<f32>(params.roiScaleX, params.roiScaleY, params.roiScaleX, params.roiScaleY);
  return vec4<f32>(boxes[o], boxes[o + 1u], boxes[o + 2u], boxes[o + 3u]) * s;
}

// CenterMask's Equation 2: the smallest k in [minLevel, maxLevel) with inputArea ≥
// 2^(maxLevel − k)·area (⇔ ceil(maxLevel − log2(inputArea / area)) ≤ k), else maxLevel.
fn ratioLevel(area: f32) -> i32 {
  for (var k = params.minLevel; k < params.maxLevel; k++) {
    if (params.inputArea >= f32(1u << u32(params.maxLevel - k)) * max(area, 0.0)) {
      return k;
    }
  }
  return params.maxLevel;
}

// Feature-map index of a box (k − minLevel), as app/reference/roiAlign.ts roiLevelIndex.
fn levelIndex(box: vec4<f32>) -> u32 {
  if (params.numLevels <= 1u) {
    return 0u;
  }
  let area = (box.z - box.x) * (box.w - box.y);
  if (params.levelRule == LEVEL_RULE_RATIO) {
    return min(u32(ratioLevel(area) - params.minLevel), params.numLevels - 1u);
  }
  let s = sqrt(max(area, 0.0));
  let k = i32(floor(params.canonicalLevel + log2(s / params.canonicalScale + LEVEL_EPS)));
  return min(u32(clamp(k, params.minLevel, params.maxLevel) - params.minLevel), params.numLevels - 1u);
}

//!include folded_index

fn atIndex(index: u32) {
  let out = params.outSize;
  let perRoi = params.channels * out * out;
  if (index >= params.numRois * perRoi) {
    return;
  }
  let n = index / perRoi;
  if (n >= counts[params.countWord]) {
    output[index] = 0.0;
    return;
  }
  let box = roiBox(n);
  let c = (index / (out * out)) % params.channels;
  output[index] = pooledValue(box, levelIndex(box), c, (index / out) % out, index % out);
}
