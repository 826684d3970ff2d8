import { describe, expect, it, vi } from 'vitest';
import type { FrameResult } from '../types';
import { onDraw, recordDraw, timingsOf, withDrawTime } from './drawTimes';

function result(): FrameResult {
  return {
    imageWidth: 4,
    imageHeight: 2,
    detections: [],
    maskWidth: 4,
    maskHeight: 2,
    timings: { preprocess: 1, total: 3, source: 'cpu' },
    bytesReadBack: 16,
    path: 'wasm',
  };
}

describe('drawTimes', () => {
  it('a result has no draw time until it is drawn; then its timings carry it', () => {
    const r = result();
    expect(timingsOf(r)).toBe(r.timings);
    expect(withDrawTime(r)).toBe(r);
    expect(timingsOf(null)).toBeUndefined();
    recordDraw(1, r, 4.25);
    expect(timingsOf(r)).toEqual({ preprocess: 1, total: 3, draw: 4.25, source: 'cpu' });
    expect(withDrawTime(r).timings.draw).toBe(4.25);
    expect(withDrawTime(r).detections).toBe(r.detections);
    // Another result (the next frame's) has its own.
    expect(timingsOf(result()).draw).toBeUndefined();
  });

  it('tells the listeners of that pane only, until they unsubscribe', () => {
    const mine = vi.fn();
    const other = vi.fn();
    const off = onDraw(7, mine);
    const offOther = onDraw(8, other);
    recordDraw(7, result(), 1);
    expect(mine).toHaveBeenCalledTimes(1);
    expect(other).not.toHaveBeenCalled();
    off();
    recordDraw(7, result(), 1);
    expect(mine).toHaveBeenCalledTimes(1);
    offOther();
  });
});
