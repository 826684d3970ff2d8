// maskRescore — a mask-scoring head's quality folded into the detection scores, for
// CenterMask (Lee & Park 2020, §3.3; centermask2 maskiou_head.py `mask_iou_inference`) and
// B2Inst (BlendMask + boundary-aware mask scoring; /work/shared/MODELS.md §5). Record n (row n
// of the mask head's batch) gets, by `mode`:
//   MODE_NONE          score_n (a model ranked by its detection score; q unread)
//   MODE_PER_CLASS     score_n · q[n·K + classIndex_n]  (CenterMask: the MaskIoU head's
//                      [M, K], the IoU it predicts for the record's own class)
//   MODE_SQRT_PAIR     score_n · sqrt(max(0, q[2n] · q[2n+1]))  (B2Inst: the scoring head's
//                      [M, 2] = (S_IoU, S_boundary); the reported s_cls · sqrt(S_IoU · S_boundary))
//   MODE_PRODUCT_PAIR  score_n · q[2n] · q[2n+1]  (B2Inst's other combination)
// each product in f32, left to right. The records are then re-sorted by that score
// (descending; ties: the earlier record first), those below `scoreThreshold` (the display
// threshold) dropped, and each keeps its mask-head row n in sourceIndex, where
// mask_paste.wgsl (rowFromSource) finds its logits.
// Reference: app/reference/maskRescore.ts.
//
// No sort: record n's output slot is its rank, the number of records that precede it
// (count² ≤ MAX_DETECTIONS² comparisons; every score is recomputed, nothing shared).
// Bindings: 0 params (uniform), 1 recordsIn DetectionRecords (read: the cap's records, copied
//   by the host), 2 q f32 (read: [maxDetections, K] for MODE_PER_CLASS, [maxDetections, 2] for
//   the pair modes), 3 records DetectionRecords (write: count, candidateCount, the kept records
//   with maskArea 0).
// Dispatch: (ceil(maxDetections / 64), 1, 1), one invocation per input record.

// Params: app/gpu/kernels/maskRescore.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  numClasses: u32,      //  0: K, the row length of q in MODE_PER_CLASS
  maxDetections: u32,   //  4: records the buffers hold
  mode: u32,            //  8: MODE_NONE | MODE_PER_CLASS | MODE_SQRT_PAIR | MODE_PRODUCT_PAIR
  scoreThreshold: f32,  // 12: records scoring below it are dropped
}

const MODE_NONE: u32 = 0u;
const MODE_PER_CLASS: u32 = 1u;
const MODE_SQRT_PAIR: u32 = 2u;
const MODE_PRODUCT_PAIR: u32 = 3u;

//!include record
//!include records

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> recordsIn: Records;
@group(0) @binding(2) var<storage, read> quality: array<f32>;
@group(0) @binding(3) var<storage, read_write> records: Records;

const WORKGROUP: u32 = 64u;

fn rescored(n: u32) -> f32 {
  let r = recordsIn.items[n];
  switch (params.mode) {
    case MODE_PER_CLASS: {
      return r.score * quality[n * params.numClasses + r.classIndex];
    }
    case MODE_SQRT_PAIR: {
      let p = quality[2u * n] * quality[2u * n + 1u];
      return r.score * sqrt(max(0.0, p));
    }
    case MODE_PRODUCT_PAIR: {
      return r.score * quality[2u * n] * quality[2u * n + 1u];
    }
    default: {
      return r.score;
    }
  }
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  let count = min(recordsIn.count, params.maxDetections);
  if (n == 0u) {
    var kept = 0u;
    for (var j = 0u; j < count; j++) {
      if (rescored(j) >= params.scoreThreshold) {
        kept++;
      }
    }
    records.count = kept;
    records.candidateCount = recordsIn.candidateCount;
  }
  if (n >= count) {
    return;
  }
  let s = rescored(n);
  if (!(s >= params.scoreThreshold)) {
    return;
  }
  var rank = 0u;
  for (var j = 0u; j < count; j++) {
    let t = rescored(j);
    if (t > s || (t == s && j < n)) {
      rank++;
    }
  }
  let r = recordsIn.items[n];
  records.items[rank] = Record(r.box, s, r.classIndex, n, 0u);
}
