// pastedMaskBits — the masks of a public Mask R-CNN export → bit-packed instance masks at
// mask resolution + each record's maskArea (the same output as mask_upsample.wgsl, so
// compose_overlay and the read-back work unchanged). Two modes:
//
//   MODE_PASTED (torchvision): masks [N, 1, srcH, srcW] probabilities already pasted at the
//     model input size. Mask pixel (x, y) of record n samples plane sourceIndex_n
//     bilinearly (PyTorch align_corners=False) at src = (x + 0.5)·scale + bias, scale and bias
//     folding mask → image → input (maskAssembly.ts `upsampleMapping`, proto = input).
//   MODE_ROI (ONNX zoo): masks [N, 1, 28, 28] probabilities, unpasted. torchvision's
//     `paste_masks_in_image` with padding 1, done at mask resolution: the record's box in
//     mask pixels (box · scale + bias per axis), expanded about its centre by 30/28,
//     truncated toward zero → x1, y1, w = x2 − x1 + 1, h = y2 − y1 + 1 (≥ 1); a pixel of the
//     inclusive region clipped to the mask samples the zero-padded 30x30 grid bilinearly at
//     ((x − x1 + 0.5)·30/w − 0.5, (y − y1 + 0.5)·30/h − 0.5), negative clamped to 0.
// A pixel is set when the value > threshold (0.5).
// Reference: `pastedMaskBitsReference` / `roiMaskBitsReference` in
// app/reference/pastedMaskBits.ts.
//
// Bindings (group 0):
//   0 params    uniform  Params (written by field name in app/gpu/kernels/pastedMaskBits.ts)
//   1 records   storage  read_write  DetectionRecords (maskArea accumulated; reset to 0 by
//               exported_records.wgsl)
//   2 masks     storage  read  f32 [N, 1, srcH, srcW]
//   3 maskBits  storage  read_write  u32 [maxDetections, maskHeight, wordsPerRow]
// Dispatch: (ceil(maskHeight · wordsPerRow / 64), 1, 1); one invocation per 32-pixel word
// (a single writer per word, no bit atomics), looping over the kept records
// (common/mask_words.wgsl). ROI mode skips words outside the paste region without sampling.

struct Params {
  maskWidth: u32,
  maskHeight: u32,
  wordsPerRow: u32,
  maxDetections: u32,
  mode: u32,
  srcWidth: u32,
  srcHeight: u32,
  _pad0: u32,
  mapping: AxisMapping, // MODE_PASTED: mask pixel → input pixel; MODE_ROI: relative box → mask pixels
  threshold: f32,
  _pad1: u32,
  _pad2: u32,
  _pad3: u32,
}

//!include record_atomic_area
//!include records

//!include mask_words

const MODE_PASTED = 0u;
// torchvision paste_masks_in_image(padding=1): one zero row / column around the grid.
const PADDING = 1u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read> masks: array<f32>;

fn pastedWord(n: u32, y: u32, firstX: u32, lastX: u32) -> u32 {
  let sw = params.srcWidth;
  let sh = params.srcHeight;
  let m = params.mapping;
  let ty = taps(f32(y), m.scaleY, m.biasY, sh);
  let plane = records.items[n].sourceIndex * sw * sh;
  let row0 = plane + ty.i0 * sw;
  let row1 = plane + ty.i1 * sw;
  var word = 0u;
  for (var x = firstX; x <= lastX; x++) {
    let tx = taps(f32(x), m.scaleX, m.biasX, sw);
    if (blend(tx, ty, masks[row0 + tx.i0], masks[row0 + tx.i1], masks[row1 + tx.i0], masks[row1 + tx.i1]) > params.threshold) {
      word |= 1u << (x - firstX);
    }
  }
  return word;
}

// Value of the zero-padded (side + 2)² grid at (row, col) of plane `base`.
fn padded(base: u32, side: u32, r: u32, c: u32) -> f32 {
  if (r < PADDING || c < PADDING || r >= side + PADDING || c >= side + PADDING) {
    return 0.0;
  }
  return masks[base + (r - PADDING) * side + (c - PADDING)];
}

// The paste box of torchvision (padding 1) for a box in mask pixels: x1, y1, w, h.
fn pasteBox(b: vec4<f32>, side: u32) -> vec4<i32> {
  let scale = f32(side + 2u * PADDING) / f32(side);
  let wHalf = (b.z - b.x) * 0.5 * scale;
  let hHalf = (b.w - b.y) * 0.5 * scale;
  let xc = (b.z + b.x) * 0.5;
  let yc = (b.w + b.y) * 0.5;
  let x1 = i32(xc - wHalf);
  let x2 = i32(xc + wHalf);
  let y1 = i32(yc - hHalf);
  let y2 = i32(yc + hHalf);
  return vec4<i32>(x1, y1, max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1));
}

fn roiWord(n: u32, y: u32, firstX: u32, lastX: u32) -> u32 {
  let side = params.srcWidth;
  let p = pasteBox(mapBox(params.mapping, records.items[n].box), side);
  let yi = i32(y);
  // Outside the inclusive paste rows, or no column of this word in the paste columns.
  if (yi < p.y || yi >= p.y + p.w || i32(lastX) < p.x || i32(firstX) >= p.x + p.z) {
    return 0u;
  }
  let grid = side + 2u * PADDING;
  let base = records.items[n].sourceIndex * side * side;
  let ty = taps(f32(yi - p.y), f32(grid) / f32(p.w), -0.5, grid);
  let xScale = f32(grid) / f32(p.z);
  var word = 0u;
  let xFrom = u32(max(i32(firstX), p.x));
  let xTo = u32(min(i32(lastX), p.x + p.z - 1));
  for (var x = xFrom; x <= xTo; x++) {
    let tx = taps(f32(i32(x) - p.x), xScale, -0.5, grid);
    let value = blend(tx, ty, padded(base, side, ty.i0, tx.i0), padded(base, side, ty.i0, tx.i1), padded(base, side, ty.i1, tx.i0), padded(base, side, ty.i1, tx.i1));
    if (value > params.threshold) {
      word |= 1u << (x - firstX);
    }
  }
  return word;
}

fn beginWord(y: u32, firstX: u32, lastX: u32) {}

fn maskWord(n: u32, y: u32, firstX: u32, lastX: u32) -> u32 {
  if (params.mode == MODE_PASTED) {
    return pastedWord(n, y, firstX, lastX);
  }
  return roiWord(n, y, firstX, lastX);
}
