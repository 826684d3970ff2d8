// A YOLO-seg output in the layout the decoders read: f32, channel-major. One pass turns
// - a float16 output (an fp16 export: two halves per u32 word, element i in the low half
//   of word i/2 when i is even, the high half when odd — little-endian, as ORT stores it)
//   into f32 with unpack2x16float (core WGSL: no shader-f16 feature needed), and/or
// - a transposed raw head [N, rows] (anchors first) into [rows, N].
// out[r * cols + c] = in[transposed ? c * rows + r : r * cols + c]; rows × cols elements.
// TypeScript reference: `yoloSegLayoutReference` (app/families/yoloSeg/layout.ts).
// Bindings: 0 src (read, u32 words: f32 bits or two f16), 1 dst [rows × cols] f32 (write),
// 2 params (uniform).
// Dispatch: (min(groups, 65535), ceil(groups / 65535), 1) with groups = ceil(rows·cols / 256);
// invocation i = (gid.y · 65535 · 256) + gid.x.

// Params: app/families/yoloSeg/layoutKernel.ts writes it by field name, laid out from this
// declaration (app/gpu/uniforms.ts; the byte offsets in the comments are checked by
// app/gpu/uniforms.test.ts).
struct Params {
  rows: u32,        // 0: rows of the output (channels: 4 + nc + 32, or 6 + 32, or 32)
  cols: u32,        // 4: columns of the output (anchors N, or prototype pixels)
  transposed: u32,  // 8: 1: the input is [cols, rows]
  half: u32,        // 12: 1: the input is float16
}

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

const WORKGROUP: u32 = 256u;
const MAX_GROUPS_X: u32 = 65535u;

fn load(i: u32) -> f32 {
  if (params.half == 0u) {
    return bitcast<f32>(src[i]);
  }
  let pair = unpack2x16float(src[i >> 1u]);
  return select(pair.x, pair.y, (i & 1u) == 1u);
}

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * MAX_GROUPS_X * WORKGROUP + gid.x;
  let total = params.rows * params.cols;
  if (i >= total) {
    return;
  }
  var j = i;
  if (params.transposed == 1u) {
    let r = i / params.cols;
    let c = i - r * params.cols;
    j = c * params.rows + r;
  }
  dst[i] = load(j);
}
