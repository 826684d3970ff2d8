import { describe, expect, it } from 'vitest';
import { cameraErrorMessage, sniffImageSize } from './sources';
import { maskSize, MAX_MASK_SIDE } from './runner';

/** A minimal PNG head: signature + IHDR (length, type, width, height, …). */
function pngHead(width: number, height: number): Uint8Array {
  const b = new Uint8Array(33);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
  const v = new DataView(b.buffer);
  v.setUint32(8, 13);
  b.set([0x49, 0x48, 0x44, 0x52], 12); // 'IHDR'
  v.setUint32(16, width);
  v.setUint32(20, height);
  return b;
}

/** SOI, an APP0 segment of 16 bytes, then SOF0 with height and width. */
function jpegHead(width: number, height: number, sofMarker = 0xc0): Uint8Array {
  const b = new Uint8Array(2 + 18 + 19);
  const v = new DataView(b.buffer);
  b.set([0xff, 0xd8], 0);
  b.set([0xff, 0xe0], 2);
  v.setUint16(4, 16); // APP0 length (includes the 2 length bytes)
  const sof = 2 + 2 + 16;
  b.set([0xff, sofMarker], sof);
  v.setUint16(sof + 2, 17);
  b[sof + 4] = 8; // precision
  v.setUint16(sof + 5, height);
  v.setUint16(sof + 7, width);
  return b;
}

describe('sniffImageSize', () => {
  it('reads a PNG IHDR', async () => {
    expect(await sniffImageSize(new Blob([pngHead(9000, 6000) as BlobPart]))).toEqual({ width: 9000, height: 6000 });
  });
  it('reads a baseline and a progressive JPEG SOF after an APP0 segment', async () => {
    expect(await sniffImageSize(new Blob([jpegHead(640, 480) as BlobPart]))).toEqual({ width: 640, height: 480 });
    expect(await sniffImageSize(new Blob([jpegHead(12000, 300, 0xc2) as BlobPart]))).toEqual({ width: 12000, height: 300 });
  });
  it('skips DHT (C4), which is not a frame header', async () => {
    const head = jpegHead(64, 32);
    head[21] = 0xc4; // the SOF becomes a DHT: no size to find
    expect(await sniffImageSize(new Blob([head as BlobPart]))).toBeNull();
  });
  it('gives null for text and for truncated headers', async () => {
    expect(await sniffImageSize(new Blob(['not an image']))).toBeNull();
    expect(await sniffImageSize(new Blob([pngHead(10, 10).slice(0, 20) as BlobPart]))).toBeNull();
  });
});

describe('maskSize', () => {
  it('keeps frames up to the cap and scales the longer side down to it', () => {
    expect(maskSize(640, 480)).toEqual({ width: 640, height: 480 });
    expect(maskSize(MAX_MASK_SIDE, 10)).toEqual({ width: MAX_MASK_SIDE, height: 10 });
    // 4096x2731 → scale 1280/4096 = 0.3125 → 1280 x round(853.44) = 853
    expect(maskSize(4096, 2731)).toEqual({ width: 1280, height: 853 });
    expect(maskSize(10, 5000)).toEqual({ width: 3, height: 1280 });
  });
});

describe('cameraErrorMessage', () => {
  it('names denial, absence and a busy camera', () => {
    expect(cameraErrorMessage(new DOMException('x', 'NotAllowedError'))).toMatch(/^Camera access was denied/);
    expect(cameraErrorMessage(new DOMException('x', 'NotFoundError'))).toMatch(/^No camera was found/);
    expect(cameraErrorMessage(new DOMException('x', 'NotReadableError'))).toMatch(/busy/);
    expect(cameraErrorMessage(new Error('boom'))).toMatch(/boom/);
  });
});
