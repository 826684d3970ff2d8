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

/** BT.601 full-range RGB → YCbCr (what the C420jpeg colour space means). */
function rgbToYuv(r: number, g: number, b: number): [number, number, number] {
  const y = 0.299 * r + 0.587 * g + 0.114 * b;
  const u = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
  const v = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
  const clamp = (x: number) => Math.max(0, Math.min(255, Math.round(x)));
  return [clamp(y), clamp(u), clamp(v)];
}

function shapeCovers(s: Shape, frame: number, x: number, y: number, w: number, h: number): boolean {
  // Bounce inside the frame: fold the unbounded position back into [r, size - r].
  const fold = (p: number, lo: number, hi: number) => {
    const span = hi - lo;
    const t = ((((p - lo) % (2 * span)) + 2 * span) % (2 * span));
    return lo + (t <= span ? t : 2 * span - t);
  };
  const cx = fold(s.cx + s.vx * frame, s.radius, w - s.radius);
  const cy = fold(s.cy + s.vy * frame, s.radius, h - s.radius);
  const dx = x - cx;
  const dy = y - cy;
  return s.kind === 'disc'
    ? dx * dx + dy * dy <= s.radius * s.radius
    : Math.abs(dx) <= s.radius && Math.abs(dy) <= s.radius;
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
  const rgb = new Uint8Array(ySize * 3);
  for (let f = 0; f < frames; f++) {
    // RGB frame: a soft diagonal gradient background, then the shapes in order.
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 3;
        let c: [number, number, number] = [90 + (x * 60) / w, 110 + (y * 50) / h, 100];
        for (const s of shapes) if (shapeCovers(s, f, x, y, w, h)) c = s.rgb;
        rgb[o] = c[0];
        rgb[o + 1] = c[1];
        rgb[o + 2] = c[2];
      }
    }
    const planes = Buffer.alloc(ySize + 2 * cSize);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 3;
        planes[y * w + x] = rgbToYuv(rgb[o]!, rgb[o + 1]!, rgb[o + 2]!)[0];
      }
    }
    // Chroma: average the 2x2 block's U and V.
    for (let y = 0; y < h / 2; y++) {
      for (let x = 0; x < w / 2; x++) {
        let u = 0;
        let v = 0;
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            const o = ((2 * y + dy) * w + 2 * x + dx) * 3;
            const yuv = rgbToYuv(rgb[o]!, rgb[o + 1]!, rgb[o + 2]!);
            u += yuv[1];
            v += yuv[2];
          }
        }
        planes[ySize + y * (w / 2) + x] = Math.round(u / 4);
        planes[ySize + cSize + y * (w / 2) + x] = Math.round(v / 4);
      }
    }
    parts.push(frameHeader, planes);
  }
  return Buffer.concat(parts);
}

export function writeShapesY4m(file: string, opts: Y4mOptions): void {
  writeFileSync(file, makeShapesY4m(opts));
}
