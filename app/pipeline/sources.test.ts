import { describe, expect, it } from 'vitest';
import {
  cameraErrorMessage,
  decodeImage,
  gifFrameCount,
  looksLikeSvg,
  MAX_FRAME_SIDE,
  sniffImageSize,
  SourceError,
  SVG_DEFAULT_SIDE,
  svgRasterSize,
} from './sources';
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

/**
 * A GIF's block structure (what gifFrameCount walks; the image data is filler, not LZW):
 * header, logical screen with a 4-colour global table, optional NETSCAPE loop block, then
 * per frame a graphic control block and an image descriptor (the second with a local table).
 */
function gif(frames: number, options: { loop?: boolean; trailer?: boolean } = {}): Uint8Array {
  const out: number[] = [...new TextEncoder().encode('GIF89a'), 8, 0, 8, 0, 0x81, 0, 0, ...new Array<number>(12).fill(7)];
  if (options.loop) out.push(0x21, 0xff, 0x0b, ...new TextEncoder().encode('NETSCAPE2.0'), 3, 1, 0, 0, 0);
  for (let f = 0; f < frames; f++) {
    out.push(0x21, 0xf9, 4, 0, 10, 0, 0, 0);
    const local = f === 1 ? 0x80 : 0; // frame 2 brings a 2-colour local table: 6 bytes to skip
    out.push(0x2c, 0, 0, 0, 0, 8, 0, 8, 0, local, ...(local ? [1, 2, 3, 4, 5, 6] : []));
    // LZW code size, then sub-blocks whose bytes include 0x2c and 0x21 (not to be taken as blocks).
    out.push(2, 3, 0x2c, 0x21, 0x3b, 2, 0x2c, 0x2c, 0);
  }
  if (options.trailer !== false) out.push(0x3b);
  return Uint8Array.from(out);
}

describe('gifFrameCount', () => {
  it('counts the image descriptors of an animated and a still GIF', () => {
    expect(gifFrameCount(gif(2, { loop: true }))).toBe(2);
    expect(gifFrameCount(gif(5))).toBe(5);
    expect(gifFrameCount(gif(1))).toBe(1);
  });
  it('counts the frames seen when the file is cut short', () => {
    const whole = gif(3, { trailer: false });
    expect(gifFrameCount(whole.slice(0, whole.length - 5))).toBe(3);
    expect(gifFrameCount(gif(0))).toBe(0);
  });
  it('gives null for other formats', () => {
    expect(gifFrameCount(pngHead(10, 10))).toBeNull();
    expect(gifFrameCount(new TextEncoder().encode('GIF89'))).toBeNull();
  });
});

describe('looksLikeSvg', () => {
  it('takes an <svg> root after an XML declaration, comments and a doctype', () => {
    expect(looksLikeSvg('<svg xmlns="http://www.w3.org/2000/svg"/>')).toBe(true);
    expect(looksLikeSvg('\uFEFF<?xml version="1.0"?>\n<!-- drawn by hand -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd">\n<svg>')).toBe(true);
  });
  it('refuses other text and other roots', () => {
    expect(looksLikeSvg('This is not an SVG <svg>')).toBe(false);
    expect(looksLikeSvg('<html><svg></svg></html>')).toBe(false);
    expect(looksLikeSvg('<svgfoo>')).toBe(false);
  });
});

describe('svgRasterSize', () => {
  const size = (width: string | null, height: string | null, viewBox: string | null) => svgRasterSize({ width, height, viewBox });
  it('keeps the size an SVG gives, adding a viewBox so the drawing scales', () => {
    expect(size('300', '200px', null)).toEqual({ width: 300, height: 200, viewBox: '0 0 300 200', own: { width: 300, height: 200 }, bounded: false });
    expect(size('300', '200', '0 0 30 20')).toMatchObject({ width: 300, height: 200, viewBox: '0 0 30 20' });
  });
  it('takes a missing side from the viewBox aspect', () => {
    expect(size('400', null, '0 0 400 100')).toMatchObject({ width: 400, height: 100, own: { width: 400, height: 100 } });
  });
  it('draws an SVG without a size at SVG_DEFAULT_SIDE on the long side', () => {
    expect(size(null, null, '0 0 400 300')).toEqual({ width: SVG_DEFAULT_SIDE, height: 768, viewBox: '0 0 400 300', own: null, bounded: false });
    expect(size(null, null, '0,0,100,400')).toMatchObject({ width: 256, height: SVG_DEFAULT_SIDE });
    // Relative units give no pixel size; nothing at all gives a square.
    expect(size('100%', '50%', null)).toEqual({ width: SVG_DEFAULT_SIDE, height: SVG_DEFAULT_SIDE, viewBox: null, own: null, bounded: false });
    expect(size('0', '-5', 'junk')).toMatchObject({ width: SVG_DEFAULT_SIDE, height: SVG_DEFAULT_SIDE, own: null });
  });
  it('bounds the long side by MAX_FRAME_SIDE', () => {
    expect(size('100000', '1000', null)).toEqual({
      width: MAX_FRAME_SIDE,
      height: 41,
      viewBox: '0 0 100000 1000',
      own: { width: 100000, height: 1000 },
      bounded: true,
    });
    expect(size('1e9', '1e9', null)).toMatchObject({ width: MAX_FRAME_SIDE, height: MAX_FRAME_SIDE, bounded: true });
  });
});

describe('decodeImage', () => {
  it('says an empty file is empty', async () => {
    const refused = decodeImage(new Blob([], { type: 'image/jpeg' }), 'empty.jpg');
    await expect(refused).rejects.toBeInstanceOf(SourceError);
    await expect(refused).rejects.toThrow('“empty.jpg” is empty (0 bytes)');
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
