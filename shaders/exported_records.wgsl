// exportedRecords — the detections of a public Mask R-CNN export (NMS already done in the
// graph: boxes [N, 4] xyxy input pixels, labels [N], scores [N]) → DetectionRecords.
//
// Row i is kept when score_i > confThreshold, score_i ≥ scoreThreshold and its label maps to
// a class through `labelToClass` (torchvision: COCO category id → 0..79; ONNX zoo:
// contiguous 1..80 → 0..79; −1 = none of the classes). Kept rows are ranked by score
// descending (ties: lower row first); the first maxDetections are written at their rank, box
// ÷ input size (relative to the model input), sourceIndex = i (the row of the masks tensor),
// maskArea = 0 (pastedMaskBits adds to it). Header: count = min(kept, maxDetections),
// candidateCount = rows above confThreshold with a known label.
// Reference: `exportedRecordsReference` in app/reference/exportedRecords.ts.
//
// Labels arrive as ORT produced them: f32 (the wasm+gpu path converts int64 on the CPU),
// int64 (the webgpu path: two u32 words a value, low word first; a non-zero high word is a
// negative or huge id, i.e. no class) or int32.
//
// Bindings (group 0):
//   0 params        uniform  Params (written by field name in app/gpu/kernels/exportedRecords.ts)
//   1 boxes         storage  read  f32 [N, 4]
//   2 labels        storage  read  u32 words (f32 bits, int64 pairs, or int32)
//   3 scores        storage  read  f32 [N]
//   4 labelToClass  storage  read  i32 [numLabels]
//   5 records       storage  read_write  DetectionRecords (mirrors app/gpu/layout.ts)
// Dispatch: (1, 1, 1): one workgroup; each invocation ranks rows lid, lid + 256, … against
// every row (O(N²/256); exports give N ≤ a few hundred rows).

struct Params {
  numRows: u32,
  maxDetections: u32,
  labelMode: u32,
  numLabels: u32,
  confThreshold: f32,
  scoreThreshold: f32,
  inputWidth: f32,
  inputHeight: f32,
}

//!include record
//!include records

const WORKGROUP = 256u;
const LABELS_F32 = 0u;
const LABELS_I64 = 1u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> boxes: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> scores: array<f32>;
@group(0) @binding(4) var<storage, read> labelToClass: array<i32>;
@group(0) @binding(5) var<storage, read_write> records: Records;

var<workgroup> kept: atomic<u32>;
var<workgroup> candidates: atomic<u32>;

// Class index of row i's label, −1 when it is none of the classes.
fn classOf(i: u32) -> i32 {
  var label: u32;
  if (params.labelMode == LABELS_F32) {
    let v = bitcast<f32>(labels[i]);
    // Not an integer, negative, NaN or too large: no class.
    if (!(v >= 0.0) || v != floor(v) || v >= f32(params.numLabels)) {
      return -1;
    }
    label = u32(v);
  } else if (params.labelMode == LABELS_I64) {
    if (labels[2u * i + 1u] != 0u) {
      return -1;
    }
    label = labels[2u * i];
  } else {
    label = labels[i];
  }
  if (label >= params.numLabels) {
    return -1;
  }
  return labelToClass[label];
}

// Whether row i is above the confidence threshold with a known class.
fn isCandidate(i: u32) -> bool {
  return scores[i] > params.confThreshold && classOf(i) >= 0;
}

fn isKept(i: u32) -> bool {
  return isCandidate(i) && scores[i] >= params.scoreThreshold;
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) {
    atomicStore(&kept, 0u);
    atomicStore(&candidates, 0u);
  }
  workgroupBarrier();
  let n = params.numRows;
  for (var i = lid; i < n; i += WORKGROUP) {
    if (!isCandidate(i)) {
      continue;
    }
    atomicAdd(&candidates, 1u);
    let s = scores[i];
    if (!(s >= params.scoreThreshold)) {
      continue;
    }
    atomicAdd(&kept, 1u);
    var rank = 0u;
    for (var j = 0u; j < n; j++) {
      if (j == i || !isKept(j)) {
        continue;
      }
      let t = scores[j];
      if (t > s || (t == s && j < i)) {
        rank++;
      }
    }
    if (rank < params.maxDetections) {
      let b = vec4<f32>(boxes[4u * i], boxes[4u * i + 1u], boxes[4u * i + 2u], boxes[4u * i + 3u]);
      let size = vec4<f32>(params.inputWidth, params.inputHeight, params.inputWidth, params.inputHeight);
      records.items[rank] = Record(b / size, s, u32(classOf(i)), i, 0u);
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    records.count = min(atomicLoad(&kept), params.maxDetections);
    records.candidateCount = atomicLoad(&candidates);
  }
}
