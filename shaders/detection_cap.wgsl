// Cross-class cap: the kept entries of every class (from fast_nms / greedy_nms), ordered by
// score descending (ties: lower class, then lower prior index), those below scoreThreshold
// dropped, the first maxDetections written as DetectionRecords (app/gpu/layout.ts).
// No sort: each class's list is already ordered, so an entry's output rank is the number of
// kept entries that precede it — in its own class, a prefix count; in class c', found by a
// binary search of c''s descending scores (ties precede when c' < c). Three entry points,
// dispatched in order in one pass:
//   prefixCounts (ceil(C / 64) workgroups): keptPrefix[c, i] = kept entries among the first
//     i of class c ([C, topK + 1] u32); keptAbove[c] = kept entries scoring ≥ scoreThreshold.
//   scatter (ceil(C·topK / 64)): each kept entry ≥ scoreThreshold with rank < maxDetections
//     writes records[rank] (maskArea 0).
//   header (1): count = min(Σ keptAbove, maxDetections), candidateCount from the candidates
//     buffer of yolact_decode.wgsl.
// Bindings: 0 boxes [N] vec4 (read; [C, S] vec4 when params.boxClassStride = S > 0), 1 topIndices [C, topK], 2 topScores [C, topK],
//   3 topCounts [C], 4 keep [C, topK], 5 candidates (word 0 = count), 6 records (write),
//   7 scratch: keptPrefix [C, topK + 1] then keptAbove [C] (u32), 8 params.
// Eight storage buffers: WebGPU's default per-stage limit.

// Params: app/gpu/kernels/detectionCap.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  numClasses: u32,      //  0
  topK: u32,            //  4: row stride of the per-class arrays
  maxDetections: u32,   //  8
  scoreThreshold: f32,  // 12
  boxClassStride: u32,  // 16: 0 = boxes shared by all classes; S = class-specific boxes, box of
                        //     (class c, prior p) at row c·S + p (Mask R-CNN: S = R RoIs)
  _pad0: u32,           // 20
  _pad1: u32,           // 24
  _pad2: u32,           // 28
}

//!include record
//!include records

@group(0) @binding(0) var<storage, read> boxes: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> topIndices: array<u32>;
@group(0) @binding(2) var<storage, read> topScores: array<f32>;
@group(0) @binding(3) var<storage, read> topCounts: array<u32>;
@group(0) @binding(4) var<storage, read> keep: array<u32>;
@group(0) @binding(5) var<storage, read> candidates: array<u32>;
@group(0) @binding(6) var<storage, read_write> records: Records;
@group(0) @binding(7) var<storage, read_write> scratch: array<u32>;
@group(0) @binding(8) var<uniform> params: Params;

const WORKGROUP: u32 = 64u;

fn keptPrefixAt(c: u32, i: u32) -> u32 {
  return c * (params.topK + 1u) + i;
}

fn keptAboveAt(c: u32) -> u32 {
  return params.numClasses * (params.topK + 1u) + c;
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn prefixCounts(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.numClasses) {
    return;
  }
  let row = c * params.topK;
  let count = topCounts[c];
  var kept = 0u;
  var above = 0u;
  for (var i = 0u; i < count; i++) {
    scratch[keptPrefixAt(c, i)] = kept;
    if (keep[row + i] != 0u) {
      kept += 1u;
      above += select(0u, 1u, topScores[row + i] >= params.scoreThreshold);
    }
  }
  scratch[keptPrefixAt(c, count)] = kept;
  scratch[keptAboveAt(c)] = above;
}

// Number of entries at the head of class c2's list that precede score s: scores > s, or
// ≥ s when `tiesPrecede`. The list is sorted descending, so this is a binary search.
fn headLength(c2: u32, s: f32, tiesPrecede: bool) -> u32 {
  let row = c2 * params.topK;
  var lo = 0u;
  var hi = topCounts[c2];
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    let v = topScores[row + mid];
    if (v > s || (tiesPrecede && v == s)) {
      lo = mid + 1u;
    } else {
      hi = mid;
    }
  }
  return lo;
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn scatter(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x / params.topK;
  let i = gid.x % params.topK;
  if (c >= params.numClasses || i >= topCounts[c]) {
    return;
  }
  let row = c * params.topK;
  let s = topScores[row + i];
  if (keep[row + i] == 0u || s < params.scoreThreshold) {
    return;
  }
  var rank = scratch[keptPrefixAt(c, i)];
  for (var c2 = 0u; c2 < params.numClasses; c2++) {
    if (c2 != c && rank < params.maxDetections) {
      rank += scratch[keptPrefixAt(c2, headLength(c2, s, c2 < c))];
    }
  }
  if (rank < params.maxDetections) {
    let prior = topIndices[row + i];
    records.items[rank] = Record(boxes[c * params.boxClassStride + prior], s, c, prior, 0u);
  }
}

@compute @workgroup_size(1, 1, 1)
fn header() {
  var total = 0u;
  for (var c = 0u; c < params.numClasses; c++) {
    total += scratch[keptAboveAt(c)];
  }
  records.count = min(total, params.maxDetections);
  records.candidateCount = candidates[0];
  records._pad0 = 0u;
  records._pad1 = 0u;
}
