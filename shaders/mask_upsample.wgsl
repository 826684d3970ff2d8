// maskUpsample — proto-space masks → bit-packed instance masks at mask resolution + areas.
//
// Mask pixel (x, y) of detection n samples its proto-space mask bilinearly with PyTorch's
// align_corners=False rules at src = (x + 0.5)·scale + bias (clamped ≥ 0, i1 = min(i0+1,
// P−1)); scale and bias fold the input→image transform (stretch, or letterbox with its pad
// removed) and the mask/image ratio (app/reference/maskAssembly.ts `upsampleMapping`). The
// pixel is set when the value > threshold (0.5 for sigmoid masks, 0 for logits).
// Output: bits [maxDetections, maskHeight, wordsPerRow] u32, bit (x % 32) of word x / 32; and
// records.items[n].maskArea += popcount (reset to 0 by maskCoefficients beforehand).
//
// One invocation per 32-pixel word (common/mask_words.wgsl: the entry point, taps, the
// records and maskBits bindings). Words whose bilinear taps all fall outside the instance's
// proto-space crop box (common/mask_crop.wgsl) are zero without sampling (the proto-space
// mask is zero there), which skips most of the image for small instances.
//
// Bindings (group 0):
//   0 params      uniform  Params (written by field name in app/gpu/kernels/maskUpsample.ts)
//   1 records     storage  read_write  DetectionRecords (mirrors app/gpu/layout.ts)
//   2 protoMasks  storage  read  f32 [maxDetections, protoHeight, protoWidth]
//   3 maskBits    storage  read_write  u32 [maxDetections, maskHeight, wordsPerRow]
// Dispatch: (ceil(maskHeight · wordsPerRow / 64), 1, 1); each invocation loops over the kept
// detections (count is only known on the GPU), so no workgroup is spent on empty records.

struct Params {
  maskWidth: u32,
  maskHeight: u32,
  wordsPerRow: u32,
  maxDetections: u32,
  protoWidth: u32,
  protoHeight: u32,
  cropMode: u32,
  _pad0: u32,
  mapping: AxisMapping, // mask pixel → proto pixel (upsampleMapping)
  threshold: f32,
  _pad1: u32,
  _pad2: u32,
  _pad3: u32,
}

//!include record_atomic_area
//!include records

//!include mask_words
//!include mask_crop

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read> protoMasks: array<f32>;

// Sample positions of this word's row and of its first and last pixel: the same for every
// detection (set by beginWord).
var<private> rowTaps: Taps;
var<private> leftTaps: Taps;
var<private> rightTaps: Taps;

// Whether tap range [i0, i1] misses every kept pixel c (start ≤ c < end).
fn outsideCrop(i0: u32, i1: u32, range: vec2<f32>) -> bool {
  return f32(i1) < range.x || f32(i0) >= range.y;
}

fn beginWord(y: u32, firstX: u32, lastX: u32) {
  let m = params.mapping;
  rowTaps = taps(f32(y), m.scaleY, m.biasY, params.protoHeight);
  leftTaps = taps(f32(firstX), m.scaleX, m.biasX, params.protoWidth);
  rightTaps = taps(f32(lastX), m.scaleX, m.biasX, params.protoWidth);
}

fn maskWord(n: u32, y: u32, firstX: u32, lastX: u32) -> u32 {
  let pw = params.protoWidth;
  let ph = params.protoHeight;
  let ty = rowTaps;
  let box = records.items[n].box;
  let cols = cropRange(box.x, box.z, f32(pw));
  let rows = cropRange(box.y, box.w, f32(ph));
  if (outsideCrop(ty.i0, ty.i1, rows) || outsideCrop(leftTaps.i0, rightTaps.i1, cols)) {
    return 0u;
  }
  let plane = n * ph * pw;
  let row0 = plane + ty.i0 * pw;
  let row1 = plane + ty.i1 * pw;
  var word = 0u;
  for (var x = firstX; x <= lastX; x++) {
    let tx = taps(f32(x), params.mapping.scaleX, params.mapping.biasX, pw);
    let value = blend(tx, ty, protoMasks[row0 + tx.i0], protoMasks[row0 + tx.i1], protoMasks[row1 + tx.i0], protoMasks[row1 + tx.i1]);
    if (value > params.threshold) {
      word |= 1u << (x - firstX);
    }
  }
  return word;
}
