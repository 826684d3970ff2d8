/**
 * Frame sources: image files (open, drop, paste, samples) and the webcam.
 * Images are decoded with createImageBitmap, EXIF orientation honoured; images larger
 * than MAX_FRAME_SIDE are downscaled (the user is told). SVG, which createImageBitmap does
 * not take from a Blob, is drawn through an <img>; an animated GIF gives its first frame.
 */

/** Longest side of a working frame. Above this, a frame is downscaled: masks at full size of a
 * 10000² image would need 12 MB per instance, and the preprocess is a resize anyway. */
export const MAX_FRAME_SIDE = 4096;

/** Long side an SVG is drawn at when it gives no size of its own (only a viewBox, or nothing). */
export const SVG_DEFAULT_SIDE = 1024;

export class SourceError extends Error {}

export interface DecodedImage {
  bitmap: ImageBitmap;
  width: number;
  height: number;
  /** Original size when the image was downscaled, else null. */
  downscaledFrom: { width: number; height: number } | null;
  /** What the user should be told about how the file was taken (info notices). */
  notes: string[];
}

/**
 * Width and height from a PNG (IHDR) or JPEG (SOFn) header, without decoding; null for
 * other formats. Lets a huge image be decoded straight at a reduced size.
 */
export async function sniffImageSize(blob: Blob): Promise<{ width: number; height: number } | null> {
  const head = new Uint8Array(await blob.slice(0, 256 * 1024).arrayBuffer());
  const view = new DataView(head.buffer);
  if (head.length >= 24 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) {
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (head.length >= 4 && head[0] === 0xff && head[1] === 0xd8) {
    let p = 2;
    while (p + 9 < head.length && head[p] === 0xff) {
      const marker = head[p + 1]!;
      const length = view.getUint16(p + 2);
      // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: view.getUint16(p + 5), width: view.getUint16(p + 7) };
      }
      p += 2 + length;
    }
  }
  return null;
}

/**
 * The number of frames (image descriptors) in a GIF, or null when the bytes are not a GIF.
 * Walks the block structure (extensions and image data are chains of sub-blocks) without
 * decoding; a file cut short gives the frames seen until then.
 */
export function gifFrameCount(bytes: Uint8Array): number | null {
  const ascii = String.fromCharCode(...bytes.subarray(0, 6));
  if ((ascii !== 'GIF87a' && ascii !== 'GIF89a') || bytes.length < 13) return null;
  /** Bytes of a colour table announced by a packed field (flag in bit 7, size in bits 0-2). */
  const table = (packed: number) => (packed & 0x80 ? 3 * (1 << ((packed & 0x07) + 1)) : 0);
  let p = 13 + table(bytes[10]!);
  const skipSubBlocks = () => {
    while (p < bytes.length && bytes[p] !== 0) p += bytes[p]! + 1;
    p += 1; // the 0 terminator
  };
  let frames = 0;
  while (p < bytes.length) {
    const introducer = bytes[p]!;
    if (introducer === 0x2c) {
      frames++;
      if (p + 10 > bytes.length) break;
      p += 10 + table(bytes[p + 9]!) + 1; // descriptor, local colour table, LZW code size
      skipSubBlocks();
    } else if (introducer === 0x21) {
      p += 2; // introducer and label
      skipSubBlocks();
    } else {
      break; // the trailer (0x3B), or damage: what was counted stands
    }
  }
  return frames;
}

/**
 * True when the bytes look like an SVG document: optional BOM, XML declaration, comments
 * and doctype, then an <svg> element. Lets an SVG named or typed wrongly still be drawn.
 */
export function looksLikeSvg(head: string): boolean {
  return /^\uFEFF?\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>/]/i.test(head);
}

/** A length attribute in user units (plain number or px), else null (%, em, mm…: no pixel size of its own). */
function svgLength(value: string | null): number | null {
  const m = value?.trim().match(/^(\d*\.?\d+(?:e[+-]?\d+)?)(px)?$/i);
  const n = m ? Number(m[1]) : NaN;
  return Number.isFinite(n) && n > 0 ? n : null;
}

/**
 * The pixel size an SVG is drawn at, from its root's width, height and viewBox: its own size
 * when it has one; else the viewBox's aspect with SVG_DEFAULT_SIDE on the long side (a square
 * when there is no viewBox either); scaled down to MAX_FRAME_SIDE on the long side. `viewBox`
 * is what the root should get so that the drawing scales to that size rather than being cut.
 */
