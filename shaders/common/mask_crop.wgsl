// The instance crop of prototype masks (mask_coefficients.wgsl, mask_upsample.wgsl), in
// proto pixels, for a box relative to the model input (the prototypes cover the input):
//   0 'yolact-padded': x1' = max(min(x1,x2)·P − 1, 0), x2' = min(max(x1,x2)·P + 1, P)
//   1 'integer'      : x1' = x1·P, x2' = x2·P (Ultralytics crop_mask)
//   2 'none'
// and pixel c is kept when x1' ≤ c < x2' (same for rows). Reference:
// app/reference/maskAssembly.ts. The including kernel's Params has `cropMode`.

const CROP_YOLACT_PADDED = 0u;
const CROP_INTEGER = 1u;

// Half-open kept range [start, end) along one axis of `size` proto pixels.
fn cropRange(lo: f32, hi: f32, size: f32) -> vec2<f32> {
  if (params.cropMode == CROP_YOLACT_PADDED) {
    let a = min(lo, hi) * size;
    let b = max(lo, hi) * size;
    return vec2<f32>(max(a - 1.0, 0.0), min(b + 1.0, size));
  }
  if (params.cropMode == CROP_INTEGER) {
    return vec2<f32>(lo * size, hi * size);
  }
  return vec2<f32>(0.0, size);
}
