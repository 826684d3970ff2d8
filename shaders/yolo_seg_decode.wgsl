// YOLO-seg (Ultralytics v8 / 11) decode + candidate test, read straight from the
// channel-major head output, no transpose (MODELS.md §2; ultralytics/utils/ops.py
// `non_max_suppression`, best class only).
//   output0 [4 + C + K, N]: rows 0–3 cx, cy, w, h in letterboxed input pixels, rows 4 …
//     4 + C − 1 the sigmoid class scores (no objectness), then K mask coefficients (not
//     read here). Anchor i's value of row r is output0[r·N + i].
//   → boxes [N] xyxy relative to the input: x1 = (cx − w/2) / inputW, x2 = (cx + w/2) / inputW
//     (same for y; not clipped, like Ultralytics before scale_boxes).
//   → best class b = first argmax over the C scores, best score s = its score;
//     anchor i is a candidate if s > confThreshold: its index goes into `candidates`, and
//     its row of `bestConf` [N, C + 1] is written as column 0 = 0 (no background in
//     YOLO; the column keeps classTopK's YOLACT row layout), column 1 + b = s, every other
//     column NOT_BEST. So per-class top-k / NMS see an anchor only in its best class: in
//     any other class it ranks below every real score and the cap drops it (< 0).
//   Rows of non-candidates are not written (classTopK reads candidates' rows only).
// Bindings: 0 output0 (read), 1 boxes [N] vec4 (write), 2 bestConf [N, C + 1] (write),
//   3 candidates [4 + N] u32: word 0 = count (cleared by the host), indices from word 4,
//   4 params (uniform).
// Dispatch: (ceil(N / 64), 1, 1), one invocation per anchor.

// Params: app/gpu/kernels/yoloSegDecode.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  numAnchors: u32,      //  0: N
  numClasses: u32,      //  4: C
  confThreshold: f32,   //  8
  inputWidth: f32,      // 12: letterboxed input size in pixels
  inputHeight: f32,     // 16
  _pad0: u32,           // 20
  _pad1: u32,           // 24
  _pad2: u32,           // 28
}

@group(0) @binding(0) var<storage, read> output0: array<f32>;
@group(0) @binding(1) var<storage, read_write> boxes: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> bestConf: array<f32>;
@group(0) @binding(3) var<storage, read_write> candidates: array<atomic<u32>>;
@group(0) @binding(4) var<uniform> params: Params;

// Score of an anchor in a class other than its best: below any sigmoid score and below
// any display threshold (≥ 0), so detectionCap never emits it.
const NOT_BEST: f32 = -1.0;
// First row of the class scores (after cx, cy, w, h).
const CLASS_ROW: u32 = 4u;
// Candidate indices start after a 16-byte header (count + padding).
const CANDIDATES_HEADER_WORDS: u32 = 4u;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let n = params.numAnchors;
  if (i >= n) {
    return;
  }
  let cx = output0[i];
  let cy = output0[n + i];
  let halfW = output0[2u * n + i] * 0.5;
  let halfH = output0[3u * n + i] * 0.5;
  boxes[i] = vec4<f32>(
    (cx - halfW) / params.inputWidth,
    (cy - halfH) / params.inputHeight,
    (cx + halfW) / params.inputWidth,
    (cy + halfH) / params.inputHeight,
  );

  var best = -3.4e38;
  var bestClass = 0u;
  for (var c = 0u; c < params.numClasses; c++) {
    let s = output0[(CLASS_ROW + c) * n + i];
    if (s > best) {
      best = s;
      bestClass = c;
    }
  }
  if (best > params.confThreshold) {
    let stride = params.numClasses + 1u;
    let row = i * stride;
    bestConf[row] = 0.0;
    for (var c = 0u; c < params.numClasses; c++) {
      bestConf[row + 1u + c] = select(NOT_BEST, best, c == bestClass);
    }
    let slot = atomicAdd(&candidates[0], 1u);
    atomicStore(&candidates[CANDIDATES_HEADER_WORDS + slot], i);
  }
}
