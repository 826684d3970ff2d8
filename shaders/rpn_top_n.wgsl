// rpnTopN — per RPN level, the top k = min(topN, H·W·A) anchors by objectness logit
// (descending, ties by lower anchor index), written in that order with their sigmoid
// probability (reference: app/reference/rpnTopN.ts). A level plays the role a class plays
// in class_topk.wgsl, and the method is the same radix select:
//   every anchor i of the level gets a 64-bit key ordered exactly like (logit desc, index
//   asc): hi = the logit's f32 bits made order-preserving, lo = (A_total − 1 − i) <<
//   (32 − indexBits). The k largest keys are selected (common/radix_select.wgsl),
//   bitonic-sorted descending (common/sort_keys.wgsl) and written out.
// Logits are compared as f32 values (NaN never comes out of a conv head).
//
// Bindings: 0 params (uniform), 1 objectness [A_total] f32 logits, 2 topIndices [L, topN]
//   u32 anchor indices (into A_total), 3 topScores [L, topN] f32 sigmoid(logit),
//   4 topCounts [L] u32.
// Dispatch: (L, 1, 1) workgroups of WORKGROUP invocations, one per level.

// Params: app/gpu/kernels/rpnTopN.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  numLevels: u32,                //   0
  topN: u32,                     //   4: k requested (≤ SORT_CAPACITY); row stride of the outputs
  numAnchors: u32,               //   8: A_total
  indexBits: u32,                //  12: max(1, ceil(log2 A_total))
  levels: array<vec4<u32>, 8>,   //  16: (first anchor, anchor count, 0, 0) per level
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> objectness: array<f32>;
@group(0) @binding(2) var<storage, read_write> topIndices: array<u32>;
@group(0) @binding(3) var<storage, read_write> topScores: array<f32>;
@group(0) @binding(4) var<storage, read_write> topCounts: array<u32>;

// 64 invocations: on software adapters every barrier costs in proportion to the workgroup.
const WORKGROUP: u32 = 64u;
// Sort capacity: torchvision's test-time pre-NMS top-n is 1000 → 1024 slots,
// 2 × 1024 × 4 B = 8 KiB of workgroup memory. The host rejects a larger topN.
const SORT_CAPACITY: u32 = 1024u;

//!include sort_keys
//!include radix_select

// Set by main before the select: the level's first anchor, where `selectKey` starts.
var<private> levelFirst: u32;

fn selectKey(j: u32) -> vec2<u32> {
  let anchor = levelFirst + j;
  return vec2<u32>(orderable(objectness[anchor]), indexKeyLo(anchor, params.numAnchors, params.indexBits));
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let l = wid.x;
  levelFirst = params.levels[l].x;
  let m = params.levels[l].y;
  let count = selectLargestKeys(tid, m, min(params.topN, SORT_CAPACITY), params.indexBits);
  sortKeysDescending(tid, count);

  // Write out: anchor index and sigmoid(logit).
  let row = l * params.topN;
  for (var i = tid; i < count; i += WORKGROUP) {
    topIndices[row + i] = indexFromKeyLo(keyLo[i], params.numAnchors, params.indexBits);
    topScores[row + i] = 1.0 / (1.0 + exp(-valueFromKey(keyHi[i])));
  }
  if (tid == 0u) {
    topCounts[l] = count;
  }
}
