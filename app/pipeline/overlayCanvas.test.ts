import { describe, expect, it } from 'vitest';
import { withDevice } from '../../test/gpu';
import { encodePresent } from './overlayCanvas';

/**
 * The present pass (shaders/presentOverlay.wgsl) must put every overlay texel, unchanged,
 * at the same place of the canvas texture, whatever the canvas format: checked against
 * the source bytes themselves (swizzled by hand for bgra8unorm) at an odd size.
 */

const W = 37;
const H = 23;

function randomPremultiplied(seed: number): Uint8Array<ArrayBuffer> {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
  const px = new Uint8Array(W * H * 4);
  for (let i = 0; i < W * H; i++) {
    const a = i % 7 === 0 ? 0 : next();
    for (let c = 0; c < 3; c++) px[i * 4 + c] = Math.floor((next() * a) / 255);
    px[i * 4 + 3] = a;
  }
  return px;
}

async function present(device: GPUDevice, source: Uint8Array<ArrayBuffer> | null, format: GPUTextureFormat): Promise<Uint8Array> {
  const overlay = device.createTexture({
    label: 'test.overlay',
    size: { width: W, height: H },
    format: 'rgba8unorm',
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  if (source) device.queue.writeTexture({ texture: overlay }, source, { bytesPerRow: W * 4 }, { width: W, height: H });
  const target = device.createTexture({
    label: `test.target.${format}`,
    size: { width: W, height: H },
    format,
    usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
  });
  const rowBytes = 256; // ≥ W·4, a multiple of 256
  const readback = device.createBuffer({ label: 'test.readback', size: rowBytes * H, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const encoder = device.createCommandEncoder({ label: 'test.present' });
  encodePresent(device, encoder, source ? overlay : null, target, 'test');
  encoder.copyTextureToBuffer({ texture: target }, { buffer: readback, bytesPerRow: rowBytes }, { width: W, height: H });
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const padded = new Uint8Array(readback.getMappedRange().slice(0));
  readback.unmap();
  const out = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) out.set(padded.subarray(y * rowBytes, y * rowBytes + W * 4), y * W * 4);
  for (const o of [overlay, target, readback]) o.destroy();
  return out;
}

function swizzleBgra(rgba: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgba.length);
  for (let i = 0; i < rgba.length; i += 4) {
    out[i] = rgba[i + 2]!;
    out[i + 1] = rgba[i + 1]!;
    out[i + 2] = rgba[i]!;
    out[i + 3] = rgba[i + 3]!;
  }
  return out;
}

function mismatches(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

describe('presentOverlay', () => {
  it('copies every texel into an rgba8unorm target unchanged', () =>
    withDevice(async (device) => {
      const src = randomPremultiplied(1);
      expect(mismatches(await present(device, src, 'rgba8unorm'), src)).toBe(0);
    }));

  it('swizzles into a bgra8unorm target (the usual canvas format)', () =>
    withDevice(async (device) => {
      const src = randomPremultiplied(2);
      const out = await present(device, src, 'bgra8unorm');
      expect(mismatches(out, swizzleBgra(src))).toBe(0);
      // Not trivially equal to the unswizzled bytes.
      expect(mismatches(out, src)).toBeGreaterThan(0);
    }));

  it('clears the target to transparent when there is no overlay', () =>
    withDevice(async (device) => {
      const out = await present(device, null, 'bgra8unorm');
      expect(out.every((v) => v === 0)).toBe(true);
    }));
});
