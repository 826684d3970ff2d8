// rpnProposalNms — the RPN's proposal NMS: greedy NMS within each level on the level's top-n
// (from rpn_top_n.wgsl, best first), invalid (small) proposals dropped, then the best R of
// all kept proposals across levels into a fixed-size RoI buffer (torchvision
// `filter_proposals`: batched_nms by level, then keep[:post_nms_top_n]).
// Reference: app/reference/rpnProposalNms.ts.
//
// Three entry points, dispatched in this order in one pass:
//   suppression (ceil(topN / 64), L): row i of level l's suppression matrix gets bit j set
//     for every j > i with IoU(i, j) > nmsIou; columns are read in tiles of 64 boxes staged
//     in workgroup memory. masks [L, MAX_TOP_N, MASK_WORDS] u32 (scratch).
//   walk (L) workgroups of 32: per level, the rows best first, keeping i unless it is invalid
//     or a kept row removed it, OR-ing kept rows into the removed set (in blocks of 32 rows,
//     see `walk`); kept ranks are compacted into kept [L, topN] u32 (in order), keptCounts [L].
//   merge (ceil(max(topN, R) / 64), L): kept proposal k of level l goes to rank
//     k + Σ_{l' ≠ l} #{kept proposals of l' ranking above it} (binary search: every kept list
//     is sorted), in the order (logit desc, anchor index asc) — the sigmoid probability's
//     order with its ties broken; ranks < R are written. Rows from the count to R are zeroed,
//     and roiCount = (min(R, total kept), total kept, 0, 0).
// IoU as app/reference/boxes.ts: areas with inverted sides count 0, zero union → 0.
//
// Bindings: 0 params, 1 proposals [A_total] vec4 xyxy, 2 valid [A_total] u32, 3 objectness
//   [A_total] f32 logits, 4 topIndices [L, topN] u32, 5 topCounts [L] u32, 6 masks
//   (scratch), 7 kept [L, topN] u32 (scratch), 8 keptCounts [L] u32 (scratch), 9 rois [R]
//   vec4 f32, 10 roiScores [R] f32 (sigmoid of the logit, as rpn_top_n.wgsl), 11 roiCount
//   [4] u32. Each entry point uses at most 8 storage buffers (WebGPU's default limit), so
//   each has its own bind group.

// Params: app/gpu/kernels/rpnProposalNms.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  numLevels: u32,    //  0
  topN: u32,         //  4: row stride of the per-level arrays
  numRois: u32,      //  8: R
  nmsIou: f32,       // 12
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> proposals: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> valid: array<u32>;
@group(0) @binding(3) var<storage, read> objectness: array<f32>;
@group(0) @binding(4) var<storage, read> topIndices: array<u32>;
@group(0) @binding(5) var<storage, read> topCounts: array<u32>;
@group(0) @binding(6) var<storage, read_write> masks: array<u32>;
@group(0) @binding(7) var<storage, read_write> kept: array<u32>;
@group(0) @binding(8) var<storage, read_write> keptCounts: array<u32>;
@group(0) @binding(9) var<storage, read_write> rois: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read_write> roiScores: array<f32>;
@group(0) @binding(11) var<storage, read_write> roiCount: array<u32>;

const WORKGROUP: u32 = 64u;
// Same capacity as rpn_top_n.wgsl's SORT_CAPACITY; a suppression row is MAX_TOP_N bits.
const MAX_TOP_N: u32 = 1024u;
const MASK_WORDS: u32 = 32u;

var<workgroup> tile: array<vec4<f32>, WORKGROUP>;

//!include box_iou

@compute @workgroup_size(WORKGROUP, 1, 1)
fn suppression(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let l = wid.y;
  let row = l * params.topN;
  let count = min(topCounts[l], MAX_TOP_N);
  let i = wid.x * WORKGROUP + tid;
  var box = vec4<f32>(0.0);
  if (i < count) {
    box = proposals[topIndices[row + i]];
  }
  let maskRow = (l * MAX_TOP_N + i) * MASK_WORDS;
  // Columns j > i only: tiles from this workgroup's own onwards.
  let tiles = (count + WORKGROUP - 1u) / WORKGROUP;
  for (var t = wid.x; t < tiles; t++) {
    let j0 = t * WORKGROUP;
    if (j0 + tid < count) {
      tile[tid] = proposals[topIndices[row + j0 + tid]];
    }
    workgroupBarrier();
    if (i < count) {
      for (var half = 0u; half < 2u; half++) {
        var bits = 0u;
        for (var b = 0u; b < 32u; b++) {
          let jj = half * 32u + b;
          let j = j0 + jj;
          if (j > i && j < count && iou(box, tile[jj]) > params.nmsIou) {
            bits |= 1u << b;
          }
        }
        masks[maskRow + t * 2u + half] = bits;
      }
    }
    workgroupBarrier();
  }
}

