// Fast NMS (YOLACT, Bolya et al. 2019), per class, on the class's top-k boxes sorted by
// score (from class_topk.wgsl):
//   iouMax[j] = max_{i < j} IoU(box_i, box_j)   (upper triangle of the IoU matrix, over ALL
//   higher-scored boxes, suppressed or not: no sequential dependency, hence "fast"),
//   keep[j] = iouMax[j] ≤ nmsIou  (the best box is always kept).
// IoU of xyxy boxes, areas with inverted sides counted as 0, zero union → IoU 0
// (mirrors app/reference/boxes.ts).
// Bindings: 0 boxes [N] vec4 xyxy (read; [C, S] vec4 when params.boxClassStride = S > 0), 1 topIndices [C, topK] u32, 2 topCounts [C] u32,
//   3 keep [C, topK] u32 (1 kept, 0 suppressed; written for entries < topCounts[c]), 4 params.
// Dispatch: (C, 1, 1) workgroups of WORKGROUP invocations; the class's boxes are staged in
// workgroup memory, invocation t handles columns j = t, t + WORKGROUP, … and leaves a
// column at its first IoU above nmsIou (the max is then above it too).

// Mirrors PARAMS_BYTES in app/gpu/kernels/fastNms.ts (byte offsets).
struct Params {
  numClasses: u32,   // 0
  topK: u32,         // 4: row stride of topIndices / keep
  nmsIou: f32,       // 8
  boxClassStride: u32, // 12: 0 = boxes shared by all classes; S = class-specific boxes, box of
                       //     (class c, index p) at row c·S + p (Mask R-CNN: S = R RoIs)
}

@group(0) @binding(0) var<storage, read> boxes: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> topIndices: array<u32>;
@group(0) @binding(2) var<storage, read> topCounts: array<u32>;
@group(0) @binding(3) var<storage, read_write> keep: array<u32>;
@group(0) @binding(4) var<uniform> params: Params;

// 64 invocations: on software adapters (SwiftShader) every barrier costs in proportion to
// the workgroup size; k = 200 boxes make ~3 columns an invocation.
const WORKGROUP: u32 = 64u;
// Same capacity as class_topk.wgsl's MAX_TOP_K: 512 boxes × 16 B = 8 KiB of workgroup memory.
const MAX_TOP_K: u32 = 512u;

var<workgroup> classBoxes: array<vec4<f32>, MAX_TOP_K>;

//!include box_iou

@compute @workgroup_size(WORKGROUP, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let c = wid.x;
  let row = c * params.topK;
  let count = min(topCounts[c], MAX_TOP_K);
  for (var i = tid; i < count; i += WORKGROUP) {
    classBoxes[i] = boxes[c * params.boxClassStride + topIndices[row + i]];
  }
  workgroupBarrier();
  for (var j = tid; j < count; j += WORKGROUP) {
    let bj = classBoxes[j];
    // keep[j] = (max_{i<j} IoU ≤ nmsIou): the first IoU above the threshold decides it.
    var kept = 1u;
    for (var i = 0u; i < j; i++) {
      if (iou(classBoxes[i], bj) > params.nmsIou) {
        kept = 0u;
        break;
      }
    }
    keep[row + j] = kept;
  }
}
