// roiAlign — multi-level RoIAlign (torchvision MultiScaleRoIAlign + roi_align): for each
// RoI n < count, its FPN level from the box size, then out×out bins per channel, each the
// mean of grid_h × grid_w bilinear samples (reference: app/reference/roiAlign.ts, which
// spells out every rule: level k = floor(canonicalLevel + log2(√area / canonicalScale +
// 1e-6)) clamped; aligned → half-pixel offset; unaligned → RoI sides ≥ 1; samplingRatio ≤ 0 →
// adaptive ceil(size / out); samples with y < −1, y > H, x < −1 or x > W are 0, others
// clamped into the map). RoIs at or past the count, and rows of a larger capacity, get 0.
//
// Params, bindings, the RoI's level and the dispatch (one invocation per output value):
// common/roi_levels.wgsl; here the value of one bin.

//!include roi_levels
//!include bilinear_taps

fn bilinear(level: u32, base: u32, height: u32, width: u32, yIn: f32, xIn: f32) -> f32 {
  let t = bilinearTaps(height, width, yIn, xIn);
  if (!t.inside) {
    return 0.0;
  }
  return (((t.w1 * feature(level, base + t.i1) + t.w2 * feature(level, base + t.i2)) + t.w3 * feature(level, base + t.i3)) +
    t.w4 * feature(level, base + t.i4));
}

fn pooledValue(box: vec4<f32>, level: u32, c: u32, ph: u32, pw: u32) -> f32 {
  let out = params.outSize;
  let height = params.levelSizes[level].x;
  let width = params.levelSizes[level].y;
  let scale = params.spatialScales[level];
  let offset = select(0.0, 0.5, params.aligned == 1u);
  let start = box.xy * scale - offset;
  var size = (box.zw * scale - offset) - start;
  if (params.aligned == 0u) {
    size = max(size, vec2<f32>(1.0));
  }
  let bin = size / f32(out);
  var grid = vec2<u32>(u32(max(params.samplingRatio, 0)));
  if (params.samplingRatio <= 0) {
    grid = vec2<u32>(ceil(size / f32(out)));
  }
  let samples = f32(max(grid.x * grid.y, 1u));
  let base = c * height * width;
  var sum = 0.0;
  for (var iy = 0u; iy < grid.y; iy++) {
    let y = (start.y + f32(ph) * bin.y) + ((f32(iy) + 0.5) * bin.y) / f32(grid.y);
    for (var ix = 0u; ix < grid.x; ix++) {
      let x = (start.x + f32(pw) * bin.x) + ((f32(ix) + 0.5) * bin.x) / f32(grid.x);
      sum += bilinear(level, base, height, width, y, x);
    }
  }
  return sum / samples;
}
