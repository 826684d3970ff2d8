// Rows ranked by score without a sort — what exported_records.wgsl and
// yolo_seg_end_to_end.wgsl share (detections whose NMS ran inside the model graph →
// DetectionRecords): one workgroup, invocation tid takes rows tid, tid + WORKGROUP, …; a kept
// row's rank is the number of kept rows before it in (score desc, row asc) order (R ≤ a few
// hundred rows, so R² comparisons in one workgroup cost less than any sort setup), and the
// first maxDetections are written at their rank: box ÷ input size (relative to the model
// input), sourceIndex = the row, maskArea = 0. Header: count = min(kept, maxDetections),
// candidateCount = the candidate rows, padding 0.
// The including kernel includes record and records, binds `records: Records` (read_write),
// declares `const WORKGROUP: u32` and a Params with numRows, maxDetections, inputWidth and
// inputHeight, and defines
//   fn rowScore(i: u32) -> f32
//   fn rowBox(i: u32) -> vec4<f32>     x1, y1, x2, y2 in input pixels
//   fn classOf(i: u32) -> i32          the row's class (read for kept rows only)
//   fn isCandidate(i: u32) -> bool     counted in candidateCount
//   fn isKept(i: u32) -> bool          ranked and written; only candidates are kept
// Dispatch: (1, 1, 1).

var<workgroup> keptRows: atomic<u32>;
var<workgroup> candidateRows: atomic<u32>;

@compute @workgroup_size(WORKGROUP, 1, 1)
fn main(@builtin(local_invocation_index) tid: u32) {
  if (tid == 0u) {
    atomicStore(&keptRows, 0u);
    atomicStore(&candidateRows, 0u);
  }
  workgroupBarrier();
  let n = params.numRows;
  for (var i = tid; i < n; i += WORKGROUP) {
    if (isCandidate(i)) {
      atomicAdd(&candidateRows, 1u);
    }
    if (!isKept(i)) {
      continue;
    }
    atomicAdd(&keptRows, 1u);
    let s = rowScore(i);
    var rank = 0u;
    for (var j = 0u; j < n; j++) {
      if (j != i && isKept(j)) {
        let t = rowScore(j);
        if (t > s || (t == s && j < i)) {
          rank++;
        }
      }
    }
    if (rank < params.maxDetections) {
      let size = vec4<f32>(params.inputWidth, params.inputHeight, params.inputWidth, params.inputHeight);
      records.items[rank] = Record(rowBox(i) / size, s, u32(classOf(i)), i, 0u);
    }
  }
  workgroupBarrier();
  if (tid == 0u) {
    records.count = min(atomicLoad(&keptRows), params.maxDetections);
    records.candidateCount = atomicLoad(&candidateRows);
    records._pad0 = 0u;
    records._pad1 = 0u;
  }
}
