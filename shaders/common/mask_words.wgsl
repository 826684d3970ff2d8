// Bit-packed instance masks, one invocation per 32-pixel word — what mask_upsample.wgsl,
// pasted_mask_bits.wgsl and mask_paste.wgsl share: the records and maskBits bindings,
// bilinear taps along one axis (PyTorch align_corners=False), and the entry point. Each word
// has a single writer, so no bit atomics are needed; a non-zero word adds its popcount to
// its record's maskArea (reset to 0 beforehand by the chain).
// The including kernel includes record_atomic_area and records first, has a Params struct
// with maskWidth, maskHeight, wordsPerRow, maxDetections and `mapping: AxisMapping` (below),
// and defines
//   fn beginWord(y: u32, firstX: u32, lastX: u32)   what all records share for this word;
//   fn maskWord(n: u32, y: u32, firstX: u32, lastX: u32) -> u32   record n's bits of pixels
//     firstX … lastX (inclusive) of row y, bit x − firstX.
// Bindings: 1 records (read_write, DetectionRecords), 3 maskBits [maxDetections, maskHeight,
//   wordsPerRow] u32 (bit x % 32 of word x / 32).
// Dispatch: (ceil(maskHeight · wordsPerRow / WORKGROUP), 1, 1); each invocation loops over
// the kept records (count is only known on the GPU).

@group(0) @binding(1) var<storage, read_write> records: Records;
@group(0) @binding(3) var<storage, read_write> maskBits: array<u32>;

// 64 words a workgroup. No workgroup memory and no barriers (they are expensive on
// SwiftShader).
const WORKGROUP = 64u;
const BITS_PER_WORD = 32u;

// The host's affine map per axis, p' = p · scale + bias (app/reference: maskAssembly.ts
// `upsampleMapping`, mask pixel → source pixel for sampling; maskPaste.ts `pasteMapping`, box
// relative to the model input → mask pixels for pasting). 16 bytes: in Params at an offset
// that is a multiple of 16 (a struct in a uniform).
struct AxisMapping {
  scaleX: f32,
  biasX: f32,
  scaleY: f32,
  biasY: f32,
}

// Box (x1, y1, x2, y2) through the map.
fn mapBox(m: AxisMapping, b: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(b.x * m.scaleX + m.biasX, b.y * m.scaleY + m.biasY, b.z * m.scaleX + m.biasX, b.w * m.scaleY + m.biasY);
}

// Bilinear taps along one axis: (i0, i1) and the weight of i1.
struct Taps {
  i0: u32,
  i1: u32,
  w1: f32,
}

// Taps of destination pixel dst at src = (dst + 0.5)·scale + bias, clamped ≥ 0 and into
// [0, size − 1].
fn taps(dst: f32, scale: f32, bias: f32, size: u32) -> Taps {
  let src = max((dst + 0.5) * scale + bias, 0.0);
  let i0 = min(u32(floor(src)), size - 1u);
  let i1 = min(i0 + 1u, size - 1u);
  return Taps(i0, i1, src - f32(i0));
}

// Bilinear value from the four corner values at (ty, tx) weights.
fn blend(tx: Taps, ty: Taps, v00: f32, v01: f32, v10: f32, v11: f32) -> f32 {
  let top = (1.0 - tx.w1) * v00 + tx.w1 * v01;
  let bottom = (1.0 - tx.w1) * v10 + tx.w1 * v11;
  return (1.0 - ty.w1) * top + ty.w1 * bottom;
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
  let firstX = wordX * BITS_PER_WORD;
  let lastX = min(firstX + BITS_PER_WORD, params.maskWidth) - 1u;
  beginWord(y, firstX, lastX);
  for (var n = 0u; n < count; n++) {
    let word = maskWord(n, y, firstX, lastX);
    maskBits[(n * params.maskHeight + y) * wordsPerRow + wordX] = word;
    if (word != 0u) {
      atomicAdd(&records.items[n].maskArea, countOneBits(word));
    }
  }
}
