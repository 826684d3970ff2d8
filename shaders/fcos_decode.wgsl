// fcosDecode — FCOS's test-time decode over all levels (Tian et al. 2019; AdelaiDet
// fcos_outputs.py `forward_for_single_feature_map`, which centermask2 runs; MODELS.md §4),
// written as the inputs of the shared one-stage chain (class_topk → NMS → detection_cap).
// Reference: app/reference/fcosDecode.ts.
//
// Level l (stride s, H_l × W_l), location p = (x, y), global location g = first_l + p:
//   point (x·s + s/2, y·s + s/2) (integer halving: s//2); box = (px − l, py − t, px + r, py + b)
//   from box_p [4, H, W] (ltrb distances in input pixels), clipped to the input (as our
//   model's evaluate.py), written relative to it (× 1/width, × 1/height): boxes[g];
//   pair (g, c) is a candidate when sigmoid(cls[c, p]) > candidateThreshold; its rank key is
//   cls·ctr (ctr = sigmoid(ctr[p])).
// Per level, the top min(candidates, topN) pairs by cls·ctr (ties: the lower pair index
// q = g·K + c first) are kept: conf[g, c + 1] = sqrt(cls·ctr), and location g is listed once
// in `candidates`. Every other conf entry is NOT_RANKED, below any display threshold, so
// class_topk (minScore ≥ 0) never ranks it. Column 0 of conf (background) is NOT_RANKED too.
// So the outputs are those of yolact_decode.wgsl: boxes [N] vec4, conf [N, K + 1],
// candidates [4 + N] u32 (word 0 = count, cleared by the host; locations from word 4).
//
// Two entry points, in one pass:
//   locations (per level: its own params and bind group, the level's three tensors), one
//     invocation per location: box, conf row := NOT_RANKED, flag cleared, and the key of each
//     candidate pair appended to the level's key list (levelKeys from word first_l·K,
//     length levelCounts[l]; the host clears the counts). Keys order exactly like (cls·ctr
//     desc, q asc): hi = the product's f32 bits made orderable, lo = (N·K − 1 − q) <<
//     (32 − indexBits). Keys are unique, so "the topN largest" is exactly the wanted set.
//   selectLevel, one workgroup per level: radix select of the topN largest keys of its list
//     (common/radix_select.wgsl; no sort needed: class_topk orders them), each kept pair
//     written into conf; the first pair of a location appends it to `candidates`.
// Bindings: 0 params (uniform); locations: 1 cls [K, H, W], 2 box [4, H, W], 3 ctr [1, H, W]
//   (read), 4 boxes [N] vec4, 5 conf [N, K + 1], 6 flags [N] u32, 7 levelKeys [N·K] vec2<u32>,
//   8 levelCounts [L] (atomic); selectLevel: 5 conf, 9 levelKeys, 10 levelCounts (read),
//   11 flags (atomic), 12 candidates (atomic).
// Dispatch: locations (ceil(H_l·W_l / 64), 1, 1) per level, then selectLevel (L, 1, 1).

// Params: app/gpu/kernels/fcosDecode.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  numClasses: u32,               //  0: K
  numLocations: u32,             //  4: N, over all levels
  indexBits: u32,                //  8: max(1, ceil(log2(N·K)))
  topN: u32,                     // 12: pairs kept per level (≤ SORT_CAPACITY)
  level: u32,                    // 16: the level `locations` decodes
  numLevels: u32,                // 20: L
  invInputWidth: f32,            // 24: 1 / input width (boxes relative to the input)
  invInputHeight: f32,           // 28
  candidateThreshold: f32,       // 32: 0.05
  inputWidth: f32,               // 36: boxes are clipped to the input (models/centermask/evaluate.py)
  inputHeight: f32,              // 40
  _pad0: u32,                    // 44
  levels: array<vec4<u32>, 8>,   // 48: (first location, width, height, stride) per level
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cls: array<f32>;
@group(0) @binding(2) var<storage, read> box: array<f32>;
@group(0) @binding(3) var<storage, read> ctr: array<f32>;
@group(0) @binding(4) var<storage, read_write> boxes: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> conf: array<f32>;
@group(0) @binding(6) var<storage, read_write> flags: array<u32>;
@group(0) @binding(7) var<storage, read_write> levelKeys: array<vec2<u32>>;
@group(0) @binding(8) var<storage, read_write> levelCounts: array<atomic<u32>>;
@group(0) @binding(9) var<storage, read> levelKeysIn: array<vec2<u32>>;
@group(0) @binding(10) var<storage, read> levelCountsIn: array<u32>;
@group(0) @binding(11) var<storage, read_write> flagsAtomic: array<atomic<u32>>;
@group(0) @binding(12) var<storage, read_write> candidates: array<atomic<u32>>;

