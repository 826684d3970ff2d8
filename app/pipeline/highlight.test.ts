import { describe, expect, it } from 'vitest';
import type { Detection } from '../types';
import { followHighlight } from './highlight';

const det = (classIndex: number, box: Detection['box']): Detection => ({ classIndex, box, score: 0.9, maskArea: 1 });

describe('followHighlight', () => {
  const before = [det(1, [0, 0, 10, 10]), det(2, [50, 50, 90, 90])];

  it('follows the hovered object into the new order, by class and overlap', () => {
    const next = [det(2, [10, 10, 20, 20]), det(1, [40, 40, 60, 60]), det(2, [55, 52, 95, 92])];
    expect(followHighlight(before, 1, next)).toBe(2);
  });

  it('takes the best overlap among several of the class', () => {
    const next = [det(2, [60, 60, 100, 100]), det(2, [52, 50, 92, 90])];
    expect(followHighlight(before, 1, next)).toBe(1);
  });

  it('drops the highlight when the object left or changed class', () => {
    expect(followHighlight(before, 0, [det(1, [30, 30, 40, 40])])).toBeNull();
    expect(followHighlight(before, 0, [det(3, [0, 0, 10, 10])])).toBeNull();
  });

  it('no highlight, an index past the old result, or no old result: none', () => {
    const next = [det(1, [0, 0, 10, 10])];
    expect(followHighlight(before, null, next)).toBeNull();
    expect(followHighlight(before, 7, next)).toBeNull();
    expect(followHighlight(undefined, 0, next)).toBeNull();
  });
});
