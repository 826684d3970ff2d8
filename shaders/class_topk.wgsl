// Per-class top-k: for each foreground class c, among the candidate priors, the k =
// min(topK, M) best by conf[p, c + 1], sorted by score descending, ties by lower prior
// index first (reference: app/reference/classTopK.ts).
//
// Method — a gather pass, then one workgroup per class, no O(M²) work:
//   0. gatherScores: candidate j's row of conf is read once (contiguous) and scattered to
//      a class-major scratch `classScores` [C, N], so the passes below read each class's
//      scores contiguously instead of one strided, cache-missing read per candidate, class
//      and pass.
//   Every candidate gets a 64-bit key that orders exactly like (score desc, index asc):
//     hi = the f32 score's bits made order-preserving as u32 (sign flip trick),
//     lo = (N − 1 − prior) << (32 − indexBits)   (lower prior → larger key; the index's
//          significant bits moved to the top so each 8-bit digit pass is informative).
//   Keys are unique, so "the k largest keys" is exactly the wanted set.
//   1. Radix select, most significant 8-bit digit first: a pass builds a 256-bin histogram
//      (workgroup atomics) of the keys that still match the prefix fixed so far, then one
//      invocation walks the bins from the top to find the bin holding the k-th key and
//      extends the prefix by it. It stops as soon as that bin holds exactly the number of
//      keys still needed (with random scores: after 2–3 passes); at the latest after all
//      4 + ceil(indexBits / 8) digits, when the bin holds one key.
//      Then a key is selected iff (key & mask) ≥ prefix, lexicographically on (hi, lo):
//      exactly k keys.
//   2. Gather the k selected keys into workgroup memory and bitonic-sort them descending.
//   3. Write prior indices, scores and the count.
// Cost per class: (passes + 1) reads of the M candidates' scores + a k·log²k sort.
//
// Bindings: 0 conf [N, C + 1] (read), 1 candidates [4 + N] u32 (word 0 = M, indices from
//   word 4; from yolact_decode.wgsl), 2 topIndices [C, topK] u32, 3 topScores [C, topK] f32,
//   4 topCounts [C] u32, 5 params (uniform), 6 classScores [C, N] f32 (scratch).
// Dispatch, in one pass: gatherScores (ceil(N / WORKGROUP), 1, 1), then main (C, 1, 1)
// workgroups of WORKGROUP invocations.

// Mirrors PARAMS_BYTES in app/gpu/kernels/classTopK.ts (byte offsets).
struct Params {
  numPriors: u32,     //  0: N
  numClasses: u32,    //  4: C foreground classes
  confStride: u32,    //  8: floats per conf row (C + 1)
  classOffset: u32,   // 12: column of class 0 in a conf row (1: skip background)
  topK: u32,          // 16: k requested (≤ MAX_TOP_K); also the row stride of the outputs
  indexBits: u32,     // 20: max(1, ceil(log2 N)) bits of a prior index
  _pad0: u32,         // 24
  _pad1: u32,         // 28
}

@group(0) @binding(0) var<storage, read> conf: array<f32>;
@group(0) @binding(1) var<storage, read> candidates: array<u32>;
@group(0) @binding(2) var<storage, read_write> topIndices: array<u32>;
@group(0) @binding(3) var<storage, read_write> topScores: array<f32>;
@group(0) @binding(4) var<storage, read_write> topCounts: array<u32>;
@group(0) @binding(5) var<uniform> params: Params;
@group(0) @binding(6) var<storage, read_write> classScores: array<f32>;

// 64 invocations: on software adapters (SwiftShader) every barrier costs in proportion to
// the workgroup size, and this kernel's work per class is mostly streaming reads.
const WORKGROUP: u32 = 64u;
// Capacity of the in-workgroup sort: 2 × 512 × 4 B = 4 KiB of workgroup memory; YOLACT
// uses k = 200. The host rejects topK above it.
const MAX_TOP_K: u32 = 512u;
const BINS: u32 = 256u;
const CANDIDATES_HEADER_WORDS: u32 = 4u;

var<workgroup> histogram: array<atomic<u32>, BINS>;
var<workgroup> keyHi: array<u32, MAX_TOP_K>;
var<workgroup> keyLo: array<u32, MAX_TOP_K>;
var<workgroup> gathered: atomic<u32>;
// Radix-select state, written by invocation 0 between barriers.
var<workgroup> candidateCount: u32;
var<workgroup> prefixHi: u32;
var<workgroup> prefixLo: u32;
var<workgroup> maskHi: u32;
var<workgroup> maskLo: u32;
var<workgroup> remaining: u32;
var<workgroup> selectDone: u32;

