// Fast NMS (YOLACT, Bolya et al. 2019), per class, on the class's top-k boxes sorted by
// score (from class_topk.wgsl):
//   iouMax[j] = max_{i < j} IoU(box_i, box_j)   (upper triangle of the IoU matrix, over ALL
//   higher-scored boxes, suppressed or not: no sequential dependency, hence "fast"),
//   keep[j] = iouMax[j] ≤ nmsIou  (the best box is always kept).
// IoU of xyxy boxes, areas with inverted sides counted as 0, zero union → IoU 0
// (mirrors app/reference/boxes.ts).
// Bindings, params and the two entry points (every class, or the classes with entries):
// common/nms_class.wgsl.
// Dispatch: one workgroup of WORKGROUP invocations a class; the class's boxes are staged in
// workgroup memory, invocation t handles columns j = t, t + WORKGROUP, … and leaves a
// column at its first IoU above nmsIou (the max is then above it too).

//!include nms_class
//!include box_iou

fn nmsClass(c: u32, tid: u32) {
  let row = c * params.topK;
  let count = loadClassBoxes(c, tid);
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
