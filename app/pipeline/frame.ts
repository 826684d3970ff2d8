/**
 * A frame: one image or webcam frame, shared by every pane. Its two forms are made
 * lazily and at most once a frame, whatever the number of panes:
 * - `pixels()`: RGBA bytes on the CPU (the wasm paths' preprocess input);
 * - `texture(device)`: an rgba8unorm GPU texture (one copyExternalImageToTexture), the
 *   GPU preprocess kernel's input. The texture is reused from frame to frame while the
 *   size stays the same.
 */
export interface FramePixels {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

let sharedTexture: GPUTexture | null = null;
let sharedTextureDevice: GPUDevice | null = null;
let uploadMs = 0;

export class Frame {
  private pixelsCache: FramePixels | null = null;
  private uploadedTo: GPUDevice | null = null;

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

  /** The frame as a GPU texture `[height, width]` rgba8unorm, uploaded once. */
  texture(device: GPUDevice): GPUTexture {
    if (!sharedTexture || sharedTexture.width !== this.width || sharedTexture.height !== this.height || sharedTextureDevice !== device) {
      if (sharedTextureDevice === device) sharedTexture?.destroy();
      sharedTextureDevice = device;
      sharedTexture = device.createTexture({
        label: 'frame.source',
        size: [this.width, this.height],
        format: 'rgba8unorm',
        usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
      });
      this.uploadedTo = null;
    }
    if (this.uploadedTo !== device) {
      const t0 = performance.now();
      device.queue.copyExternalImageToTexture({ source: this.bitmap }, { texture: sharedTexture }, [this.width, this.height]);
      uploadMs = performance.now() - t0;
      this.uploadedTo = device;
    }
    return sharedTexture;
  }

  /** CPU time of the last texture upload (queue submission side). */
  static lastUploadMs(): number {
    return uploadMs;
  }

  /** Forget the GPU texture (device lost). */
  static dropGpu(): void {
    sharedTexture = null;
    sharedTextureDevice = null;
  }
}
