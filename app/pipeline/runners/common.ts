/**
 * Pieces shared by the runners (wasm.ts, gpu.ts, twoStage.ts): ORT feeds and outputs,
 * 'wasm+gpu' upload buffers, overlay bitmaps, and the overlay plumbing of both kinds of
 * pane — `CpuOverlay` (the 'wasm' runners: the compose reference → ImageBitmap) and
 * `GpuOverlay` (the GPU runners: the post-processor per mask size, hidden classes,
 * canvas or read-back, recompose, snapshot, masks for export).
 */
import type { Detection, ExecutionPath, InstanceMasks, ModelManifest, StageTimings } from '../../types';
import { composeOverlayReference, hiddenClassMask } from '../../reference/composeOverlay';
import { ort } from '../ort';
import { serialized } from '../sessions';
import { classColourTable } from '../palette';
import { presentOverlay } from '../overlayCanvas';
import type { OverlayUpdate, OverlayView, RunOutput } from '../runner';

/** A raw model output on the CPU, keyed by the family's logical name (`loc`, `conf`, …). */
export interface CpuTensor {
  data: Float32Array;
  dims: readonly number[];
}
export type CpuOutputs = Record<string, CpuTensor>;

/** The input tensor's dims: `[1, 3, H, W]`, or `[3, H, W]` when `input.layout` is 'chw' (Mask R-CNN exports). */
export function inputDims(input: ModelManifest['input']): number[] {
  return input.layout === 'chw' ? [3, input.height, input.width] : [1, 3, input.height, input.width];
}

/** Runs a wasm-EP session on a CPU input tensor (`inputDims`); outputs keyed by logical name. */
export async function runOnCpu(session: ort.InferenceSession, manifest: ModelManifest, tensor: Float32Array): Promise<CpuOutputs> {
  const input = new ort.Tensor('float32', tensor, inputDims(manifest.input));
  const { name } = manifest.input;
  const results = await serialized(() => session.run({ [name]: input }));
  const outputs: CpuOutputs = {};
  for (const [logical, tensorName] of Object.entries(manifest.outputs)) {
    const t = results[tensorName];
    if (!t) throw new Error(`the model returned no “${tensorName}”`);
    outputs[logical] = { data: asFloat32(t, tensorName), dims: t.dims };
  }
  return outputs;
}

/**
 * An output's values as f32. Integer outputs (the int64 / int32 labels of public Mask R-CNN
 * exports, class ids far below 2^24) are converted exactly; other types are refused.
 */
function asFloat32(t: ort.Tensor, name: string): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'int64' || t.type === 'int32' || t.type === 'float64') {
    return Float32Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
  }
  throw new Error(`output “${name}” is ${t.type}, expected float32 (or integer labels)`);
}

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

/** RGBA bytes (straight alpha) `[height, width, 4]` → an ImageBitmap Konva can draw. */
export async function rgbaToBitmap(rgba: Uint8ClampedArray<ArrayBuffer>, width: number, height: number): Promise<ImageBitmap | null> {
  if (width === 0 || height === 0) return null;
  return createImageBitmap(new ImageData(rgba, width, height), { premultiplyAlpha: 'default' });
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

/**
 * 'wasm+gpu': a CPU tensor written into its persistent GPU buffer `cache[name]` (labelled
 * `label`), made again only when its size changes (16-byte multiple, at least 16).
 */
export function writeUpload(device: GPUDevice, cache: Record<string, GPUBuffer>, name: string, label: string, data: Float32Array): GPUBuffer {
  const bytes = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
  let buffer = cache[name];
  if (!buffer || buffer.size !== bytes) {
    buffer?.destroy();
    buffer = device.createBuffer({ label, size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    cache[name] = buffer;
  }
  device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
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

/** The 'wasm' runners' overlay: the last result through the compose reference → ImageBitmap. */
export class CpuOverlay implements PaneOverlay {
  private last: { detections: Detection[]; masks: InstanceMasks } | null = null;
  private lastView: OverlayView = { highlight: null, hiddenClasses: [] };

  constructor(private readonly manifest: ModelManifest) {}

  /** Keeps a frame's result (for recompose, snapshot, export) and composes it with `view`. */
  show(detections: Detection[], masks: InstanceMasks, view: OverlayView): Promise<ImageBitmap | null> {
    this.last = { detections, masks };
    return this.compose(view);
  }

  private compose(view: OverlayView): Promise<ImageBitmap | null> {
    this.lastView = view;
    if (!this.last || this.last.detections.length === 0) return Promise.resolve(null);
    const { detections, masks } = this.last;
    const rgba = composeOverlayReference({
      masks,
      classIndices: detections.map((d) => d.classIndex),
      classColours: classColourTable(this.manifest.classes.length),
      hiddenClasses: hiddenClassMask(view.hiddenClasses, this.manifest.classes.length),
      highlight: view.highlight,
    });
    return rgbaToBitmap(rgba, masks.width, masks.height);
  }

  async recompose(view: OverlayView): Promise<OverlayUpdate> {
    return { overlay: await this.compose(view), onCanvas: false };
  }

  snapshot(): Promise<ImageBitmap | null> {
    return this.compose(this.lastView);
  }

  async readMasks(): Promise<InstanceMasks | null> {
    return this.last?.masks ?? null;
  }

  clear(): void {
    this.last = null;
  }
}

/** What the GPU runners need of a family's post-processor for the overlay and exports. */
export interface OverlayPostprocessor {
  readonly overlayTexture: GPUTexture;
  /** The overlay as straight-alpha RGBA bytes `[maskH, maskW, 4]` (one read-back). */
  readOverlay(): Promise<Uint8ClampedArray<ArrayBuffer>>;
  recompose(highlight: number | null, hiddenClasses: readonly number[]): void;
  readMasks(): Promise<InstanceMasks>;
  destroy(): void;
}

/** The overlay texture must hold premultiplied alpha: it is shown through a canvas with alphaMode 'premultiplied'. */
export interface OverlayPostprocessorOptions {
  classColours: Uint32Array;
  style: { premultiplied: true };
}

/**
 * The GPU runners' post-processor (made once per mask size) and its overlay: hidden classes
 * written before a frame's compose, the overlay shown on the pane's WebGPU canvas or read
 * back, recompose on hover / toggles, the PNG snapshot and the masks for export.
 */
export class GpuOverlay<P extends OverlayPostprocessor> implements PaneOverlay {
  private post: P | null = null;
  private postKey = '';
  /** Hidden classes last written into the post-processor. */
  private hiddenInPost = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly manifest: ModelManifest,
    private readonly paneKey: number,
    private readonly overlayMode: 'canvas' | 'readback',
    private readonly make: (device: GPUDevice, manifest: ModelManifest, mask: { width: number; height: number }, options: OverlayPostprocessorOptions) => P,
  ) {}

  /** The post-processor for a mask size (made once per size). */
  postprocessorFor(width: number, height: number): P {
    const key = `${width}x${height}`;
    if (!this.post || this.postKey !== key) {
      this.post?.destroy();
      this.post = this.make(this.device, this.manifest, { width, height }, {
        classColours: classColourTable(this.manifest.classes.length),
        style: { premultiplied: true },
      });
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
