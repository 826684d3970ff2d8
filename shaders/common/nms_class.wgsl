// Per-class NMS frame — what fast_nms.wgsl and greedy_nms.wgsl share: their params and
// bindings, the class's boxes staged in workgroup memory, and the two entry points:
//   main   (C, 1, 1) workgroups, class c = workgroup id (every class);
//   listed dispatched indirectly from class_topk.wgsl's classLists: workgroup i takes the
//          i-th class that has entries, so classes without any cost no workgroup (each
//          workgroup's memory is zero-initialised by Dawn, which is not free on software
//          adapters).
// The including kernel includes box_iou and defines `fn nmsClass(c: u32, tid: u32)`, which
// writes keep[c, i] for i < topCounts[c].
// Bindings: 0 boxes [N] vec4 xyxy (read; [C, S] vec4 when params.boxClassStride = S > 0),
//   1 topIndices [C, topK] u32, 2 topCounts [C] u32, 3 keep [C, topK] u32 (1 kept,
//   0 suppressed), 4 params, 6 classLists (listed only; layout in class_topk.wgsl).

// Params: app/gpu/kernels/fastNms.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
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
@group(0) @binding(6) var<storage, read> classLists: array<u32>;

// 64 invocations: on software adapters (SwiftShader) every barrier costs in proportion to
// the workgroup size; k = 200 boxes make ~3 columns an invocation.
const WORKGROUP: u32 = 64u;
// Same capacity as class_topk.wgsl's SORT_CAPACITY: 512 boxes × 16 B = 8 KiB of workgroup memory.
const MAX_TOP_K: u32 = 512u;
// classLists: the indirect dispatch (4 words), the per-class counts [C], then the classes.
const LISTS_HEADER_WORDS: u32 = 4u;

var<workgroup> classBoxes: array<vec4<f32>, MAX_TOP_K>;

// Stages class c's boxes in classBoxes; returns their count (≤ MAX_TOP_K).
fn loadClassBoxes(c: u32, tid: u32) -> u32 {
  let row = c * params.topK;
  let count = min(topCounts[c], MAX_TOP_K);
  for (var i = tid; i < count; i += WORKGROUP) {
    classBoxes[i] = boxes[c * params.boxClassStride + topIndices[row + i]];
  }
  workgroupBarrier();
  return count;
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  nmsClass(wid.x, tid);
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn listed(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  nmsClass(classLists[LISTS_HEADER_WORDS + params.numClasses + wid.x], tid);
}
