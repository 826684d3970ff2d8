/**
 * Where each box label goes on a pane's stage, so that labels never cover each other.
 *
 * Greedy: labels are taken in priority order (the caller passes them highest score first)
 * and each takes the first free spot of: just above its box, just below it, inside its top
 * edge. A label with no free spot is left out (the caller shows it on hover). The pinned
 * label (the hovered instance) is always placed, on top of the others if it must: it is
 * laid out last so that hovering one label never moves the rest.
 *
 * All coordinates are stage pixels.
 */

export interface LabelRequest {
  /** The caller's key for the label (the detection's index). */
  id: number;
  /** The instance's box, [x1, y1, x2, y2]. */
  box: readonly [number, number, number, number];
  width: number;
  height: number;
}

export interface LabelSpot {
  x: number;
  y: number;
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** The spots a label may take, best first, each kept inside the stage horizontally. */
function candidates(label: LabelRequest, stageW: number, stageH: number): Rect[] {
  const [x1, y1, , y2] = label.box;
  const { width: w, height: h } = label;
  const x = Math.max(0, Math.min(x1, stageW - w));
  const ys = [y1 - h, y2, y1];
  return ys.filter((y) => y >= 0 && y + h <= stageH).map((y) => ({ x, y, w, h }));
}

/**
 * Spots for the labels that fit (by id); `labels` in priority order. `pinned` (an id in
 * `labels`, or null) is always in the result.
 */
export function layoutLabels(labels: readonly LabelRequest[], stageW: number, stageH: number, pinned: number | null = null): Map<number, LabelSpot> {
  const spots = new Map<number, LabelSpot>();
  const taken: Rect[] = [];
  for (const label of labels) {
    if (label.id === pinned) continue;
    const spot = candidates(label, stageW, stageH).find((r) => !taken.some((t) => overlaps(r, t)));
    if (!spot) continue;
    taken.push(spot);
    spots.set(label.id, { x: spot.x, y: spot.y });
  }
  const hot = pinned === null ? undefined : labels.find((l) => l.id === pinned);
  if (hot) {
    // Its first free spot if there is one, else its first spot (drawn over the others);
    // a label taller than the stage goes to the top.
    const all = candidates(hot, stageW, stageH);
    const spot = all.find((r) => !taken.some((t) => overlaps(r, t))) ?? all[0] ?? { x: Math.max(0, Math.min(hot.box[0], stageW - hot.width)), y: 0 };
    spots.set(hot.id, { x: spot.x, y: spot.y });
  }
  return spots;
}
