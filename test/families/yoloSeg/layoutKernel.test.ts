/**
 * shaders/yolo_seg_layout.wgsl (f16 unpack and/or transpose of a YOLO-seg output) against
 * its TypeScript reference `yoloSegLayoutReference` on Dawn, on the same u32 words; and the
 * f16 conversions of app/families/yoloSeg/layout.ts against brute force.
 */
import { describe, expect, it } from 'vitest';
import { withDevice } from '../../gpu';
import { readBuffer } from '../../../app/gpu/buffers';
import { floatToHalfBits, halfBitsToFloat32, halfToFloat, yoloSegLayoutReference } from '../../../app/families/yoloSeg/layout';
import { createYoloSegLayout } from '../../../app/families/yoloSeg/layoutKernel';

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Every finite half, ascending by value (for nearest-half brute force). */
const FINITE_HALVES = Array.from({ length: 0x10000 }, (_, h) => h)
  .filter((h) => ((h >> 10) & 0x1f) !== 0x1f)
  .map((h) => ({ h, v: halfToFloat(h) }))
  .sort((x, y) => x.v - y.v || x.h - y.h);

describe('f16 conversions', () => {
  it('halfToFloat: known values, subnormals, infinities, NaN; every half → f32 → the same half', () => {
    expect([0x3c00, 0xc000, 0x7bff, 0x0400, 0x0001, 0x03ff, 0x8000, 0x3555].map(halfToFloat)).toEqual([
      1,
      -2,
      65504,
      2 ** -14,
      2 ** -24,
      1023 * 2 ** -24,
      -0,
      0.333251953125,
    ]);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
    const bits = Uint16Array.from({ length: 0x10000 }, (_, h) => h);
    const values = halfBitsToFloat32(bits);
    let mismatches = 0;
    for (let h = 0; h < 0x10000; h++) {
      if (Number.isNaN(values[h])) continue;
      if (floatToHalfBits(values[h]!) !== h) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('floatToHalfBits rounds to the nearest half, ties to even, overflow to ∞ (brute force over 20000 values)', () => {
    const rand = random(7);
    const wrong: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const scale = 2 ** Math.floor(rand() * 44 - 28); // 2^-28 … 2^15: subnormals to the top of the range
      const x = Math.fround((rand() - 0.5) * 2 * scale);
      const got = floatToHalfBits(x);
      // Nearest by binary search, then the tie rule.
      let lo = 0;
      let hi = FINITE_HALVES.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (FINITE_HALVES[mid]!.v <= x) lo = mid;
        else hi = mid;
      }
      const [a, b] = [FINITE_HALVES[lo]!, FINITE_HALVES[hi]!];
      const da = Math.abs(x - a.v);
      const db = Math.abs(b.v - x);
      let want = da < db ? a : db < da ? b : (a.h & 1) === 0 ? a : b;
      if (x === 0) want = { h: Object.is(x, -0) ? 0x8000 : 0, v: 0 };
      if (halfToFloat(got) !== want.v) wrong.push(`${x} → ${halfToFloat(got)}, nearest ${want.v}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(floatToHalfBits(70000)).toBe(0x7c00);
    expect(floatToHalfBits(-70000)).toBe(0xfc00);
    expect(floatToHalfBits(65519)).toBe(0x7bff); // below the midpoint to 65536: the largest half
    expect(floatToHalfBits(65520)).toBe(0x7c00); // the midpoint rounds to even: ∞
  });
});

describe('yoloSegLayout kernel vs yoloSegLayoutReference (Dawn)', () => {
  it('f32 and f16, transposed and not, odd sizes; exact (f16 subnormals may be flushed to ±0)', async () => {
    const cases: Array<{ rows: number; cols: number; transposed: boolean; half: boolean }> = [
      { rows: 116, cols: 2100, transposed: true, half: false }, // the tiny transposed export's output0
      { rows: 116, cols: 2100, transposed: false, half: true }, // the fp16 export's output0
      { rows: 39, cols: 8400, transposed: true, half: true }, // transposed and fp16 at 640, 3 classes
      { rows: 32, cols: 6400, transposed: false, half: true }, // fp16 protos
      { rows: 300, cols: 38, transposed: false, half: true }, // fp16 end-to-end rows
      { rows: 7, cols: 13, transposed: true, half: true }, // odd element count: the last word half used
      { rows: 1, cols: 1, transposed: false, half: false },
      // More than 65535 workgroups of 256: the second dispatch dimension (a 1280 input's head with ~200 classes).
      { rows: 4, cols: 4_200_000, transposed: true, half: true },
    ];
    const rand = random(18);
    const report: string[] = [];
    await withDevice(async (device) => {
      for (const c of cases) {
        const n = c.rows * c.cols;
        const words = new Uint32Array(Math.max(4, Math.ceil((c.half ? n / 2 : n) / 4) * 4));
        if (c.half) {
          // Random bits: every half there is (NaN and ∞ included, compared bit-exactly below).
          for (let i = 0; i < words.length; i++) words[i] = Math.floor(rand() * 2 ** 32);
        } else {
          const f = new Float32Array(words.buffer);
          for (let i = 0; i < n; i++) f[i] = (rand() - 0.5) * 2000;
        }
        const src = device.createBuffer({ size: words.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
        device.queue.writeBuffer(src, 0, words);
        const dst = device.createBuffer({ size: Math.max(16, n * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
        const kernel = createYoloSegLayout(device, 'test.layout');
        const encoder = device.createCommandEncoder();
        kernel.run(encoder, { src, dst }, c);
        device.queue.submit([encoder.finish()]);
        const got = new Float32Array(await readBuffer(device, dst, 0, n * 4));
        const want = yoloSegLayoutReference(words, c.rows, c.cols, c.transposed, c.half);
        let mismatches = 0;
        let flushed = 0;
        for (let i = 0; i < n; i++) {
          const g = got[i]!;
          const w = want[i]!;
          if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))) continue;
          if (c.half && g === 0 && Math.abs(w) < 2 ** -14) flushed++;
          else mismatches++;
        }
        report.push(
          `${c.rows}x${c.cols}${c.transposed ? ' transposed' : ''}${c.half ? ' f16' : ' f32'}: ${mismatches} mismatches, ${flushed} subnormals flushed`,
        );
        expect(mismatches).toBe(0);
        kernel.destroy();
        src.destroy();
        dst.destroy();
      }
    });
    console.log(report.join('\n'));
  }, 120_000);
});
