/**
 * Frame sources: image files (open, drop, paste, samples) and the webcam.
 * Images are decoded with createImageBitmap, EXIF orientation honoured; images larger
 * than MAX_FRAME_SIDE are downscaled (the user is told).
 */

/** Longest side of a working frame. Above this, a frame is downscaled: masks at full size of a
 * 10000² image would need 12 MB per instance, and the preprocess is a resize anyway. */
export const MAX_FRAME_SIDE = 4096;

export class SourceError extends Error {}

export interface DecodedImage {
  bitmap: ImageBitmap;
  width: number;
  height: number;
  /** Original size when the image was downscaled, else null. */
  downscaledFrom: { width: number; height: number } | null;
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

export async function decodeImage(blob: Blob, name: string): Promise<DecodedImage> {
  if (blob.type && !blob.type.startsWith('image/')) {
    throw new SourceError(`This file is not an image: “${name}” (${blob.type}). Drop or open a JPEG, PNG, WebP, GIF or BMP.`);
  }
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
      return { bitmap: small, width: small.width, height: small.height, downscaledFrom: sniffed };
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
  if (longest <= MAX_FRAME_SIDE) return { bitmap, width, height, downscaledFrom: null };
  const scale = MAX_FRAME_SIDE / longest;
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const small = await createImageBitmap(bitmap, { resizeWidth: w, resizeHeight: h, resizeQuality: 'high' });
  bitmap.close();
  return { bitmap: small, width: w, height: h, downscaledFrom: { width, height } };
}

export interface CameraDevice {
  deviceId: string;
  label: string;
}

export async function listCameras(): Promise<CameraDevice[]> {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices
    .filter((d) => d.kind === 'videoinput')
    .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Camera ${i + 1}` }));
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

  constructor(private readonly onFrame: (video: HTMLVideoElement) => void, private readonly onEnded: () => void) {
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
