// maskPaste — Mask R-CNN's 28x28 class masks pasted into the bit-packed instance masks at
// mask resolution, exactly as torchvision's paste_masks_in_image (padding 1), + areas.
// Reference: app/reference/maskPaste.ts.
//
// Record n (row n of maskLogits: the mask head ran on the records' boxes in record order):
//   MODE_TORCHVISION (Mask R-CNN):
//   probabilities = sigmoid(maskLogits[n, classIndex + 1]) (channel 0 = background), seen
//   through a zero border of `padding` pixels: a P×P mask, P = S + 2·padding;
//   box (relative to the model input) → mask pixels: u·scale + bias (the InputTransform and
//   the mask/image ratio folded on the host), expanded about its centre by P / S and
//   truncated toward zero (torch .to(int64)) → inclusive integer box (x1, y1, x2, y2),
//   w = max(x2 − x1 + 1, 1), h = max(y2 − y1 + 1, 1);
//   mask pixel (x, y) inside that box takes the bilinear resize P×P → (h, w) with PyTorch's
//   align_corners=False rules at column x − x1, row y − y1; it is set when the value > 0.5.
// Output: maskBits [maxDetections, maskHeight, wordsPerRow] u32, bit (x % 32) of word x / 32
// (same as mask_upsample.wgsl, so compose_overlay and the read-back work unchanged), and
// records.items[n].maskArea += popcount, after `resetAreas` zeroed it (so a re-run on the same
// records, e.g. a re-encoded frame, does not add up).
//
// MODE_DETECTRON2 (CenterMask; detectron2's paste_masks_in_image, /work/shared/MODELS.md §4):
//   the box in mask pixels (same mapping) clipped to the mask (detectron2 clips the boxes to
//   the image first); empty after clipping → no pixel. Pixel (x, y) samples the S×S
//   probabilities bilinearly with zero outside (grid_sample, align_corners=False) at
//   ((x + 0.5 − x0)/(x1 − x0)·S − 0.5, (y + 0.5 − y0)/(y1 − y0)·S − 0.5); set when ≥ 0.5.
//   Only pixels in [floor(x0) − 1, ceil(x1)] (rows alike) are sampled: outside, the sample
//   lies beyond half a cell from the grid, where the zero-padded bilinear value is < 0.5.
// Rows and channels: `classOffset` is the channel of class 0 (Mask R-CNN 1: background first;
// CenterMask 0: [M, K, S, S]); `rowFromSource` = 1 reads row records.items[n].sourceIndex
// instead of n (CenterMask's rescoring reorders the records and keeps the mask-head row there).
// `classAgnostic` = 1: a row holds one mask ([M, 1, S, S], BlendMask / B2Inst's blender logits,
// S = 56), read whatever the record's class (the host sets numClasses 1, classOffset 0).
//
// Gather, one invocation per 32-pixel word: every word has a single writer; words outside
// the record's pasted box are zero without sampling.
//
// Bindings (group 0), as mask_upsample.wgsl:
//   0 params      uniform  Params (written by field name in app/gpu/kernels/maskPaste.ts)
//   1 records     storage  read_write  DetectionRecords (mirrors app/gpu/layout.ts)
//   2 maskLogits  storage  read  f32 [maxDetections, numClasses + classOffset, maskSize, maskSize]
//   3 maskBits    storage  read_write  u32 [maxDetections, maskHeight, wordsPerRow]
// Dispatch, in one pass: resetAreas (ceil(maxDetections / 64), 1, 1), then main
// (ceil(maskHeight · wordsPerRow / 64), 1, 1); each invocation of main loops over the kept
// records (count is only known on the GPU).

struct Params {
  maskWidth: u32,       //  0
  maskHeight: u32,      //  4
  wordsPerRow: u32,     //  8
  maxDetections: u32,   // 12
  numClasses: u32,      // 16: K foreground classes (K + 1 channels)
  maskSize: u32,        // 20: S (28)
  padding: u32,         // 24: zero border (1)
  mode: u32,            // 28: MODE_TORCHVISION | MODE_DETECTRON2
  mapping: AxisMapping, // 32: mask x = u · scaleX + biasX (u relative to the input; y alike)
  expand: f32,          // 48: (S + 2·padding) / S
  threshold: f32,       // 52: 0.5
  classOffset: u32,     // 56: channel of class 0 (1: background first; 0: K channels)
  rowFromSource: u32,   // 60: 1 = mask row of record n is its sourceIndex, 0 = n
  classAgnostic: u32,   // 64: 1 = one mask a row ([M, 1, S, S]: BlendMask's blender), class ignored
}

const MODE_TORCHVISION: u32 = 0u;
const MODE_DETECTRON2: u32 = 1u;

//!include record_atomic_area
//!include records

// 64 words a workgroup, no workgroup memory, no barriers (as mask_upsample.wgsl).
//!include mask_words

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read> maskLogits: array<f32>;

fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) {
    return 1.0 / (1.0 + exp(-x));
  }
  let e = exp(x);
  return e / (1.0 + e);
}

// Bilinear taps of output pixel j of a P-pixel axis resized to `size` pixels.
// Taps of pixel j of a paste box side of `size` pixels on the zero-padded grid of `padded`
// cells (PyTorch align_corners=False: src = (j + 0.5)·padded/size − 0.5).
fn gridTaps(j: i32, size: i32, padded: u32) -> Taps {
  return taps(f32(j), f32(padded) / f32(size), -0.5, padded);
}