export function svgRasterSize(attrs: { width: string | null; height: string | null; viewBox: string | null }): {
  width: number;
  height: number;
  viewBox: string | null;
  /** The size it gives, when it gives one. */
  own: { width: number; height: number } | null;
  bounded: boolean;
} {
  const box = attrs.viewBox
    ?.trim()
    .split(/[\s,]+/)
    .map(Number);
  const viewBox = box && box.length === 4 && box.every(Number.isFinite) && box[2]! > 0 && box[3]! > 0 ? box : null;
  const aspect = viewBox ? viewBox[2]! / viewBox[3]! : null;
  let w = svgLength(attrs.width);
  let h = svgLength(attrs.height);
  if (w === null && h !== null && aspect) w = h * aspect;
  if (h === null && w !== null && aspect) h = w / aspect;
  const own = w !== null && h !== null ? { width: w, height: h } : null;
  if (w === null || h === null) {
    const a = aspect ?? 1;
    w = a >= 1 ? SVG_DEFAULT_SIDE : SVG_DEFAULT_SIDE * a;
    h = a >= 1 ? SVG_DEFAULT_SIDE / a : SVG_DEFAULT_SIDE;
  }
  const scale = Math.min(1, MAX_FRAME_SIDE / Math.max(w, h));
  return {
    width: Math.max(1, Math.round(w * scale)),
    height: Math.max(1, Math.round(h * scale)),
    viewBox: viewBox ? attrs.viewBox!.trim() : own ? `0 0 ${own.width} ${own.height}` : null,
    own,
    bounded: scale < 1,
  };
}

/**
 * Draws an SVG file into a bitmap through an <img> (no scripts run, nothing external is
 * fetched in that mode), on white: SVGs are mostly transparent and meant to be seen on a page.
 */
async function rasteriseSvg(blob: Blob, name: string): Promise<DecodedImage> {
  const doc = new DOMParser().parseFromString(await blob.text(), 'image/svg+xml');
  const root = doc.documentElement;
  if (doc.getElementsByTagName('parsererror').length > 0 || root.localName !== 'svg') {
    throw new SourceError(`“${name}” is not a valid SVG image: its XML could not be read.`);
  }
  const size = svgRasterSize({ width: root.getAttribute('width'), height: root.getAttribute('height'), viewBox: root.getAttribute('viewBox') });
  if (size.viewBox) root.setAttribute('viewBox', size.viewBox);
  root.setAttribute('width', String(size.width));
  root.setAttribute('height', String(size.height));
  const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(doc)], { type: 'image/svg+xml' }));
  try {
    const img = new Image(size.width, size.height);
    img.src = url;
    await img.decode().catch(() => {
      throw new SourceError(`“${name}” is an SVG image that the browser could not draw.`);
    });
    const canvas = new OffscreenCanvas(size.width, size.height);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, size.width, size.height);
    ctx.drawImage(img, 0, 0, size.width, size.height);
    const drawn = `${size.width}×${size.height}`;
    const note = !size.own
      ? `“${name}” is an SVG (vector) image without a size: it was drawn at ${drawn} for display and inference.`
      : size.bounded
        ? `“${name}” is an SVG (vector) image of ${Math.round(size.own.width)}×${Math.round(size.own.height)}: it was drawn at ${drawn} (at most ${MAX_FRAME_SIDE} a side) for display and inference.`
        : `“${name}” is an SVG (vector) image: it was drawn at ${drawn} for display and inference.`;
    return { bitmap: canvas.transferToImageBitmap(), width: size.width, height: size.height, downscaledFrom: null, notes: [note] };
  } finally {
    URL.revokeObjectURL(url);
  }
}

