// Trims each class's top-k list (from class_topk.wgsl) to its real entries: YOLO-seg's
// decode gives an anchor the score NOT_BEST (−1) in every class but its best, so a class's
// list, sorted by score descending, is its real candidates followed by NOT_BEST entries of
// other classes' anchors. topCounts[c] becomes the number of leading entries with score
// ≥ 0, so NMS and the cap work on ~(candidates of c) entries instead of topK.
// Bindings: 0 topScores [C, topK] (read), 1 topCounts [C] (read_write), 2 params (uniform).
// Dispatch: (ceil(C / 64), 1, 1), one invocation per class (a binary search).

// Params: app/gpu/kernels/yoloSegTrimTopK.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  numClasses: u32,  // 0
  topK: u32,        // 4: row stride of topScores
  _pad0: u32,       // 8
  _pad1: u32,       // 12
}

@group(0) @binding(0) var<storage, read> topScores: array<f32>;
@group(0) @binding(1) var<storage, read_write> topCounts: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.numClasses) {
    return;
  }
  let row = c * params.topK;
  // First index in [0, count) whose score is < 0 (scores descend along the row).
  var lo = 0u;
  var hi = topCounts[c];
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (topScores[row + mid] >= 0.0) {
      lo = mid + 1u;
    } else {
      hi = mid;
    }
  }
  topCounts[c] = lo;
}
