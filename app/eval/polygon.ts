/**
 * Polygon → RLE, with the same pixel decisions as the COCO tools (`frPoly`), so that
 * polygon ground truths give the same masks (and so the same IoUs) as there.
 *
 * The rule: vertices are scaled by 5 and rounded to a fine integer grid; each edge is
 * walked one fine step at a time along its longer axis (the other coordinate rounded);
 * every time the walk crosses a column of fine x, if that fine column is the centre of a
 * pixel column x, the crossing's y (rounded up to whole pixels, clamped to [0, h]) toggles
 * the mask in column x from that row down. Sorting all toggles in column-major order and
 * taking differences gives the run lengths. A pixel is in the mask when its centre is
 * inside the polygon, up to the grid's rounding.
 */
import type { Rle } from './rle';

/** `xy` = [x0, y0, x1, y1, …] in pixels (COCO polygon). */
export function polygonToRle(xy: readonly number[], height: number, width: number): Rle {
  const SCALE = 5; // sub-pixel grid: 5 fine steps a pixel
  const k = Math.floor(xy.length / 2);
  if (k === 0) return { height, width, counts: [height * width] };
  // Closed fine-grid vertex list.
  const vx: number[] = [];
  const vy: number[] = [];
  for (let j = 0; j < k; j++) {
    vx.push(Math.trunc(SCALE * xy[2 * j]! + 0.5));
    vy.push(Math.trunc(SCALE * xy[2 * j + 1]! + 0.5));
  }
  vx.push(vx[0]!);
  vy.push(vy[0]!);

  // Walk the edges on the fine grid, collecting one (u, v) point per step.
  const u: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < k; j++) {
    let xs = vx[j]!;
    let xe = vx[j + 1]!;
    let ys = vy[j]!;
    let ye = vy[j + 1]!;
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const alongX = dx >= dy;
    // Always walk from the lower end of the major axis, recording points in edge order.
    const reversed = (alongX && xs > xe) || (!alongX && ys > ye);
    if (reversed) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    if (alongX) {
      const slope = dx === 0 ? 0 : (ye - ys) / dx;
      for (let step = 0; step <= dx; step++) {
        const t = reversed ? dx - step : step;
        u.push(t + xs);
        v.push(Math.trunc(ys + slope * t + 0.5));
      }
    } else {
      const slope = dy === 0 ? 0 : (xe - xs) / dy;
      for (let step = 0; step <= dy; step++) {
        const t = reversed ? dy - step : step;
        v.push(t + ys);
        u.push(Math.trunc(xs + slope * t + 0.5));
      }
    }
  }

  // Toggle points where the walk crosses the centre column of a pixel.
  const toggles: number[] = [];
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue;
    const fineX = u[j]! < u[j - 1]! ? u[j]! : u[j]! - 1;
    const px = (fineX + 0.5) / SCALE - 0.5;
    if (Math.floor(px) !== px || px < 0 || px > width - 1) continue;
    const fineY = u[j]! < u[j - 1]! ? v[j]! : v[j - 1]!;
    let py = (fineY + 0.5) / SCALE - 0.5;
    if (py < 0) py = 0;
    else if (py > height) py = height;
    py = Math.ceil(py);
    toggles.push(px * height + py);
  }
  toggles.push(height * width);
  toggles.sort((a, b) => a - b);
  // Differences → run lengths; zero-length runs in the middle merge their neighbours.
  const diffs: number[] = [];
  let prev = 0;
  for (const t of toggles) {
    diffs.push(t - prev);
    prev = t;
  }
  const counts: number[] = [diffs[0]!];
  for (let j = 1; j < diffs.length;) {
    if (diffs[j]! > 0) {
      counts.push(diffs[j++]!);
    } else {
      j++;
      if (j < diffs.length) counts[counts.length - 1]! += diffs[j++]!;
    }
  }
  return { height, width, counts };
}
