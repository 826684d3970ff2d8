// rpnTopN — per RPN level, the top k = min(topN, H·W·A) anchors by objectness logit
// (descending, ties by lower anchor index), written in that order with their sigmoid
// probability (reference: app/reference/rpnTopN.ts). A level plays the role a class plays
// in class_topk.wgsl, and the method is the same radix select:
//   every anchor i of the level gets a 64-bit key ordered exactly like (logit desc, index
//   asc): hi = the logit's f32 bits made order-preserving, lo = (A_total − 1 − i) <<
//   (32 − indexBits). Most significant 8-bit digit first, a pass builds a 256-bin histogram
//   (workgroup atomics) of the keys matching the prefix fixed so far, and one invocation
//   extends the prefix by the bin that holds the k-th key; it stops when that bin holds
//   exactly the keys still needed. The k keys at or above the prefix are then gathered into
//   workgroup memory, bitonic-sorted descending and written out.
// Logits are compared as f32 values (NaN never comes out of a conv head).
//
// Bindings: 0 params (uniform), 1 objectness [A_total] f32 logits, 2 topIndices [L, topN]
//   u32 anchor indices (into A_total), 3 topScores [L, topN] f32 sigmoid(logit),
//   4 topCounts [L] u32.
// Dispatch: (L, 1, 1) workgroups of WORKGROUP invocations, one per level.

// Mirrors PARAMS_BYTES in app/gpu/kernels/rpnTopN.ts (byte offsets).
struct Params {
  numLevels: u32,                //   0
  topN: u32,                     //   4: k requested (≤ MAX_TOP_N); row stride of the outputs
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
const MAX_TOP_N: u32 = 1024u;
const BINS: u32 = 256u;

var<workgroup> histogram: array<atomic<u32>, BINS>;
var<workgroup> keyHi: array<u32, MAX_TOP_N>;
var<workgroup> keyLo: array<u32, MAX_TOP_N>;
var<workgroup> gathered: atomic<u32>;
// Radix-select state, written by invocation 0 between barriers.
var<workgroup> prefixHi: u32;
var<workgroup> prefixLo: u32;
var<workgroup> maskHi: u32;
var<workgroup> maskLo: u32;
var<workgroup> remaining: u32;
var<workgroup> selectDone: u32;

// f32 bits → u32 with the same order (negatives reversed below positives).
fn orderable(v: f32) -> u32 {
  let bits = bitcast<u32>(v);
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

fn valueFromKey(hi: u32) -> f32 {
  return bitcast<f32>(select(~hi, hi & 0x7fffffffu, (hi & 0x80000000u) != 0u));
}

fn keyOf(anchor: u32) -> vec2<u32> {
  let lo = (params.numAnchors - 1u - anchor) << (32u - params.indexBits);
  return vec2<u32>(orderable(objectness[anchor]), lo);
}

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

@compute @workgroup_size(WORKGROUP, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let l = wid.x;
  let first = params.levels[l].x;
  let m = params.levels[l].y;
  let k = min(params.topN, MAX_TOP_N);
  let count = min(k, m);
  if (tid == 0u) {
    prefixHi = 0u;
    prefixLo = 0u;
    maskHi = 0u;
    maskLo = 0u;
    remaining = count;
    // Not more anchors than k: all are selected, no search needed.
    selectDone = select(0u, 1u, m <= k || k == 0u);
    atomicStore(&gathered, 0u);
  }

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
      let key = keyOf(first + j);
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

  // 2. Gather the `count` selected keys and sort them, descending.
  for (var j = tid; j < m; j += WORKGROUP) {
    let key = keyOf(first + j);
    if (atOrAbovePrefix(key)) {
      let slot = atomicAdd(&gathered, 1u);
      if (slot < MAX_TOP_N) {
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
        let partner = i ^ stride;
        if (partner > i) {
          let a = vec2<u32>(keyHi[i], keyLo[i]);
          let b = vec2<u32>(keyHi[partner], keyLo[partner]);
          let aBelowB = a.x < b.x || (a.x == b.x && a.y < b.y);
          // Descending runs where (i & block) == 0, ascending otherwise.
          let swap = select(!aBelowB && (a.x != b.x || a.y != b.y), aBelowB, (i & block) == 0u);
          if (swap) {
            keyHi[i] = b.x;
            keyLo[i] = b.y;
            keyHi[partner] = a.x;
            keyLo[partner] = a.y;
          }
        }
      }
      workgroupBarrier();
    }
  }

  // 3. Write out: anchor index and sigmoid(logit).
  let row = l * params.topN;
  for (var i = tid; i < count; i += WORKGROUP) {
    topIndices[row + i] = params.numAnchors - 1u - (keyLo[i] >> (32u - params.indexBits));
    topScores[row + i] = 1.0 / (1.0 + exp(-valueFromKey(keyHi[i])));
  }
  if (tid == 0u) {
    topCounts[l] = count;
  }
}