// 64 invocations: on software adapters every barrier costs in proportion to the workgroup.
const WORKGROUP: u32 = 64u;
// Sort capacity of radix_select's gather: FCOS keeps 1000 pairs a level → 1024 slots,
// 2 × 1024 × 4 B = 8 KiB of workgroup memory. The host rejects a larger topN.
const SORT_CAPACITY: u32 = 1024u;
// Candidate locations start after a 16-byte header (count + padding), as yolact_decode's.
const CANDIDATES_HEADER_WORDS: u32 = 4u;
// A conf entry no pair was kept for: below every display threshold (≥ 0).
const NOT_RANKED: f32 = -1.0;

//!include sort_keys
//!include radix_select

fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) {
    return 1.0 / (1.0 + exp(-x));
  }
  let e = exp(x);
  return e / (1.0 + e);
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn locations(@builtin(global_invocation_id) gid: vec3<u32>) {
  let lv = params.levels[params.level];
  let hw = lv.y * lv.z;
  let p = gid.x;
  if (p >= hw) {
    return;
  }
  let g = lv.x + p;
  let s = lv.w;
  let px = f32((p % lv.y) * s + s / 2u);
  let py = f32((p / lv.y) * s + s / 2u);
  let w = params.inputWidth;
  let h = params.inputHeight;
  boxes[g] = vec4<f32>(
    clamp(px - box[p], 0.0, w) * params.invInputWidth,
    clamp(py - box[hw + p], 0.0, h) * params.invInputHeight,
    clamp(px + box[2u * hw + p], 0.0, w) * params.invInputWidth,
    clamp(py + box[3u * hw + p], 0.0, h) * params.invInputHeight,
  );
  flags[g] = 0u;
  let k = params.numClasses;
  let centerness = sigmoid(ctr[p]);
  let row = g * (k + 1u);
  conf[row] = NOT_RANKED;
  for (var c = 0u; c < k; c++) {
    conf[row + 1u + c] = NOT_RANKED;
    let score = sigmoid(cls[c * hw + p]);
    if (score > params.candidateThreshold) {
      let slot = atomicAdd(&levelCounts[params.level], 1u);
      let q = g * k + c;
      levelKeys[lv.x * k + slot] = vec2<u32>(orderable(score * centerness), indexKeyLo(q, params.numLocations * k, params.indexBits));
    }
  }
}

// Set by selectLevel before the select: where the level's key list starts.
var<private> listBase: u32;
var<workgroup> listLength: u32;

fn selectKey(j: u32) -> vec2<u32> {
  return levelKeysIn[listBase + j];
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn selectLevel(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let l = wid.x;
  let k = params.numClasses;
  listBase = params.levels[l].x * k;
  if (tid == 0u) {
    listLength = levelCountsIn[l];
  }
  let m = workgroupUniformLoad(&listLength);
  let count = selectLargestKeys(tid, m, min(params.topN, SORT_CAPACITY), params.indexBits);
  for (var i = tid; i < count; i += WORKGROUP) {
    let q = indexFromKeyLo(keyLo[i], params.numLocations * k, params.indexBits);
    let g = q / k;
    conf[g * (k + 1u) + 1u + q % k] = sqrt(valueFromKey(keyHi[i]));
    if (atomicOr(&flagsAtomic[g], 1u) == 0u) {
      let slot = atomicAdd(&candidates[0], 1u);
      atomicStore(&candidates[CANDIDATES_HEADER_WORDS + slot], g);
    }
  }
}
