/**
 * A frame: one image or webcam frame, shared by every pane. Its two forms are made
 * lazily and at most once a frame, whatever the number of panes:
 * - `pixels()`: RGBA bytes on the CPU (the wasm paths' preprocess input);
 * - `texture(device)`: an rgba8unorm GPU texture (one copyExternalImageToTexture), the
 *   GPU preprocess kernel's input. Two textures are kept and reused from frame to frame
 *   while the size stays the same: with frames in flight, one pane may preprocess frame n+1
 *   while another still starts on frame n, so a texture holds one frame's pixels and is
 *   uploaded again only for a frame neither holds (the queue orders an upload after the
 *   preprocess passes submitted before it).
 */
export interface FramePixels {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** The frame textures of the current device and size, with the frame each holds. */
interface HeldTexture {
  texture: GPUTexture;
  frame: Frame | null;
  /** Upload order: the least recent is overwritten. */
  at: number;
}
let textures: HeldTexture[] = [];
let texturesDevice: GPUDevice | null = null;
let uploads = 0;
const FRAME_TEXTURES = 2;
let uploadMs = 0;

export class Frame {
  private pixelsCache: FramePixels | null = null;

  constructor(
    readonly id: number,
    readonly bitmap: ImageBitmap,
    readonly width: number,
    readonly height: number,
  ) {}

  pixels(): FramePixels {
    if (!this.pixelsCache) {
      const canvas = new OffscreenCanvas(this.width, this.height);
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(this.bitmap, 0, 0, this.width, this.height);
      const image = ctx.getImageData(0, 0, this.width, this.height);
      this.pixelsCache = { data: image.data, width: this.width, height: this.height };
    }
    return this.pixelsCache;
  }

  /** The frame as a GPU texture `[height, width]` rgba8unorm, uploaded once (again only if both textures were taken by later frames). */
  texture(device: GPUDevice): GPUTexture {
    const sizeOk = (t: HeldTexture) => t.texture.width === this.width && t.texture.height === this.height;
    if (texturesDevice !== device || !textures.every(sizeOk)) {
      if (texturesDevice === device) for (const t of textures) t.texture.destroy();
      textures = [];
      texturesDevice = device;
    }
    const held = textures.find((t) => t.frame === this);
    if (held) return held.texture;
    let slot: HeldTexture | undefined;
    if (textures.length < FRAME_TEXTURES) {
      slot = {
        texture: device.createTexture({
          label: `frame.source.${textures.length}`,
          size: [this.width, this.height],
          format: 'rgba8unorm',
          usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
        }),
        frame: null,
        at: 0,
      };
      textures.push(slot);
    } else {
      slot = textures.reduce((a, b) => (a.at <= b.at ? a : b));
    }
    const t0 = performance.now();
    device.queue.copyExternalImageToTexture({ source: this.bitmap }, { texture: slot.texture }, [this.width, this.height]);
    uploadMs = performance.now() - t0;
    slot.frame = this;
    slot.at = ++uploads;
    return slot.texture;
  }

  /**
   * A copy of the frame's bitmap, for the caller to transfer to a worker (./cpu/client.ts
   * `withFrame`): posting the frame's own bitmap would clone it, which costs the posting
   * thread twice as much.
   */
  forTransfer(): Promise<ImageBitmap> {
    return createImageBitmap(this.bitmap);
  }

  /** CPU time of the last texture upload (queue submission side). */
  static lastUploadMs(): number {
    return uploadMs;
  }

  /** Forget the GPU texture (device lost). */
  static dropGpu(): void {
    textures = [];
    texturesDevice = null;
  }
}
