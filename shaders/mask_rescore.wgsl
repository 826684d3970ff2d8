// maskRescore — CenterMask's mask scoring (Lee & Park 2020, §3.3; centermask2
// maskiou_head.py `mask_iou_inference`): the kept record n (row n of the mask head's batch)
// gets score_n · maskIou[n, classIndex_n], the IoU the MaskIoU head predicts for its own
// class (`useMaskIou` = 0 keeps the plain score, for a model ranked by its detection score).
// The records are then re-sorted by that score (descending; ties: the earlier record
// first), those below `scoreThreshold` (the display threshold) dropped, and each keeps its
// mask-head row n in sourceIndex, where mask_paste.wgsl (rowFromSource) finds its logits.
// Reference: app/reference/maskRescore.ts.
//
// No sort: record n's output slot is its rank, the number of records that precede it
// (count² ≤ MAX_DETECTIONS² comparisons; every score is recomputed, nothing shared).
// Bindings: 0 params (uniform), 1 recordsIn DetectionRecords (read: the cap's records, copied
//   by the host), 2 maskIou [maxDetections, K] f32 (read), 3 records DetectionRecords (write:
//   count, candidateCount, the kept records with maskArea 0).
// Dispatch: (ceil(maxDetections / 64), 1, 1), one invocation per input record.

// Params: app/gpu/kernels/maskRescore.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  numClasses: u32,      //  0: K, the row length of maskIou
  maxDetections: u32,   //  4: records the buffers hold
  useMaskIou: u32,      //  8: 1 = score · maskIou, 0 = score unchanged
  scoreThreshold: f32,  // 12: records scoring below it are dropped
}

//!include record
//!include records

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> recordsIn: Records;
@group(0) @binding(2) var<storage, read> maskIou: array<f32>;
@group(0) @binding(3) var<storage, read_write> records: Records;

const WORKGROUP: u32 = 64u;

fn rescored(n: u32) -> f32 {
  let r = recordsIn.items[n];
  if (params.useMaskIou == 0u) {
    return r.score;
  }
  return r.score * maskIou[n * params.numClasses + r.classIndex];
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
