/**
 * Reference of shaders/fast_nms.wgsl — YOLACT's Fast NMS, per class, on the class's top-k
 * boxes sorted by score (descending):
 *   IoU matrix of the k boxes, upper triangle only (i < j),
 *   iouMax[j] = max_{i < j} IoU(i, j)   — over ALL higher-scored boxes, suppressed or not,
 *   keep j where iouMax[j] ≤ nmsIou (box 0 is always kept).
 * IoU: app/reference/boxes.ts (fp32 steps; zero union → 0).
 * Class-specific boxes (Mask R-CNN): with `boxClassStride` S > 0 the box of entry p of class c
 * is row c·S + p of `boxes` (0: rows shared by every class, YOLACT / YOLO-seg).
 */
import { iouAt } from './boxes';

/**
 * @param boxes [N, 4] xyxy, indexed by prior
 * @param topIndices per class: prior indices, best first
 * @param boxClassStride 0, or rows per class of class-specific boxes (box of (c, p) = row c·S + p)
 * @returns per class: keep flags aligned with topIndices
 */
export function fastNmsReference(boxes: ArrayLike<number>, topIndices: number[][], nmsIou: number, boxClassStride = 0): boolean[][] {
  const threshold = Math.fround(nmsIou);
  return topIndices.map((idx, c) =>
    idx.map((pj, j) => {
      const base = c * boxClassStride;
      // iouMax ≤ threshold ⇔ no higher-scored box (kept or not) overlaps above it.
      for (let i = 0; i < j; i++) if (iouAt(boxes, base + idx[i]!, base + pj) > threshold) return false;
      return true;
    }),
  );
}
