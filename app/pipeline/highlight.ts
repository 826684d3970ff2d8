/**
 * Which instance stays highlighted when a new result replaces the one the user hovered
 * (the webcam: a new result every frame, its instances in a new order).
 */
import type { Detection } from '../types';
import { iou } from '../reference/boxes';

/**
 * How much a box of the same class must overlap the hovered one to be taken as the same
 * object. Low, because a pane sees a frame every few hundred ms on slow paths, and objects
 * move a good part of their size in that time.
 */
export const HIGHLIGHT_FOLLOW_IOU = 0.3;

/**
 * The instance in `next` that continues `before[index]`: the same class and the best box
 * IoU ≥ HIGHLIGHT_FOLLOW_IOU; null when none does (the object left, or nothing was highlighted).
 */
export function followHighlight(before: readonly Detection[] | undefined, index: number | null, next: readonly Detection[]): number | null {
  const was = index === null ? undefined : before?.[index];
  if (!was) return null;
  let best: number | null = null;
  let bestIou = HIGHLIGHT_FOLLOW_IOU;
  next.forEach((d, i) => {
    if (d.classIndex !== was.classIndex) return;
    const overlap = iou(...d.box, ...was.box);
    if (overlap >= bestIou) {
      bestIou = overlap;
      best = i;
    }
  });
  return best;
}
