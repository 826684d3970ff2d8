import { describe, expect, it } from 'vitest';
import { layoutLabels, type LabelRequest } from './labelLayout';

const W = 400;
const H = 300;

function label(id: number, box: [number, number, number, number], width = 60, height = 16): LabelRequest {
  return { id, box, width, height };
}

/** Every pair of placed labels is disjoint, and every label lies inside the stage. */
function expectNoOverlap(labels: LabelRequest[], spots: Map<number, { x: number; y: number }>): void {
  const rects = [...spots].map(([id, s]) => {
    const l = labels.find((x) => x.id === id)!;
    return { id, x: s.x, y: s.y, w: l.width, h: l.height };
  });
  for (const r of rects) {
    expect(r.x).toBeGreaterThanOrEqual(0);
    expect(r.y).toBeGreaterThanOrEqual(0);
    expect(r.x + r.w).toBeLessThanOrEqual(W);
    expect(r.y + r.h).toBeLessThanOrEqual(H);
  }
  for (const a of rects) {
    for (const b of rects) {
      if (a.id >= b.id) continue;
      const disjoint = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
      expect(disjoint, `labels ${a.id} and ${b.id} overlap`).toBe(true);
    }
  }
}

describe('layoutLabels', () => {
  it('puts a lone label just above its box', () => {
    const spots = layoutLabels([label(0, [100, 100, 200, 200])], W, H);
    expect(spots.get(0)).toEqual({ x: 100, y: 84 });
  });

  it('goes inside the top edge when the box touches the top, and stays inside the stage on the right', () => {
    const spots = layoutLabels([label(0, [380, 0, 400, 50])], W, H);
    expect(spots.get(0)).toEqual({ x: W - 60, y: 50 }); // above is off-stage: below the box
    const tall = layoutLabels([label(1, [10, 0, 50, H])], W, H);
    expect(tall.get(1)).toEqual({ x: 10, y: 0 }); // neither above nor below fits: inside
  });

  it('two boxes with the same top: the second label goes below its box', () => {
    const labels = [label(0, [100, 100, 200, 200]), label(1, [110, 100, 210, 180])];
    const spots = layoutLabels(labels, W, H);
    expect(spots.get(0)).toEqual({ x: 100, y: 84 });
    expect(spots.get(1)).toEqual({ x: 110, y: 180 });
    expectNoOverlap(labels, spots);
  });

  it('a crowd of stacked boxes: no two labels overlap, the ones with no room are left out, the first ones stay', () => {
    // Ten near-identical boxes (a crowd of people in one spot): three spots exist for all of them.
    const labels = Array.from({ length: 10 }, (_, i) => label(i, [100 + i, 100 + i, 160 + i, 220 + i]));
    const spots = layoutLabels(labels, W, H);
    expectNoOverlap(labels, spots);
    expect(spots.has(0)).toBe(true);
    expect(spots.size).toBeLessThan(labels.length);
    expect(spots.size).toBeGreaterThanOrEqual(2);
  });

  it('a grid of small touching boxes along the top edge: every placed label is disjoint', () => {
    const labels: LabelRequest[] = [];
    for (let row = 0; row < 4; row++) {
      for (let col = 0; col < 8; col++) labels.push(label(row * 8 + col, [col * 50, row * 30, col * 50 + 48, row * 30 + 28], 70, 14));
    }
    const spots = layoutLabels(labels, W, H);
    expectNoOverlap(labels, spots);
    expect(spots.size).toBeGreaterThan(0);
  });

  it('the pinned (hovered) label is always placed, and the others keep their spots', () => {
    const labels = Array.from({ length: 6 }, (_, i) => label(i, [100, 100, 160, 220]));
    const free = layoutLabels(labels, W, H);
    const left = labels.find((l) => !free.has(l.id))!;
    const pinned = layoutLabels(labels, W, H, left.id);
    expect(pinned.has(left.id)).toBe(true);
    for (const [id, spot] of free) expect(pinned.get(id)).toEqual(spot);
  });
});
