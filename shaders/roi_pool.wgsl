// roiPool — multi-level RoIPool (Fast R-CNN; torchvision.ops.roi_pool): for each RoI n <
// count, the same FPN level assignment as roi_align.wgsl, then per channel and out×out bin
// the max of the feature values the quantised bin covers (reference:
// app/reference/roiPool.ts): start/end = round(box · scale) (half away from zero), size =
// max(end − start + 1, 1), bin = size / out, rows [⌊ph·bin⌋, ⌈(ph + 1)·bin⌉) + start clamped to
// [0, H] (columns likewise); an empty bin gives 0. RoIs at or past the count get 0.
//
// Params, bindings, the RoI's level and the dispatch (one invocation per output value):
// common/roi_levels.wgsl, as roi_align.wgsl (samplingRatio and aligned unused); here the
// value of one bin.

//!include roi_levels

// C's round(): half away from zero (WGSL round() is half to even).
fn roundHalfAway(v: vec4<f32>) -> vec4<i32> {
  return vec4<i32>(sign(v) * floor(abs(v) + 0.5));
}

fn pooledValue(box: vec4<f32>, level: u32, c: u32, binY: u32, binX: u32) -> f32 {
  let out = params.outSize;
  let ph = i32(binY);
  let pw = i32(binX);
  let height = i32(params.levelSizes[level].x);
  let width = i32(params.levelSizes[level].y);
  let q = roundHalfAway(box * params.spatialScales[level]);
  let bin = vec2<f32>(max(q.zw - q.xy + 1, vec2<i32>(1))) / f32(out);
  let h0 = clamp(i32(floor(f32(ph) * bin.y)) + q.y, 0, height);
  let h1 = clamp(i32(ceil(f32(ph + 1) * bin.y)) + q.y, 0, height);
  let w0 = clamp(i32(floor(f32(pw) * bin.x)) + q.x, 0, width);
  let w1 = clamp(i32(ceil(f32(pw + 1) * bin.x)) + q.x, 0, width);
  if (h1 <= h0 || w1 <= w0) {
    return 0.0;
  }
  let base = i32(c) * height * width;
  var best = bitcast<f32>(0xff7fffffu); // −FLT_MAX, as torchvision
  for (var h = h0; h < h1; h++) {
    for (var w = w0; w < w1; w++) {
      best = max(best, feature(level, u32(base + h * width + w)));
    }
  }
  return best;
}
