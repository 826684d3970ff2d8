import { describe, expect, it } from 'vitest';
import { DeliveryRate } from './deliveryRate';

describe('DeliveryRate', () => {
  it('is 0 until a second delivery, then deliveries over their span', () => {
    const r = new DeliveryRate(4);
    expect(r.add(1000)).toBe(0);
    expect(r.add(1500)).toBeCloseTo(2, 9);
    expect(r.add(2000)).toBeCloseTo(2, 9);
  });

  it('results in pairs (two frames in flight) give the pairs rate, not the short gap', () => {
    const r = new DeliveryRate(8);
    let fps = 0;
    // Every 120 s a pair of results 100 ms apart: one frame a minute.
    for (let k = 0; k < 4; k++) {
      r.add(k * 120_000);
      fps = r.add(k * 120_000 + 100);
    }
    expect(fps).toBeGreaterThan(1 / 60 - 0.002);
    expect(fps).toBeLessThan(1 / 60 + 0.006);
  });

  it('keeps the last `window` deliveries only, and forgets them on reset', () => {
    const r = new DeliveryRate(3);
    r.add(0);
    r.add(10_000); // slow start
    r.add(10_100);
    expect(r.add(10_200)).toBeCloseTo(2 / 0.2, 6); // window: 10 000 dropped
    r.reset();
    expect(r.add(20_000)).toBe(0);
  });
});
