// maskPaste — Mask R-CNN's 28x28 class masks pasted into the bit-packed instance masks at
// mask resolution, exactly as torchvision's paste_masks_in_image (padding 1), + areas.
// Reference: app/reference/maskPaste.ts.
//
// Record n (row n of maskLogits: the mask head ran on the records' boxes in record order):
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
// Gather, one invocation per 32-pixel word: every word has a single writer; words outside
// the record's pasted box are zero without sampling.
//
// Bindings (group 0), as mask_upsample.wgsl:
//   0 params      uniform  Params (written by field name in app/gpu/kernels/maskPaste.ts)
//   1 records     storage  read_write  DetectionRecords (mirrors app/gpu/layout.ts)
//   2 maskLogits  storage  read  f32 [maxDetections, numClasses + 1, maskSize, maskSize]
//   3 maskBits    storage  read_write  u32 [maxDetections, maskHeight, wordsPerRow]
// Dispatch, in one pass: resetAreas (ceil(maxDetections / 64), 1, 1), then main
// (ceil(maskHeight · wordsPerRow / 64), 1, 1); each invocation of main loops over the kept
// records (count is only known on the GPU).

struct Params {
  maskWidth: u32,      //  0
  maskHeight: u32,     //  4
  wordsPerRow: u32,    //  8
  maxDetections: u32,  // 12
  numClasses: u32,     // 16: K foreground classes (K + 1 channels)
  maskSize: u32,       // 20: S (28)
  padding: u32,        // 24: zero border (1)
  _pad0: u32,          // 28
  scaleX: f32,         // 32: mask x = u · scaleX + biasX (u relative to the input)
  biasX: f32,          // 36
  scaleY: f32,         // 40
  biasY: f32,          // 44
  expand: f32,         // 48: (S + 2·padding) / S
  threshold: f32,      // 52: 0.5
  _pad1: u32,          // 56
  _pad2: u32,          // 60
}

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

fn maskWord(n: u32, row: u32, first: u32, last: u32) -> u32 {
  let y = i32(row);
  let firstX = i32(first);
  let endX = i32(last) + 1;
  let padded = params.maskSize + 2u * params.padding;
  let s = params.maskSize;
  var word = 0u;
  let rel = records.items[n].box;
  // Box in mask pixels, expanded by P / S about its centre, truncated toward zero.
  let x1 = rel.x * params.scaleX + params.biasX;
  let y1 = rel.y * params.scaleY + params.biasY;
  let x2 = rel.z * params.scaleX + params.biasX;
  let y2 = rel.w * params.scaleY + params.biasY;
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
    let plane = (n * (params.numClasses + 1u) + records.items[n].classIndex + 1u) * s * s;
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
