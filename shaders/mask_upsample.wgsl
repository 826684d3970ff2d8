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
// One invocation per 32-pixel word, so every word has a single writer and no bit atomics are
// needed. Words whose bilinear taps all fall outside the instance's proto-space crop box are
// zero without sampling (the proto-space mask is zero there), which skips most of the image
// for small instances.
//
// Bindings (group 0):
//   0 params      uniform  Params (mirrored in app/gpu/kernels/maskUpsample.ts)
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
  scaleX: f32,
  biasX: f32,
  scaleY: f32,
  biasY: f32,
  threshold: f32,
  _pad1: u32,
  _pad2: u32,
  _pad3: u32,
}

//!include record_atomic_area
//!include records

// 64 words a workgroup. No workgroup memory and no barriers (they are expensive on
// SwiftShader): each non-zero word adds its popcount to the record's maskArea atomically.
const WORKGROUP = 64u;
const BITS_PER_WORD = 32u;
const CROP_YOLACT_PADDED = 0u;
const CROP_INTEGER = 1u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> records: Records;
@group(0) @binding(2) var<storage, read> protoMasks: array<f32>;
@group(0) @binding(3) var<storage, read_write> maskBits: array<u32>;

// Same crop as mask_coefficients.wgsl: half-open kept range [start, end) in proto pixels.
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

// Bilinear taps along one axis: (i0, i1) and the weight of i1.
struct Taps {
  i0: u32,
  i1: u32,
  w1: f32,
}

fn taps(dst: u32, scale: f32, bias: f32, size: u32) -> Taps {
  let src = max((f32(dst) + 0.5) * scale + bias, 0.0);
  let i0 = min(u32(floor(src)), size - 1u);
  let i1 = min(i0 + 1u, size - 1u);
  return Taps(i0, i1, src - f32(i0));
}

// Whether tap range [i0, i1] misses every kept pixel c (start ≤ c < end).
fn outsideCrop(i0: u32, i1: u32, range: vec2<f32>) -> bool {
  return f32(i1) < range.x || f32(i0) >= range.y;
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let wordsPerRow = params.wordsPerRow;
  let flat = gid.x;
  if (flat >= wordsPerRow * params.maskHeight) {
    return;
  }
  let count = min(records.count, params.maxDetections);
  let y = flat / wordsPerRow;
  let wordX = flat % wordsPerRow;
  let pw = params.protoWidth;
  let ph = params.protoHeight;
  // Sample positions of this word's row and of its first and last pixel: the same for
  // every detection.
  let ty = taps(y, params.scaleY, params.biasY, ph);
  let firstX = wordX * BITS_PER_WORD;
  let lastX = min(firstX + BITS_PER_WORD, params.maskWidth) - 1u;
  let left = taps(firstX, params.scaleX, params.biasX, pw);
  let right = taps(lastX, params.scaleX, params.biasX, pw);

  for (var n = 0u; n < count; n++) {
    var word = 0u;
    let box = records.items[n].box;
    let cols = cropRange(box.x, box.z, f32(pw));
    let rows = cropRange(box.y, box.w, f32(ph));
    if (!outsideCrop(ty.i0, ty.i1, rows) && !outsideCrop(left.i0, right.i1, cols)) {
      let plane = n * ph * pw;
      let row0 = plane + ty.i0 * pw;
      let row1 = plane + ty.i1 * pw;
      for (var x = firstX; x <= lastX; x++) {
        let tx = taps(x, params.scaleX, params.biasX, pw);
        let top = (1.0 - tx.w1) * protoMasks[row0 + tx.i0] + tx.w1 * protoMasks[row0 + tx.i1];
        let bottom = (1.0 - tx.w1) * protoMasks[row1 + tx.i0] + tx.w1 * protoMasks[row1 + tx.i1];
        let value = (1.0 - ty.w1) * top + ty.w1 * bottom;
        if (value > params.threshold) {
          word |= 1u << (x - firstX);
        }
      }
    }
    maskBits[(n * params.maskHeight + y) * wordsPerRow + wordX] = word;
    if (word != 0u) {
      atomicAdd(&records.items[n].maskArea, countOneBits(word));
    }
  }
}
