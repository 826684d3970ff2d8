import { describe, expect, it } from 'vitest';
import { AUXILIARY_RGB, auxiliaryMapRgba, auxiliaryMapSummary } from './auxiliaryMap';

describe('auxiliary map pixels', () => {
  it('colour fixed, opacity = the value, clamped; non-finite values transparent', () => {
    const rgba = auxiliaryMapRgba({ width: 5, height: 1, values: Float32Array.from([0, 0.5, 1, 2, NaN]) });
    expect([...rgba.subarray(0, 3)]).toEqual([...AUXILIARY_RGB]);
    expect([3, 7, 11, 15, 19].map((i) => rgba[i])).toEqual([0, 128, 255, 255, 0]);
  });

  it('the caption counts the cells at or above 0.5', () => {
    expect(auxiliaryMapSummary({ name: 'boundary basis', width: 2, height: 2, values: Float32Array.from([0.1, 0.5, 0.9, 0.2]) })).toBe(
      'boundary basis 2×2 · 50.0% of cells ≥ 0.5',
    );
  });
});
