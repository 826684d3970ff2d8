// Per-class top-k: for each foreground class c, among the candidate priors whose class-c
// score is at least minScore (the display threshold: the cross-class cap drops the others
// anyway), the k = min(topK, M_c) best by conf[p, c + 1], sorted by score descending, ties
// by lower prior index first (reference: app/reference/classTopK.ts). Work follows the
// entries that pass, not priors × classes: a class with none costs no workgroup.
//
// Method — a compaction pass, then one workgroup per class that has entries:
//   Every entry gets a 64-bit key that orders exactly like (score desc, index asc):
//     hi = the f32 score's bits made order-preserving as u32 (sort_keys' `orderable`),
//     lo = (N − 1 − prior) << (32 − indexBits)   (lower prior → larger key; the index's
//          significant bits moved to the top so each 8-bit digit pass is informative).
//   Keys are unique, so "the k largest keys" is exactly the wanted set.
//   0. compact: candidate j's row of conf is read once (contiguous); each class score
//      ≥ minScore appends its key to the class's list `classKeys` [C, N] (an atomic count per
//      class); the first entry of a class appends the class to the list of active classes
//      and counts it in the indirect dispatch's x. The order within a list varies from run
//      to run; the selection below does not depend on it.
//   1. selectClass, dispatched indirectly over the active classes: radix select of the k
//      largest keys of the class's list (common/radix_select.wgsl), bitonic sort
//      (common/sort_keys.wgsl), then prior indices, scores and the count are written.
//   The host clears topCounts (so classes without entries have count 0) and the class
//   lists' header before the pass.
// Cost: one read of the M candidates' C scores, then per active class (passes + 1) reads of
// its M_c keys + a k·log²k sort.
//
// Bindings: 0 conf [N, C + 1] (read), 1 candidates [4 + N] u32 (word 0 = M, indices from
//   word 4; from yolact_decode.wgsl), 2 params (uniform), 3 classKeys [C, N] vec2<u32>
//   (scratch, written by compact), 4 classLists (written by compact; layout below),
//   5 classKeys again (read by selectClass), 6 classLists again (read; also the indirect
//   dispatch arguments), 7 topIndices [C, topK] u32, 8 topScores [C, topK] f32,
//   9 topCounts [C] u32. compact uses 0–4, selectClass 2 and 5–9.
// classLists [4 + 2C] u32: (x, y, z, 0) the selectClass dispatch, then entries per class
//   [C], then the active classes [C] (x of them valid). NMS reads it too (fast_nms.wgsl).
// Dispatch, in one pass: compact (max(1, ceil(M / WORKGROUP)), 1, 1), then selectClass
// indirectly from classLists (x active classes) of WORKGROUP invocations.

// Params: app/gpu/kernels/classTopK.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  numPriors: u32,     //  0: N
  numClasses: u32,    //  4: C foreground classes
  confStride: u32,    //  8: floats per conf row (C + 1)
  classOffset: u32,   // 12: column of class 0 in a conf row (1: skip background)
  topK: u32,          // 16: k requested (≤ SORT_CAPACITY); also the row stride of the outputs
  indexBits: u32,     // 20: max(1, ceil(log2 N)) bits of a prior index
  minScore: f32,      // 24: scores below it (and NaN) are not ranked
  _pad0: u32,         // 28
}

@group(0) @binding(0) var<storage, read> conf: array<f32>;
@group(0) @binding(1) var<storage, read> candidates: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read_write> classKeys: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read_write> classLists: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read> classKeysIn: array<vec2<u32>>;
@group(0) @binding(6) var<storage, read> classListsIn: array<u32>;
@group(0) @binding(7) var<storage, read_write> topIndices: array<u32>;
@group(0) @binding(8) var<storage, read_write> topScores: array<f32>;
@group(0) @binding(9) var<storage, read_write> topCounts: array<u32>;

// 64 invocations: on software adapters (SwiftShader) every barrier costs in proportion to
// the workgroup size, and this kernel's work per class is mostly streaming reads.
const WORKGROUP: u32 = 64u;
// Capacity of the in-workgroup sort: 2 × 512 × 4 B = 4 KiB of workgroup memory; YOLACT
// uses k = 200. The host rejects topK above it.
const SORT_CAPACITY: u32 = 512u;
const CANDIDATES_HEADER_WORDS: u32 = 4u;
// classLists: words 0–3 the indirect dispatch (x, y, z, pad), then counts, then classes.
const LISTS_HEADER_WORDS: u32 = 4u;

//!include sort_keys
//!include radix_select

// Set by selectClass before the select: the class whose list `selectKey` reads.
var<private> listBase: u32;
var<workgroup> listLength: u32;

fn selectKey(j: u32) -> vec2<u32> {
  return classKeysIn[listBase + j];
}

// Appends candidate j's keys to the lists of the classes it passes minScore in.
@compute @workgroup_size(WORKGROUP, 1, 1)
fn compact(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j == 0u) {
    atomicStore(&classLists[1], 1u);
    atomicStore(&classLists[2], 1u);
  }
  if (j >= candidates[0]) {
    return;
  }
  let prior = candidates[CANDIDATES_HEADER_WORDS + j];
  let row = prior * params.confStride + params.classOffset;
  let lo = indexKeyLo(prior, params.numPriors, params.indexBits);
  for (var c = 0u; c < params.numClasses; c++) {
    let score = conf[row + c];
    if (score >= params.minScore) {
      let slot = atomicAdd(&classLists[LISTS_HEADER_WORDS + c], 1u);
      classKeys[c * params.numPriors + slot] = vec2<u32>(orderable(score), lo);
      if (slot == 0u) {
        let slotOfClass = atomicAdd(&classLists[0], 1u);
        atomicStore(&classLists[LISTS_HEADER_WORDS + params.numClasses + slotOfClass], c);
      }
    }
  }
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn selectClass(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let c = classListsIn[LISTS_HEADER_WORDS + params.numClasses + wid.x];
  listBase = c * params.numPriors;
  if (tid == 0u) {
    listLength = classListsIn[LISTS_HEADER_WORDS + c];
  }
  let m = workgroupUniformLoad(&listLength);
  let count = selectLargestKeys(tid, m, min(params.topK, SORT_CAPACITY), params.indexBits);
  sortKeysDescending(tid, count);
  let row = c * params.topK;
  for (var i = tid; i < count; i += WORKGROUP) {
    topIndices[row + i] = indexFromKeyLo(keyLo[i], params.numPriors, params.indexBits);
    topScores[row + i] = valueFromKey(keyHi[i]);
  }
  if (tid == 0u) {
    topCounts[c] = count;
  }
}
