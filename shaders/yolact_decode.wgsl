// YOLACT box decode + candidate test (dbolya/yolact layers/box_utils.py `decode`, and the
// shared confidence test of layers/functions/detection.py).
//   loc [N, 4] deltas (dx, dy, dw, dh), priors [N, 4] (cx, cy, w, h):
//     cx = p_cx + dx·0.1·p_w, cy = p_cy + dy·0.1·p_h, w = p_w·exp(dw·0.2), h = p_h·exp(dh·0.2)
//     → boxes [N] xyxy relative (x1 = cx − w/2, x2 = x1 + w; not clipped).
//   conf [N, C + 1] (softmaxed by the model, column 0 = background): prior i is a candidate
//     if max_{c ≥ 1} conf[i, c] > confThreshold; its index is appended to `candidates`
//     (unordered: the per-class top-k orders by (score, prior index), so order is irrelevant).
// Bindings: 0 loc, 1 conf, 2 priors (read), 3 boxes [N] vec4 (write),
//   4 candidates [4 + N] u32: word 0 = count (cleared by the host before the dispatch),
//     words 1–3 unused, then the candidate prior indices; 5 params (uniform).
// Dispatch: (ceil(N / 64), 1, 1), one invocation per prior.

// Params: app/gpu/kernels/yolactDecode.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  numPriors: u32,       // 0: N
  numClasses: u32,      // 4: C, foreground classes (conf row stride is C + 1)
  confThreshold: f32,   // 8
  _pad: u32,            // 12
}

@group(0) @binding(0) var<storage, read> loc: array<f32>;
@group(0) @binding(1) var<storage, read> conf: array<f32>;
@group(0) @binding(2) var<storage, read> priors: array<f32>;
@group(0) @binding(3) var<storage, read_write> boxes: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> candidates: array<atomic<u32>>;
@group(0) @binding(5) var<uniform> params: Params;

// YOLACT's variances: centre offsets scaled by 0.1 of the prior size, log-sizes by 0.2.
const CENTER_VARIANCE: f32 = 0.1;
const SIZE_VARIANCE: f32 = 0.2;
// Candidate indices start after a 16-byte header (count + padding).
const CANDIDATES_HEADER_WORDS: u32 = 4u;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= params.numPriors) {
    return;
  }
  let pcx = priors[4u * i];
  let pcy = priors[4u * i + 1u];
  let pw = priors[4u * i + 2u];
  let ph = priors[4u * i + 3u];
  let cx = pcx + (loc[4u * i] * CENTER_VARIANCE) * pw;
  let cy = pcy + (loc[4u * i + 1u] * CENTER_VARIANCE) * ph;
  let w = pw * exp(loc[4u * i + 2u] * SIZE_VARIANCE);
  let h = ph * exp(loc[4u * i + 3u] * SIZE_VARIANCE);
  let x1 = cx - w * 0.5;
  let y1 = cy - h * 0.5;
  boxes[i] = vec4<f32>(x1, y1, x1 + w, y1 + h);

  let stride = params.numClasses + 1u;
  var best = -3.4e38;
  for (var c = 1u; c <= params.numClasses; c++) {
    best = max(best, conf[i * stride + c]);
  }
  if (best > params.confThreshold) {
    let slot = atomicAdd(&candidates[0], 1u);
    atomicStore(&candidates[CANDIDATES_HEADER_WORDS + slot], i);
  }
}
