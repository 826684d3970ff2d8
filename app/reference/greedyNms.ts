/**
 * Reference of shaders/greedy_nms.wgsl — standard sequential NMS, per class, on the class's
 * top-k boxes sorted by score (descending): walking down the list, a box is suppressed if
 * its IoU with any already KEPT higher-scored box is > nmsIou.
 * IoU: app/reference/boxes.ts (fp32 steps; zero union → 0).
 */
import { iouAt } from './boxes';

/** Same arguments (class-specific boxes with `boxClassStride` > 0) and result as `fastNmsReference`. */
export function greedyNmsReference(boxes: ArrayLike<number>, topIndices: number[][], nmsIou: number, boxClassStride = 0): boolean[][] {
  const threshold = Math.fround(nmsIou);
  return topIndices.map((idx, c) => {
    const base = c * boxClassStride;
    const keep = idx.map(() => true);
    for (let i = 0; i < idx.length; i++) {
      if (!keep[i]) continue;
      for (let j = i + 1; j < idx.length; j++) {
        if (keep[j] && iouAt(boxes, base + idx[i]!, base + idx[j]!) > threshold) keep[j] = false;
      }
    }
    return keep;
  });
}
