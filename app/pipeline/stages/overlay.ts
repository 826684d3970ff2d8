/**
 * How a frame's instances reach the screen on the GPU paths: `GpuOverlay` (the GPU side per
 * mask size, hidden classes, the pane's WebGPU canvas or a read-back, recompose, snapshot,
 * masks for export); the pane's RunOutput. The 'wasm' path's overlay is composed in the CPU
 * worker (../cpu/cpuOverlay.ts).
 */
import type { AuxiliaryMap, Detection, ExecutionPath, InstanceMasks, ModelManifest, StageTimings } from '../../types';
import { classColourTable } from '../palette';
import { rgbaToBitmap } from '../cpu/cpuOverlay';
import { presentOverlay } from '../overlayCanvas';
import { mapSerialized } from '../../gpu/mapQueue';
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
  auxiliaryMap?: AuxiliaryMap,
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
      ...(auxiliaryMap ? { auxiliaryMap } : {}),
    },
    overlay: shown.overlay,
    onCanvas: shown.onCanvas,
  };
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
 * One of a runner's two GPU sides (`GpuOverlay` slots): a frame is encoded into a free
 * slot while the other slot's frame is read back. A slot holds its own records, staging
 * buffers, bit masks and overlay texture, so nothing a frame in flight reads back is
 * written by the next one.
 */
export interface OverlaySlot<P extends FamilyGpu> {
  readonly index: number;
  post: P | null;
  key: string;
  /** Hidden classes last written into `post`. */
  hidden: number;
  /** A frame is being encoded into it or read back from it. */
  busy: boolean;
}

/** Slots per runner: frame n read back while frame n+1 is encoded. */
export const SLOTS = 2;

/**
 * A program's GPU sides (one per slot, made once per mask size, then resized) and their
 * overlay: hidden classes written before a frame's compose, the overlay shown on the pane's
 * WebGPU canvas or read back, recompose on hover / toggles, the PNG snapshot and the masks
 * for export — of the last frame that completed (`current`), or of a given slot.
 */
export class GpuOverlay<P extends FamilyGpu> implements PaneOverlay {
  private readonly slots: OverlaySlot<P>[] = Array.from({ length: SLOTS }, (_, index) => ({ index, post: null, key: '', hidden: 0, busy: false }));
  /** The slot of the last frame that completed: what recompose, snapshot and readMasks refer to. */
  private current: OverlaySlot<P> | null = null;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly manifest: ModelManifest,
    private readonly paneKey: number,
    private readonly overlayMode: 'canvas' | 'readback',
    private readonly make: (device: GPUDevice, mask: { width: number; height: number }, options: FamilyGpuOptions) => P,
  ) {}

  /**
   * A free slot for a frame (waits while both are busy), its GPU side ready for the mask
   * size. The current slot is taken when free: a second GPU side is made only once two
   * frames are really in flight.
   */
  async acquire(width: number, height: number): Promise<OverlaySlot<P>> {
    for (;;) {
      const free = this.slots.filter((s) => !s.busy);
      const slot = free.find((s) => s === this.current) ?? free.find((s) => s.post !== null) ?? free[0];
      if (slot) {
        slot.busy = true;
        try {
          this.prepare(slot, width, height);
        } catch (err) {
          this.release(slot, false);
          throw err;
        }
        return slot;
      }
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  /** The frame in `slot` is done: it becomes the current one when it `completed`. */
  release(slot: OverlaySlot<P>, completed: boolean): void {
    slot.busy = false;
    if (completed) this.current = slot;
    this.waiting.shift()?.();
  }

  /** The slot's GPU side for a mask size: made once, then resized (only its size-dependent buffers) when the size changes. */
  private prepare(slot: OverlaySlot<P>, width: number, height: number): void {
    const key = `${width}x${height}`;
    if (slot.post && slot.key !== key && slot.post.resizeMask) {
      slot.post.resizeMask({ width, height });
      slot.key = key;
    }
    if (!slot.post || slot.key !== key) {
      slot.post?.destroy();
      slot.post = this.make(
        this.device,
        { width, height },
        {
          classColours: classColourTable(this.manifest.classes.length),
          style: { premultiplied: true },
        },
      );
      slot.hidden = 0;
      slot.key = key;
      if (this.current === slot) this.current = null;
    }
  }

  /** Hidden classes first (a queue write, so it precedes this frame's compose); a new result starts without a highlight. */
  beginFrame(slot: OverlaySlot<P>, view: OverlayView): void {
    const post = slot.post!;
    if (view.hiddenClasses.length > 0 || slot.hidden > 0) {
      post.recompose(null, view.hiddenClasses);
      slot.hidden = view.hiddenClasses.length;
    }
  }

  /**
   * The composed overlay to the screen. 'canvas' mode: a render pass draws the overlay
   * texture into the pane's WebGPU canvas (cleared when there is nothing to show): no
   * read-back. 'readback' mode, or a pane without a canvas: copy the texture to the slot's
   * kept staging buffer, map it, ImageData → ImageBitmap (W·H·4 bytes, only when there are
   * instances). The caller holds `mapSerialized`.
   */
  async show(slot: OverlaySlot<P>, any: boolean): Promise<OverlayUpdate & { bytes: number }> {
    const post = slot.post!;
    const texture = post.overlayTexture;
    if (this.overlayMode === 'canvas' && presentOverlay(this.device, this.paneKey, any ? texture : null, this.manifest.id)) {
      return { overlay: null, onCanvas: any, bytes: 0 };
    }
    if (!any) return { overlay: null, onCanvas: false, bytes: 0 };
    const rgba = await post.readOverlay();
    return { overlay: await rgbaToBitmap(rgba, texture.width, texture.height), onCanvas: false, bytes: texture.width * texture.height * 4 };
  }

  /** Redraws the overlay of the last completed frame (hover, hidden classes). */
  recompose(view: OverlayView): Promise<OverlayUpdate> {
    return this.recomposeSlot(this.current, view);
  }

  /** Redraws the overlay of the frame in `slot` (a result's followed highlight, while the next frame is in flight). */
  async recomposeSlot(slot: OverlaySlot<P> | null, view: OverlayView): Promise<OverlayUpdate> {
    const post = slot?.post;
    if (!slot || !post) return { overlay: null, onCanvas: false };
    post.recompose(view.highlight, view.hiddenClasses);
    slot.hidden = view.hiddenClasses.length;
    const { overlay, onCanvas } = await mapSerialized(() => this.show(slot, true));
    return { overlay, onCanvas };
  }

  /** The overlay read back on demand (PNG export only). */
  async snapshot(): Promise<ImageBitmap | null> {
    const post = this.current?.post;
    if (!post) return null;
    return mapSerialized(async () => rgbaToBitmap(await post.readOverlay(), post.overlayTexture.width, post.overlayTexture.height));
  }

  async readMasks(): Promise<InstanceMasks | null> {
    const post = this.current?.post;
    return post ? mapSerialized(() => post.readMasks()) : null;
  }

  /** GPU sides made so far (tests: a second one only once two frames are in flight). */
  get sides(): number {
    return this.slots.filter((s) => s.post !== null).length;
  }

  dispose(): void {
    for (const slot of this.slots) {
      slot.post?.destroy();
      slot.post = null;
    }
    this.current = null;
  }
}