// f32 bits → u32 with the same order (negatives reversed below positives).
fn orderable(score: f32) -> u32 {
  let bits = bitcast<u32>(score);
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

fn scoreFromKey(hi: u32) -> f32 {
  return bitcast<f32>(select(~hi, hi & 0x7fffffffu, (hi & 0x80000000u) != 0u));
}

fn keyOf(j: u32, c: u32) -> vec2<u32> {
  let prior = candidates[CANDIDATES_HEADER_WORDS + j];
  let score = classScores[c * params.numPriors + j];
  let lo = (params.numPriors - 1u - prior) << (32u - params.indexBits);
  return vec2<u32>(orderable(score), lo);
}

// (a & mask) ≥ prefix, lexicographically on (hi, lo).
fn atOrAbovePrefix(key: vec2<u32>) -> bool {
  let h = key.x & maskHi;
  if (h != prefixHi) {
    return h > prefixHi;
  }
  return (key.y & maskLo) >= prefixLo;
}

fn matchesPrefix(key: vec2<u32>) -> bool {
  return (key.x & maskHi) == prefixHi && (key.y & maskLo) == prefixLo;
}

// classScores[c, j] = conf[candidate j, class c]: one invocation per candidate.
@compute @workgroup_size(WORKGROUP, 1, 1)
fn gatherScores(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= candidates[0]) {
    return;
  }
  let row = candidates[CANDIDATES_HEADER_WORDS + j] * params.confStride + params.classOffset;
  for (var c = 0u; c < params.numClasses; c++) {
    classScores[c * params.numPriors + j] = conf[row + c];
  }
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let c = wid.x;
  let k = min(params.topK, MAX_TOP_K);
  if (tid == 0u) {
    candidateCount = candidates[0];
    prefixHi = 0u;
    prefixLo = 0u;
    maskHi = 0u;
    maskLo = 0u;
    remaining = min(k, candidates[0]);
    // Fewer candidates than k: all of them are selected, no search needed (k = 0: none
    // are written, as count is 0).
    selectDone = select(0u, 1u, candidates[0] <= k || k == 0u);
    atomicStore(&gathered, 0u);
  }
  let m = workgroupUniformLoad(&candidateCount);
  let count = min(k, m);

  // 1. Radix select.
  let passes = 4u + (params.indexBits + 7u) / 8u;
  for (var digit = 0u; digit < passes; digit++) {
    if (workgroupUniformLoad(&selectDone) == 1u) {
      break;
    }
    for (var b = tid; b < BINS; b += WORKGROUP) {
      atomicStore(&histogram[b], 0u);
    }
    workgroupBarrier();
    let onHi = digit < 4u;
    let shift = 24u - 8u * (digit % 4u);
    for (var j = tid; j < m; j += WORKGROUP) {
      let key = keyOf(j, c);
      if (matchesPrefix(key)) {
        let word = select(key.y, key.x, onHi);
        atomicAdd(&histogram[(word >> shift) & 0xffu], 1u);
      }
    }
    workgroupBarrier();
    if (tid == 0u) {
      var need = remaining;
      var bin = BINS - 1u;
      loop {
        let h = atomicLoad(&histogram[bin]);
        if (h >= need || bin == 0u) {
          selectDone = select(0u, 1u, h == need);
          break;
        }
        need -= h;
        bin -= 1u;
      }
      remaining = need;
      if (onHi) {
        prefixHi |= bin << shift;
        maskHi |= 0xffu << shift;
      } else {
        prefixLo |= bin << shift;
        maskLo |= 0xffu << shift;
      }
    }
  }
  workgroupBarrier();

  // 2. Gather the selected keys (exactly `count`) and sort them, descending.
  for (var j = tid; j < m; j += WORKGROUP) {
    let key = keyOf(j, c);
    if (atOrAbovePrefix(key)) {
      let slot = atomicAdd(&gathered, 1u);
      if (slot < MAX_TOP_K) {
        keyHi[slot] = key.x;
        keyLo[slot] = key.y;
      }
    }
  }
  workgroupBarrier();
  var size = 1u;
  while (size < count) {
    size <<= 1u;
  }
  // Padding keys (0, 0) sort last.
  for (var i = count + tid; i < size; i += WORKGROUP) {
    keyHi[i] = 0u;
    keyLo[i] = 0u;
  }
  workgroupBarrier();
  for (var block = 2u; block <= size; block <<= 1u) {
    for (var stride = block >> 1u; stride > 0u; stride >>= 1u) {
      for (var i = tid; i < size; i += WORKGROUP) {
        let l = i ^ stride;
        if (l > i) {
          let a = vec2<u32>(keyHi[i], keyLo[i]);
          let b = vec2<u32>(keyHi[l], keyLo[l]);
          let aBelowB = a.x < b.x || (a.x == b.x && a.y < b.y);
          // Descending runs where (i & block) == 0, ascending otherwise.
          let swap = select(!aBelowB && (a.x != b.x || a.y != b.y), aBelowB, (i & block) == 0u);
          if (swap) {
            keyHi[i] = b.x;
            keyLo[i] = b.y;
            keyHi[l] = a.x;
            keyLo[l] = a.y;
          }
        }
      }
      workgroupBarrier();
    }
  }

  // 3. Write out.
  let row = c * params.topK;
  for (var i = tid; i < count; i += WORKGROUP) {
    topIndices[row + i] = params.numPriors - 1u - (keyLo[i] >> (32u - params.indexBits));
    topScores[row + i] = scoreFromKey(keyHi[i]);
  }
  if (tid == 0u) {
    topCounts[c] = count;
  }
}
