// roiPool — multi-level RoIPool (Fast R-CNN; torchvision.ops.roi_pool): for each RoI n <
// count, the same FPN level assignment as roi_align.wgsl, then per channel and out×out bin
// the max of the feature values the quantised bin covers (reference:
// app/reference/roiPool.ts): start/end = round(box · scale) (half away from zero), size =
// max(end − start + 1, 1), bin = size / out, rows [⌊ph·bin⌋, ⌈(ph + 1)·bin⌉) + start clamped to
// [0, H] (columns likewise); an empty bin gives 0. RoIs at or past the count get 0.
//
// Params, bindings and dispatch exactly as roi_align.wgsl (samplingRatio and aligned unused):
//   0 params, 1 boxes f32, 2 counts u32, 3..6 features P2..P5 NCHW, 7 output [R, C, out, out];
//   one invocation per output value, workgroups of 64 folded into (x ≤ 65535, y).

// Mirrors PARAMS_BYTES in app/gpu/kernels/roiAlign.ts (byte offsets); same as roi_align.wgsl.
struct Params {
  numRois: u32,                      //   0
  channels: u32,                     //   4
  outSize: u32,                      //   8
  numLevels: u32,                    //  12
  roiOffset: u32,                    //  16
  roiStride: u32,                    //  20
  countWord: u32,                    //  24
  samplingRatio: i32,                //  28 (unused)
  aligned: u32,                      //  32 (unused)
  minLevel: i32,                     //  36
  maxLevel: i32,                     //  40
  _pad0: u32,                        //  44
  roiScaleX: f32,                    //  48
  roiScaleY: f32,                    //  52
  canonicalScale: f32,               //  56
  canonicalLevel: f32,               //  60
  levelSizes: array<vec4<u32>, 4>,   //  64
  spatialScales: vec4<f32>,          // 128
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
// Inside the log2, as roi_align.wgsl.
const LEVEL_EPS: f32 = 1e-6;

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

fn levelIndex(box: vec4<f32>) -> u32 {
  if (params.numLevels <= 1u) {
    return 0u;
  }
  let area = (box.z - box.x) * (box.w - box.y);
  let s = sqrt(max(area, 0.0));
  let k = i32(floor(params.canonicalLevel + log2(s / params.canonicalScale + LEVEL_EPS)));
  return min(u32(clamp(k, params.minLevel, params.maxLevel) - params.minLevel), params.numLevels - 1u);
}

// C's round(): half away from zero (WGSL round() is half to even).
fn roundHalfAway(v: vec4<f32>) -> vec4<i32> {
  return vec4<i32>(sign(v) * floor(abs(v) + 0.5));
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let index = (wid.y * groups.x + wid.x) * WORKGROUP + tid;
  let out = params.outSize;
  let perRoi = params.channels * out * out;
  if (index >= params.numRois * perRoi) {
    return;
  }
  let n = index / perRoi;
  let c = (index / (out * out)) % params.channels;
  let ph = i32((index / out) % out);
  let pw = i32(index % out);
  if (n >= counts[params.countWord]) {
    output[index] = 0.0;
    return;
  }
  let box = roiBox(n);
  let level = levelIndex(box);
  let height = i32(params.levelSizes[level].x);
  let width = i32(params.levelSizes[level].y);
  let q = roundHalfAway(box * params.spatialScales[level]);
  let bin = vec2<f32>(max(q.zw - q.xy + 1, vec2<i32>(1))) / f32(out);
  let h0 = clamp(i32(floor(f32(ph) * bin.y)) + q.y, 0, height);
  let h1 = clamp(i32(ceil(f32(ph + 1) * bin.y)) + q.y, 0, height);
  let w0 = clamp(i32(floor(f32(pw) * bin.x)) + q.x, 0, width);
  let w1 = clamp(i32(ceil(f32(pw + 1) * bin.x)) + q.x, 0, width);
  if (h1 <= h0 || w1 <= w0) {
    output[index] = 0.0;
    return;
  }
  let base = i32(c) * height * width;
  var best = bitcast<f32>(0xff7fffffu); // −FLT_MAX, as torchvision
  for (var h = h0; h < h1; h++) {
    for (var w = w0; w < w1; w++) {
      best = max(best, feature(level, u32(base + h * width + w)));
    }
  }
  output[index] = best;
}
