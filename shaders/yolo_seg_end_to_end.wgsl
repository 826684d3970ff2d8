// YOLO-seg end-to-end exports (NMS inside the graph, e.g. YOLO26 / v10 style):
// detections [R, 6 + K] rows (x1, y1, x2, y2 in letterboxed input pixels, score, class,
// K mask coefficients) → DetectionRecords (app/gpu/layout.ts) with no NMS: a row is kept
// when its score > confThreshold, score ≥ scoreThreshold and its class (rounded) is one
// of the C classes; kept rows are ordered by score descending (ties: lower row first)
// and the first maxDetections written, boxes made relative to the input.
// No sort: a kept row's rank is the number of kept rows that precede it
// (common/ranked_rows.wgsl: the entry point, as exported_records.wgsl).
// Bindings: 0 detections [R, 6 + K] (read), 1 records (write), 2 params (uniform).
// Dispatch: (1, 1, 1), one workgroup of 64; rows strided over the invocations.

// Params: app/gpu/kernels/yoloSegEndToEnd.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  numRows: u32,         //  0: R
  rowStride: u32,       //  4: 6 + K floats
  numClasses: u32,      //  8: C
  maxDetections: u32,   // 12
  confThreshold: f32,   // 16
  scoreThreshold: f32,  // 20
  inputWidth: f32,      // 24
  inputHeight: f32,     // 28
}

//!include record
//!include records

@group(0) @binding(0) var<storage, read> detections: array<f32>;
@group(0) @binding(1) var<storage, read_write> records: Records;
@group(0) @binding(2) var<uniform> params: Params;

const WORKGROUP: u32 = 64u;
// Columns of a row: box 0–3, score 4, class 5.
const SCORE_COLUMN: u32 = 4u;
const CLASS_COLUMN: u32 = 5u;

fn rowScore(r: u32) -> f32 {
  return detections[r * params.rowStride + SCORE_COLUMN];
}

// The row's class rounded to an integer; −1 when it is not one of the C classes.
fn classOf(r: u32) -> i32 {
  let c = round(detections[r * params.rowStride + CLASS_COLUMN]);
  if (!(c >= 0.0 && c < f32(params.numClasses))) {
    return -1;
  }
  return i32(c);
}

fn rowBox(r: u32) -> vec4<f32> {
  let o = r * params.rowStride;
  return vec4<f32>(detections[o], detections[o + 1u], detections[o + 2u], detections[o + 3u]);
}

// candidateCount: rows above confThreshold, whatever their class.
fn isCandidate(r: u32) -> bool {
  return rowScore(r) > params.confThreshold;
}

fn isKept(r: u32) -> bool {
  let s = rowScore(r);
  return s > params.confThreshold && s >= params.scoreThreshold && classOf(r) >= 0;
}

//!include ranked_rows
