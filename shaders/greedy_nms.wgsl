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
// Bindings, params and the two entry points (every class, or the classes with entries):
// common/nms_class.wgsl; and 5 masks (scratch).
// Dispatch: one workgroup of WORKGROUP invocations a class.

//!include nms_class
//!include box_iou

@group(0) @binding(5) var<storage, read_write> masks: array<u32>;

// u32 words of one suppression-matrix row: MAX_TOP_K bits.
const MASK_WORDS: u32 = 16u;

fn nmsClass(c: u32, tid: u32) {
  let row = c * params.topK;
  let count = loadClassBoxes(c, tid);
  let words = (count + 31u) / 32u;
  let maskBase = c * MAX_TOP_K * MASK_WORDS;

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