fn paddedAt(plane: u32, i: u32, j: u32) -> f32 {
  let s = params.maskSize;
  let p = params.padding;
  if (i < p || j < p || i >= s + p || j >= s + p) {
    return 0.0;
  }
  return sigmoid(maskLogits[plane + (i - p) * s + (j - p)]);
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn resetAreas(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < min(records.count, params.maxDetections)) {
    atomicStore(&records.items[gid.x].maskArea, 0u);
  }
}

fn beginWord(y: u32, firstX: u32, lastX: u32) {}

// Logit plane of record n's class: its mask-head row, then the class's channel.
fn classPlane(n: u32) -> u32 {
  let s = params.maskSize;
  let row = select(n, records.items[n].sourceIndex, params.rowFromSource == 1u);
  let channel = select(records.items[n].classIndex, 0u, params.classAgnostic == 1u);
  return (row * (params.numClasses + params.classOffset) + channel + params.classOffset) * s * s;
}

// grid_sample's zero padding: a tap outside the S×S grid is 0.
fn cellAt(plane: u32, i: i32, j: i32) -> f32 {
  let s = i32(params.maskSize);
  if (i < 0 || j < 0 || i >= s || j >= s) {
    return 0.0;
  }
  return sigmoid(maskLogits[plane + u32(i * s + j)]);
}

// MODE_DETECTRON2: bits of pixels first … last of mask row `row` for record n.
fn detectron2Word(n: u32, row: u32, first: u32, last: u32) -> u32 {
  let b = mapBox(params.mapping, records.items[n].box);
  let mw = f32(params.maskWidth);
  let mh = f32(params.maskHeight);
  let x0 = clamp(b.x, 0.0, mw);
  let y0 = clamp(b.y, 0.0, mh);
  let x1 = clamp(b.z, 0.0, mw);
  let y1 = clamp(b.w, 0.0, mh);
  if (!(x1 > x0 && y1 > y0)) {
    return 0u;
  }
  let y = i32(row);
  let xFrom = max(i32(first), i32(floor(x0)) - 1);
  let xTo = min(i32(last), i32(ceil(x1)));
  if (y < i32(floor(y0)) - 1 || y > i32(ceil(y1)) || xFrom > xTo) {
    return 0u;
  }
  let s = f32(params.maskSize);
  let plane = classPlane(n);
  let sy = ((f32(y) + 0.5 - y0) / (y1 - y0)) * s - 0.5;
  let iy = i32(floor(sy));
  let wy = sy - floor(sy);
  var word = 0u;
  for (var x = xFrom; x <= xTo; x++) {
    let sx = ((f32(x) + 0.5 - x0) / (x1 - x0)) * s - 0.5;
    let ix = i32(floor(sx));
    let wx = sx - floor(sx);
    let top = (1.0 - wx) * cellAt(plane, iy, ix) + wx * cellAt(plane, iy, ix + 1);
    let bottom = (1.0 - wx) * cellAt(plane, iy + 1, ix) + wx * cellAt(plane, iy + 1, ix + 1);
    let value = (1.0 - wy) * top + wy * bottom;
    if (value >= params.threshold) {
      word |= 1u << u32(x - i32(first));
    }
  }
  return word;
}

fn maskWord(n: u32, row: u32, first: u32, last: u32) -> u32 {
  if (params.mode == MODE_DETECTRON2) {
    return detectron2Word(n, row, first, last);
  }
  let y = i32(row);
  let firstX = i32(first);
  let endX = i32(last) + 1;
  let padded = params.maskSize + 2u * params.padding;
  var word = 0u;
  // Box in mask pixels, expanded by P / S about its centre, truncated toward zero.
  let b = mapBox(params.mapping, records.items[n].box);
  let x1 = b.x;
  let y1 = b.y;
  let x2 = b.z;
  let y2 = b.w;
  let halfW = ((x2 - x1) * 0.5) * params.expand;
  let halfH = ((y2 - y1) * 0.5) * params.expand;
  let cx = (x2 + x1) * 0.5;
  let cy = (y2 + y1) * 0.5;
  let bx1 = i32(cx - halfW);
  let by1 = i32(cy - halfH);
  let bx2 = i32(cx + halfW);
  let by2 = i32(cy + halfH);
  // Inclusive box ∩ this word's pixels (the mask bounds are the word's own).
  let x0 = max(bx1, firstX);
  let xEnd = min(bx2 + 1, endX);
  if (y >= by1 && y <= by2 && x0 < xEnd) {
    let w = max(bx2 - bx1 + 1, 1);
    let h = max(by2 - by1 + 1, 1);
    let plane = classPlane(n);
    let ty = gridTaps(y - by1, h, padded);
    for (var x = x0; x < xEnd; x++) {
      let tx = gridTaps(x - bx1, w, padded);
      let value = blend(tx, ty, paddedAt(plane, ty.i0, tx.i0), paddedAt(plane, ty.i0, tx.i1), paddedAt(plane, ty.i1, tx.i0), paddedAt(plane, ty.i1, tx.i1));
      if (value > params.threshold) {
        word |= 1u << u32(x - firstX);
      }
    }
  }
  return word;
}
