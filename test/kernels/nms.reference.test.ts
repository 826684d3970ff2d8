import { expect, it } from 'vitest';
import { fastNmsReference } from '../../app/reference/fastNms';
import { greedyNmsReference } from '../../app/reference/greedyNms';
import { iou, iouAt } from '../../app/reference/boxes';
import { clusteredBoxes, randomTopIndices } from './conformance/nms';

it('IoU: hand values and the degenerate case', () => {
  expect(iou(0, 0, 1, 1, 0.3, 0, 1.3, 1)).toBeCloseTo(0.7 / 1.3, 6);
  expect(iou(0, 0, 2, 1, 0, 0, 1, 1)).toBe(0.5);
  expect(iou(0, 0, 1, 1, 2, 2, 3, 3)).toBe(0); // disjoint
  expect(iou(0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5)).toBe(0); // zero union
  expect(iou(1, 1, 0, 0, 0, 0, 1, 1)).toBe(0); // inverted box has area 0
});

it('NMS references satisfy their definitions on random clustered boxes', () => {
  const boxes = clusteredBoxes(3000, 7);
  const top = randomTopIndices(3000, 12, () => 120, 8);
  for (const thr of [0.3, 0.5, 0.7]) {
    const fast = fastNmsReference(boxes, top, thr);
    const greedy = greedyNmsReference(boxes, top, thr);
    top.forEach((idx, c) => {
      idx.forEach((pj, j) => {
        const above = (i: number) => iouAt(boxes, idx[i]!, pj) > thr;
        const earlier = [...Array(j).keys()];
        // Fast: kept iff no higher-scored box at all overlaps above the threshold.
        expect(fast[c]![j]).toBe(!earlier.some(above));
        // Greedy: kept iff no higher-scored KEPT box overlaps above the threshold.
        expect(greedy[c]![j]).toBe(!earlier.some((i) => greedy[c]![i] && above(i)));
        // Fast NMS suppresses at least what greedy does.
        if (fast[c]![j]) expect(greedy[c]![j]).toBe(true);
      });
    });
  }
});