// Walk state of one level: the removed set (one word a lane), the current 32-row block's
// diagonal words and validity, and the kept rows found so far.
var<workgroup> removed: array<u32, MASK_WORDS>;
var<workgroup> diagonal: array<u32, 32>;
var<workgroup> validBits: atomic<u32>;
var<workgroup> blockKept: u32;
var<workgroup> keptSoFar: u32;

// Greedy walk in blocks of 32 rows (one suppression-matrix word): lane 0 resolves the block
// in order on register words (row j is kept unless removed or invalid; a kept row removes
// its bits of this word), then every lane w > block ORs the kept rows' word w into its
// removed word in parallel. 2 barriers a block instead of a chain of global loads a row.
@compute @workgroup_size(MASK_WORDS, 1, 1)
fn walk(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let l = wid.x;
  let row = l * params.topN;
  let count = min(topCounts[l], MAX_TOP_N);
  let words = (count + 31u) / 32u;
  let maskBase = l * MAX_TOP_N * MASK_WORDS;
  removed[tid] = 0u;
  if (tid == 0u) {
    keptSoFar = 0u;
  }
  for (var b = 0u; b < words; b++) {
    if (tid == 0u) {
      atomicStore(&validBits, 0u);
    }
    workgroupBarrier();
    let i = b * 32u + tid;
    var d = 0u;
    if (i < count) {
      d = masks[maskBase + i * MASK_WORDS + b];
      if (valid[topIndices[row + i]] == 1u) {
        atomicOr(&validBits, 1u << tid);
      }
    }
    diagonal[tid] = d;
    workgroupBarrier();
    if (tid == 0u) {
      var gone = removed[b];
      let ok = atomicLoad(&validBits);
      var keptHere = 0u;
      var n = keptSoFar;
      let rows = min(32u, count - b * 32u);
      for (var j = 0u; j < rows; j++) {
        let bit = 1u << j;
        if ((gone & bit) == 0u && (ok & bit) != 0u) {
          keptHere |= bit;
          gone |= diagonal[j];
          kept[row + n] = b * 32u + j;
          n++;
        }
      }
      removed[b] = gone;
      blockKept = keptHere;
      keptSoFar = n;
    }
    workgroupBarrier();
    if (tid > b && tid < words) {
      var gone = removed[tid];
      var rest = blockKept;
      while (rest != 0u) {
        let j = firstTrailingBit(rest);
        rest &= rest - 1u;
        gone |= masks[maskBase + (b * 32u + j) * MASK_WORDS + tid];
      }
      removed[tid] = gone;
    }
    workgroupBarrier();
  }
  if (tid == 0u) {
    keptCounts[l] = keptSoFar;
  }
}

// (logit bits made order-preserving, anchor index): a ranks above b iff logit_a > logit_b,
// or equal logits and the lower anchor index.
fn orderable(v: f32) -> u32 {
  let bits = bitcast<u32>(v);
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

fn keptKey(l: u32, k: u32) -> vec2<u32> {
  let anchor = topIndices[l * params.topN + kept[l * params.topN + k]];
  return vec2<u32>(orderable(objectness[anchor]), anchor);
}

fn ranksAbove(a: vec2<u32>, b: vec2<u32>) -> bool {
  return a.x > b.x || (a.x == b.x && a.y < b.y);
}

// Kept proposals of level l ranking above `key`: the list is sorted best first.
fn countAbove(l: u32, key: vec2<u32>) -> u32 {
  var lo = 0u;
  var hi = keptCounts[l];
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (ranksAbove(keptKey(l, mid), key)) {
      lo = mid + 1u;
    } else {
      hi = mid;
    }
  }
  return lo;
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn merge(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let l = wid.y;
  let k = wid.x * WORKGROUP + tid;
  var total = 0u;
  for (var m = 0u; m < params.numLevels; m++) {
    total += keptCounts[m];
  }
  let written = min(total, params.numRois);
  if (l == 0u) {
    if (k < params.numRois && k >= written) {
      rois[k] = vec4<f32>(0.0);
      roiScores[k] = 0.0;
    }
    if (k == 0u) {
      roiCount[0] = written;
      roiCount[1] = total;
      roiCount[2] = 0u;
      roiCount[3] = 0u;
    }
  }
  if (k >= keptCounts[l]) {
    return;
  }
  let key = keptKey(l, k);
  var rank = k;
  for (var m = 0u; m < params.numLevels; m++) {
    if (m != l) {
      rank += countAbove(m, key);
    }
  }
  if (rank < params.numRois) {
    rois[rank] = proposals[key.y];
    roiScores[rank] = 1.0 / (1.0 + exp(-objectness[key.y]));
  }
}
