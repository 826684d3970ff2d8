// Greedy (standard, sequential) NMS, per class, on the class's top-k boxes sorted by score
// (from class_topk.wgsl): walking down the list, box j is suppressed if IoU(i, j) > nmsIou
// for some already KEPT higher-scored box i.
// Method (the bit-mask scheme of GPU NMS implementations): first, in parallel, row i of a
// suppression matrix gets bit j set for every j > i with IoU(i, j) > nmsIou (in `masks`,
// a scratch storage buffer, [C, MAX_TOP_K, MASK_WORDS] u32); then one invocation walks the
// rows in score order, keeping i unless a kept row already removed it, and OR-ing row i into
// the removed set: k steps of MASK_WORDS word ORs, with no barrier per step.
// IoU of xyxy boxes, areas with inverted sides counted as 0, zero union → IoU 0
// (mirrors app/reference/boxes.ts).
// Bindings: 0 boxes [N] vec4 xyxy (read; [C, S] vec4 when params.boxClassStride = S > 0), 1 topIndices [C, topK] u32, 2 topCounts [C] u32,
//   3 keep [C, topK] u32 (1 kept, 0 suppressed), 4 params, 5 masks (scratch).
// Dispatch: (C, 1, 1) workgroups of WORKGROUP invocations.

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
@group(0) @binding(5) var<storage, read_write> masks: array<u32>;

// 64 invocations: on software adapters (SwiftShader) every barrier costs in proportion to
// the workgroup size; k = 200 boxes make ~3 columns an invocation.
const WORKGROUP: u32 = 64u;
// Same capacity as class_topk.wgsl's MAX_TOP_K: 512 boxes × 16 B = 8 KiB of workgroup memory.
const MAX_TOP_K: u32 = 512u;
// u32 words of one suppression-matrix row: MAX_TOP_K bits.
const MASK_WORDS: u32 = 16u;

var<workgroup> classBoxes: array<vec4<f32>, MAX_TOP_K>;

//!include box_iou

@compute @workgroup_size(WORKGROUP, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let c = wid.x;
  let row = c * params.topK;
  let count = min(topCounts[c], MAX_TOP_K);
  let words = (count + 31u) / 32u;
  let maskBase = c * MAX_TOP_K * MASK_WORDS;
  for (var i = tid; i < count; i += WORKGROUP) {
    classBoxes[i] = boxes[c * params.boxClassStride + topIndices[row + i]];
  }
  workgroupBarrier();

  // Suppression matrix, row i by invocation i (mod WORKGROUP): bits j > i only, so words
  // before i's own are never written (nor read by the walk below).
  for (var i = tid; i < count; i += WORKGROUP) {
    let bi = classBoxes[i];
    for (var w = i / 32u; w < words; w++) {
      var bits = 0u;
      let j0 = w * 32u;
      for (var b = 0u; b < 32u; b++) {
        let j = j0 + b;
        if (j > i && j < count && iou(bi, classBoxes[j]) > params.nmsIou) {
          bits |= 1u << b;
        }
      }
      masks[maskBase + i * MASK_WORDS + w] = bits;
    }
  }
  storageBarrier();
  workgroupBarrier();

  // Sequential walk in score order.
  if (tid == 0u) {
    var removed: array<u32, MASK_WORDS>;
    for (var i = 0u; i < count; i++) {
      let isKept = (removed[i / 32u] & (1u << (i % 32u))) == 0u;
      keep[row + i] = select(0u, 1u, isKept);
      if (isKept) {
        for (var w = i / 32u; w < words; w++) {
          removed[w] |= masks[maskBase + i * MASK_WORDS + w];
        }
      }
    }
  }
}
