/**
 * Box maths shared by the references, written in fp32 steps (Math.fround after each
 * operation) in the order the WGSL kernels use, so a reference decision (IoU > threshold)
 * is the same as the kernel's even for near-threshold pairs.
 */

const f = Math.fround;

/** Area of an xyxy box; inverted sides count as 0. */
export function boxArea(x1: number, y1: number, x2: number, y2: number): number {
  return f(Math.max(f(x2 - x1), 0) * Math.max(f(y2 - y1), 0));
}

/**
 * IoU of xyxy boxes a and b, read from `boxes` [N, 4] at rows `a` and `b`.
 * Degenerate case: union ≤ 0 (both boxes empty) → IoU 0.
 * Mirrors `iou()` in shaders/fast_nms.wgsl and shaders/greedy_nms.wgsl.
 */
export function iouAt(boxes: ArrayLike<number>, a: number, b: number): number {
  return iou(boxes[4 * a]!, boxes[4 * a + 1]!, boxes[4 * a + 2]!, boxes[4 * a + 3]!, boxes[4 * b]!, boxes[4 * b + 1]!, boxes[4 * b + 2]!, boxes[4 * b + 3]!);
}

export function iou(ax1: number, ay1: number, ax2: number, ay2: number, bx1: number, by1: number, bx2: number, by2: number): number {
  const iw = Math.max(f(Math.min(ax2, bx2) - Math.max(ax1, bx1)), 0);
  const ih = Math.max(f(Math.min(ay2, by2) - Math.max(ay1, by1)), 0);
  const inter = f(iw * ih);
  const union = f(f(boxArea(ax1, ay1, ax2, ay2) + boxArea(bx1, by1, bx2, by2)) - inter);
  return union > 0 ? f(inter / union) : 0;
}
