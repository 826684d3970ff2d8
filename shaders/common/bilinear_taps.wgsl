// torchvision's bilinear_interpolate as four taps: for a sample (y, x) on a height × width
// map, the row-major indices of the four neighbours and their weights. Samples with
// y < −1, y > H, x < −1 or x > W are outside (`inside` false: the sample is 0); the others
// are clamped into the map. Callers sum w1·v(i1) + w2·v(i2) + w3·v(i3) + w4·v(i4) in that
// order (the reference's order, so GPU and TypeScript round alike). Used by roi_align.wgsl
// (RoI features) and blender.wgsl (bases).

struct BilinearTaps {
  inside: bool,
  i1: u32,
  i2: u32,
  i3: u32,
  i4: u32,
  w1: f32,
  w2: f32,
  w3: f32,
  w4: f32,
}

fn bilinearTaps(height: u32, width: u32, yIn: f32, xIn: f32) -> BilinearTaps {
  var taps: BilinearTaps;
  if (yIn < -1.0 || yIn > f32(height) || xIn < -1.0 || xIn > f32(width)) {
    taps.inside = false;
    return taps;
  }
  var y = max(yIn, 0.0);
  var x = max(xIn, 0.0);
  var yLow = u32(y);
  var xLow = u32(x);
  var yHigh = yLow + 1u;
  var xHigh = xLow + 1u;
  if (yLow >= height - 1u) {
    yLow = height - 1u;
    yHigh = yLow;
    y = f32(yLow);
  }
  if (xLow >= width - 1u) {
    xLow = width - 1u;
    xHigh = xLow;
    x = f32(xLow);
  }
  let ly = y - f32(yLow);
  let lx = x - f32(xLow);
  let hy = 1.0 - ly;
  let hx = 1.0 - lx;
  taps.inside = true;
  taps.i1 = yLow * width + xLow;
  taps.i2 = yLow * width + xHigh;
  taps.i3 = yHigh * width + xLow;
  taps.i4 = yHigh * width + xHigh;
  taps.w1 = hy * hx;
  taps.w2 = hy * lx;
  taps.w3 = ly * hx;
  taps.w4 = ly * lx;
  return taps;
}
