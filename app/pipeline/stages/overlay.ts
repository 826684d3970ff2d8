/**
 * How a frame's instances reach the screen on the GPU paths: `GpuOverlay` (the GPU side per
 * mask size, hidden classes, the pane's WebGPU canvas or a read-back, recompose, snapshot,
 * masks for export); the pane's RunOutput. The 'wasm' path's overlay is composed in the CPU
 * worker (../cpu/cpuOverlay.ts).
 */
import type { Detection, ExecutionPath, InstanceMasks, ModelManifest, StageTimings } from '../../types';
import { classColourTable } from '../palette';
import { rgbaToBitmap } from '../cpu/cpuOverlay';
import { presentOverlay } from '../overlayCanvas';
import type { OverlayUpdate, OverlayView, RunOutput } from '../runner';
import type { FamilyGpu, FamilyGpuOptions } from './program';

/** A pane's RunOutput: the frame's result (image and mask sizes, detections, read-back, timings) and its overlay. */
export function paneOutput(
  frame: { width: number; height: number },
  mask: { width: number; height: number },
  path: ExecutionPath,
  detections: Detection[],
  bytesReadBack: number,
  timings: StageTimings,
  shown: OverlayUpdate,
): RunOutput {
  return {
    result: {
      imageWidth: frame.width,
      imageHeight: frame.height,
      detections,
      maskWidth: mask.width,
      maskHeight: mask.height,
      bytesReadBack,
      path,
      timings,
    },
    overlay: shown.overlay,
    onCanvas: shown.onCanvas,
  };
}

/**
 * One GPU post-processing chain in flight at a time, across panes: with several panes
 * mapping their staging buffers at once, Chromium on SwiftShader was seen to abort a
 * mapAsync ('destroyed before mapping was resolved') although nothing was destroyed.
 */
let gpuQueue: Promise<unknown> = Promise.resolve();
export function gpuSerialized<T>(fn: () => Promise<T>): Promise<T> {
  const next = gpuQueue.then(fn, fn);
  gpuQueue = next.catch(() => undefined);
  return next;
}

/** What a runner's overlay helper (CpuOverlay, GpuOverlay) answers for the PaneRunner. */
export interface PaneOverlay {
  recompose(view: OverlayView): Promise<OverlayUpdate>;
  snapshot(): Promise<ImageBitmap | null>;
  readMasks(): Promise<InstanceMasks | null>;
}

/** The PaneRunner methods every runner hands to its overlay helper. */
export abstract class OverlayRunner {
  protected abstract readonly overlay: PaneOverlay;

  recompose(view: OverlayView): Promise<OverlayUpdate> {
    return this.overlay.recompose(view);
  }

  /** The overlay on demand (PNG export only). */
  overlaySnapshot(): Promise<ImageBitmap | null> {
    return this.overlay.snapshot();
  }

  readMasks(): Promise<InstanceMasks | null> {
    return this.overlay.readMasks();
  }
}

/**
 * A program's GPU side (made once per mask size) and its overlay: hidden classes
 * written before a frame's compose, the overlay shown on the pane's WebGPU canvas or read
 * back, recompose on hover / toggles, the PNG snapshot and the masks for export.
 */
export class GpuOverlay<P extends FamilyGpu> implements PaneOverlay {
  private post: P | null = null;
  private postKey = '';
  /** Hidden classes last written into the post-processor. */
  private hiddenInPost = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly manifest: ModelManifest,
    private readonly paneKey: number,
    private readonly overlayMode: 'canvas' | 'readback',
    private readonly make: (device: GPUDevice, mask: { width: number; height: number }, options: FamilyGpuOptions) => P,
  ) {}

  /** The GPU side for a mask size: made once, then resized (only its size-dependent buffers) when the size changes. */
  postprocessorFor(width: number, height: number): P {
    const key = `${width}x${height}`;
    if (this.post && this.postKey !== key && this.post.resizeMask) {
      this.post.resizeMask({ width, height });
      this.postKey = key;
    }
    if (!this.post || this.postKey !== key) {
      this.post?.destroy();
      this.post = this.make(
        this.device,
        { width, height },
        {
          classColours: classColourTable(this.manifest.classes.length),
          style: { premultiplied: true },
        },
      );
      this.hiddenInPost = 0;
      this.postKey = key;
    }
    return this.post;
  }

  /** Hidden classes first (a queue write, so it precedes this frame's compose); a new result starts without a highlight. */
  beginFrame(post: P, view: OverlayView): void {
    if (view.hiddenClasses.length > 0 || this.hiddenInPost > 0) {
      post.recompose(null, view.hiddenClasses);
      this.hiddenInPost = view.hiddenClasses.length;
    }
  }

  /**
   * The composed overlay to the screen. 'canvas' mode: a render pass draws the overlay
   * texture into the pane's WebGPU canvas (cleared when there is nothing to show): no
   * read-back. 'readback' mode, or a pane without a canvas: copy the texture to a buffer,
   * map it, ImageData → ImageBitmap (W·H·4 bytes, only when there are instances).
   */
  async show(post: P, any: boolean): Promise<OverlayUpdate & { bytes: number }> {
    const texture = post.overlayTexture;
    if (this.overlayMode === 'canvas' && presentOverlay(this.device, this.paneKey, any ? texture : null, this.manifest.id)) {
      return { overlay: null, onCanvas: any, bytes: 0 };
    }
    if (!any) return { overlay: null, onCanvas: false, bytes: 0 };
    const rgba = await post.readOverlay();
    return { overlay: await rgbaToBitmap(rgba, texture.width, texture.height), onCanvas: false, bytes: texture.width * texture.height * 4 };
  }

  async recompose(view: OverlayView): Promise<OverlayUpdate> {
    if (!this.post) return { overlay: null, onCanvas: false };
    const post = this.post;
    return gpuSerialized(async () => {
      post.recompose(view.highlight, view.hiddenClasses);
      this.hiddenInPost = view.hiddenClasses.length;
      const { overlay, onCanvas } = await this.show(post, true);
      return { overlay, onCanvas };
    });
  }

  /** The overlay read back on demand (PNG export only). */
  async snapshot(): Promise<ImageBitmap | null> {
    if (!this.post) return null;
    const post = this.post;
    return gpuSerialized(async () => rgbaToBitmap(await post.readOverlay(), post.overlayTexture.width, post.overlayTexture.height));
  }

  async readMasks(): Promise<InstanceMasks | null> {
    return this.post ? this.post.readMasks() : null;
  }

  dispose(): void {
    this.post?.destroy();
    this.post = null;
  }
}