export async function decodeImage(blob: Blob, name: string): Promise<DecodedImage> {
  if (blob.size === 0) {
    throw new SourceError(`“${name}” is empty (0 bytes): there is no image in it.`);
  }
  if (blob.type && !blob.type.startsWith('image/')) {
    throw new SourceError(`This file is not an image: “${name}” (${blob.type}). Drop or open a JPEG, PNG, WebP, GIF, BMP or SVG.`);
  }
  const head = new Uint8Array(await blob.slice(0, 4096).arrayBuffer());
  if (blob.type === 'image/svg+xml' || looksLikeSvg(new TextDecoder().decode(head))) return rasteriseSvg(blob, name);
  const notes: string[] = [];
  // createImageBitmap takes a GIF's first frame without a word: say so when there are more.
  const isGif = gifFrameCount(head) !== null;
  const frames = isGif ? gifFrameCount(new Uint8Array(await blob.arrayBuffer()))! : 1;
  if (frames > 1) notes.push(`“${name}” is an animated GIF (${frames} frames): only its first frame is segmented.`);
  let bitmap: ImageBitmap;
  try {
    // A huge image is decoded straight at the reduced size when its header gives the size
    // (a full 10000² decode would need 400 MB).
    const sniffed = await sniffImageSize(blob).catch(() => null);
    if (sniffed && Math.max(sniffed.width, sniffed.height) > MAX_FRAME_SIDE) {
      const scale = MAX_FRAME_SIDE / Math.max(sniffed.width, sniffed.height);
      const small = await createImageBitmap(blob, {
        imageOrientation: 'from-image',
        resizeWidth: Math.max(1, Math.round(sniffed.width * scale)),
        resizeHeight: Math.max(1, Math.round(sniffed.height * scale)),
        resizeQuality: 'high',
      });
      return { bitmap: small, width: small.width, height: small.height, downscaledFrom: sniffed, notes };
    }
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch {
    throw new SourceError(`This file is not an image, or it is corrupt: “${name}” could not be decoded.`);
  }
  const { width, height } = bitmap;
  if (width === 0 || height === 0) {
    bitmap.close();
    throw new SourceError(`This file is not an image, or it is corrupt: “${name}” is empty.`);
  }
  const longest = Math.max(width, height);
  if (longest <= MAX_FRAME_SIDE) return { bitmap, width, height, downscaledFrom: null, notes };
  const scale = MAX_FRAME_SIDE / longest;
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const small = await createImageBitmap(bitmap, { resizeWidth: w, resizeHeight: h, resizeQuality: 'high' });
  bitmap.close();
  return { bitmap: small, width: w, height: h, downscaledFrom: { width, height }, notes };
}

export interface CameraDevice {
  deviceId: string;
  label: string;
}

export async function listCameras(): Promise<CameraDevice[]> {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices.filter((d) => d.kind === 'videoinput').map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Camera ${i + 1}` }));
}

export function cameraErrorMessage(err: unknown): string {
  const name = err instanceof DOMException ? err.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return 'Camera access was denied. Allow the camera for this page in the browser settings, or open an image instead.';
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    return 'No camera was found. Plug one in and try again, or open an image instead.';
  }
  if (name === 'NotReadableError' || name === 'AbortError') {
    return 'The camera is busy or could not be started (another application may be using it).';
  }
  return `The camera could not be started: ${err instanceof Error ? err.message : String(err)}`;
}

/** A webcam start that was overtaken by stop() (Stop pressed, another camera picked): not an error to show. */
export class WebcamCancelled extends Error {
  override name = 'WebcamCancelled';
  constructor() {
    super('the webcam was stopped while it was starting');
  }
}

/**
 * A running webcam: a hidden <video> fed by getUserMedia; `onFrame` is called from
 * requestVideoFrameCallback for every presented frame.
 */
export class Webcam {
  readonly video: HTMLVideoElement;
  private stream: MediaStream | null = null;
  private handle = 0;
  private stopped = false;

  constructor(
    private readonly onFrame: (video: HTMLVideoElement) => void,
    private readonly onEnded: () => void,
  ) {
    this.video = document.createElement('video');
    this.video.muted = true;
    this.video.playsInline = true;
  }

  async start(deviceId: string | null): Promise<void> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new DOMException('getUserMedia is not available', 'NotFoundError');
    }
    const stream = await navigator.mediaDevices.getUserMedia({
      video: deviceId ? { deviceId: { exact: deviceId }, width: { ideal: 640 }, height: { ideal: 480 } } : { width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
    // Stop may have been pressed while the permission prompt or the device was pending:
    // the stream granted now must not stay live with nothing to turn it off.
    if (this.stopped) {
      for (const track of stream.getTracks()) track.stop();
      throw new WebcamCancelled();
    }
    this.stream = stream;
    for (const track of this.stream.getVideoTracks()) {
      track.addEventListener('ended', () => {
        if (!this.stopped) this.onEnded();
      });
    }
    this.video.srcObject = this.stream;
    await this.video.play();
    if (this.stopped) throw new WebcamCancelled(); // stop() has released the stream already
    const tick = () => {
      if (this.stopped) return;
      if (this.video.videoWidth > 0) this.onFrame(this.video);
      this.handle = this.video.requestVideoFrameCallback(tick);
    };
    this.handle = this.video.requestVideoFrameCallback(tick);
  }

  /** The device actually opened (for the picker). */
  deviceId(): string | null {
    return this.stream?.getVideoTracks()[0]?.getSettings().deviceId ?? null;
  }

  stop(): void {
    this.stopped = true;
    this.video.cancelVideoFrameCallback(this.handle);
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.video.srcObject = null;
    this.stream = null;
  }
}
