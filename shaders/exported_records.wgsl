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
// every row (O(N²/256); exports give N ≤ a few hundred rows): common/ranked_rows.wgsl, the
// entry point (as yolo_seg_end_to_end.wgsl).

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

fn rowScore(i: u32) -> f32 {
  return scores[i];
}

fn rowBox(i: u32) -> vec4<f32> {
  return vec4<f32>(boxes[4u * i], boxes[4u * i + 1u], boxes[4u * i + 2u], boxes[4u * i + 3u]);
}

//!include ranked_rows
