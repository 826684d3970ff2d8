import { writeFileSync } from 'node:fs';

/**
 * A minimal YUV4MPEG2 writer for Chromium's fake webcam (`--use-file-for-fake-video-capture`):
 * a one-line header, then per frame `FRAME\n` followed by the I420 planes (Y at full
 * resolution, then U and V at half resolution each way).
 *
 * Used only when the dataset engineer's emoji-scene generator (models/dataset/make_y4m.py)
 * is not available: it draws a few flat coloured discs and squares drifting over a
 * gradient, so frames change and something is in them, though no model class is implied.
 */

export interface Y4mOptions {
  width: number;
  height: number;
  frames: number;
  fps: number;
}

interface Shape {
  kind: 'disc' | 'square';
  /** Centre at frame 0 and velocity, pixels and pixels per frame. */
  cx: number;
  cy: number;
  vx: number;
  vy: number;
  radius: number;
  rgb: [number, number, number];
}

/** Bounce inside [lo, hi]: fold an unbounded coordinate back into the range. */
function fold(p: number, lo: number, hi: number): number {
  const span = hi - lo;
  const t = (((p - lo) % (2 * span)) + 2 * span) % (2 * span);
  return lo + (t <= span ? t : 2 * span - t);
}

/** Renders the frames and returns the whole file. */
export function makeShapesY4m(opts: Y4mOptions): Buffer {
  const { width: w, height: h, frames, fps } = opts;
  if (w % 2 || h % 2) throw new Error('I420 needs even width and height');
  const shapes: Shape[] = [
    { kind: 'disc', cx: 160, cy: 140, vx: 4, vy: 3, radius: 70, rgb: [220, 40, 40] },
    { kind: 'square', cx: 450, cy: 300, vx: -3, vy: 2, radius: 60, rgb: [40, 90, 220] },
    { kind: 'disc', cx: 320, cy: 380, vx: 2, vy: -4, radius: 50, rgb: [250, 210, 30] },
  ];
  const header = Buffer.from(`YUV4MPEG2 W${w} H${h} F${fps}:1 Ip A1:1 C420jpeg\n`, 'ascii');
  const frameHeader = Buffer.from('FRAME\n', 'ascii');
  const ySize = w * h;
  const cSize = (w / 2) * (h / 2);
  const parts: Buffer[] = [header];
  // RGB of the frame being drawn, [h, w, 3].
  const rgb = new Float32Array(ySize * 3);
  // The background: a soft diagonal gradient, the same every frame.
  const background = new Float32Array(ySize * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      background[o] = 90 + (x * 60) / w;
      background[o + 1] = 110 + (y * 50) / h;
      background[o + 2] = 100;
    }
  }
  for (let f = 0; f < frames; f++) {
    rgb.set(background);
    for (const s of shapes) {
      const cx = fold(s.cx + s.vx * f, s.radius, w - s.radius);
      const cy = fold(s.cy + s.vy * f, s.radius, h - s.radius);
      const y0 = Math.max(0, Math.floor(cy - s.radius));
      const y1 = Math.min(h - 1, Math.ceil(cy + s.radius));
      const x0 = Math.max(0, Math.floor(cx - s.radius));
      const x1 = Math.min(w - 1, Math.ceil(cx + s.radius));
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          const dx = x - cx;
          const dy = y - cy;
          if (s.kind === 'disc' && dx * dx + dy * dy > s.radius * s.radius) continue;
          const o = (y * w + x) * 3;
          rgb[o] = s.rgb[0];
          rgb[o + 1] = s.rgb[1];
          rgb[o + 2] = s.rgb[2];
        }
      }
    }
    // BT.601 full range (what C420jpeg means): Y per pixel, Cb/Cr averaged over 2x2 blocks.
    const planes = Buffer.alloc(ySize + 2 * cSize);
    for (let i = 0; i < ySize; i++) {
      planes[i] = Math.min(255, Math.round(0.299 * rgb[3 * i]! + 0.587 * rgb[3 * i + 1]! + 0.114 * rgb[3 * i + 2]!));
    }
    for (let y = 0; y < h / 2; y++) {
      for (let x = 0; x < w / 2; x++) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let k = 0; k < 4; k++) {
          const o = ((2 * y + (k >> 1)) * w + 2 * x + (k & 1)) * 3;
          r += rgb[o]! / 4;
          g += rgb[o + 1]! / 4;
          b += rgb[o + 2]! / 4;
        }
        const c = y * (w / 2) + x;
        planes[ySize + c] = Math.max(0, Math.min(255, Math.round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b)));
        planes[ySize + cSize + c] = Math.max(0, Math.min(255, Math.round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)));
      }
    }
    parts.push(frameHeader, planes);
  }
  return Buffer.concat(parts);
}

export function writeShapesY4m(file: string, opts: Y4mOptions): void {
  writeFileSync(file, makeShapesY4m(opts));
}
