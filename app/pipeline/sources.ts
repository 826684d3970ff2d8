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

export async function decodeImage(blob: Blob, name: string): Promise<DecodedImage> {
  if (blob.type && !blob.type.startsWith('image/')) {
    throw new SourceError(`This file is not an image: “${name}” (${blob.type}). Drop or open a JPEG, PNG, WebP, GIF or BMP.`);
  }
  let bitmap: ImageBitmap;
  try {
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
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: deviceId ? { deviceId: { exact: deviceId }, width: { ideal: 640 }, height: { ideal: 480 } } : { width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
    for (const track of this.stream.getVideoTracks()) {
      track.addEventListener('ended', () => {
        if (!this.stopped) this.onEnded();
      });
    }
    this.video.srcObject = this.stream;
    await this.video.play();
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
