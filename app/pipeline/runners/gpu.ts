/**
 * The GPU post-processing paths:
 * - 'wasm+gpu': preprocess (TypeScript reference) and inference on the CPU (ORT wasm EP);
 *   the raw outputs are uploaded ONCE into GPU buffers (reused frame to frame), then the
 *   family's WGSL chain (decode → top-k → NMS → cap → masks → compose);
 * - 'webgpu': the frame texture (uploaded once per frame, shared by panes) → our
 *   preprocess kernel → the model input buffer (`ort.Tensor.fromGpuBuffer`) → ORT's
 *   WebGPU EP on the same device, outputs left on the GPU (`preferredOutputLocation:
 *   'gpu-buffer'`) → the same WGSL chain reading ORT's output buffers directly.
 * Both end with ONE read-back of the compact records (+ timestamps). The overlay texture
 * is drawn by the GPU into the pane's WebGPU canvas (pipeline/overlayCanvas.ts, overlay
 * mode 'canvas'): it never visits the CPU; only a PNG export reads it back. Overlay mode
 * 'readback' (a fallback) reads it back every frame and hands Konva a bitmap.
 */
import { gpuScoped } from '../../gpu/errorScope';
import type { ExecutionPath, InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import type { InputTransform } from '../../gpu/layout';
import { createPreprocess, tensorBytes, type PreprocessKernel } from '../../gpu/kernels/preprocess';
import { preprocessReference } from '../../reference/preprocess';
import { Frame } from '../frame';
import { gpuFamilyModule } from '../families';
import { ort } from '../ort';
import { maskSize, type OverlayView, type PaneRunner, type RunOutput } from '../runner';
import { acquireSession, serialized, type SessionHandle } from '../sessions';
import { GpuOverlay, gpuSerialized, inputDims, OverlayRunner, paneOutput, runOnCpu, writeUpload, type OverlayPostprocessorOptions } from './common';

export { gpuSerialized };

/** An output's dims and ORT type this frame ('float32', 'int64' …). */
export interface OutputShape {
  dims: readonly number[];
  type?: string;
}

/** What the pipeline needs from a family's GPU post-processor (app/families/<family>/gpu.ts). */
export interface GpuPostprocessor {
  encode(
    encoder: GPUCommandEncoder,
    outputs: Record<string, GPUBuffer>,
    settings: PostprocessSettings,
    transform: InputTransform,
    image: { width: number; height: number },
    /**
     * This frame's dims and ORT type of each output (by logical name): needed where the
     * row count varies per frame (Mask R-CNN exports, NMS in the graph); others ignore it.
     */
    shapes?: Record<string, OutputShape>,
  ): void;
  readResult(): Promise<{ detections: RunOutput['result']['detections']; bytesReadBack: number; timings: Partial<StageTimings> }>;
  readMasks(): Promise<InstanceMasks>;
  /** The overlay as straight-alpha RGBA bytes `[maskH, maskW, 4]` (one read-back). */
  readOverlay(): Promise<Uint8ClampedArray<ArrayBuffer>>;
  recompose(highlight: number | null, hiddenClasses: readonly number[]): void;
  readonly overlayTexture: GPUTexture;
  destroy(): void;
}

/** The overlay texture must hold premultiplied alpha: it is shown through a canvas with alphaMode 'premultiplied'. */
type PostprocessorFactory = (
  device: GPUDevice,
  manifest: ModelManifest,
  mask: { width: number; height: number },
  options: OverlayPostprocessorOptions,
) => GpuPostprocessor;

async function postprocessorFactory(manifest: ModelManifest): Promise<PostprocessorFactory> {
  const mod = await gpuFamilyModule(manifest.family);
  const make = mod['createGpuPostprocessor'];
  if (typeof make === 'function') return make as PostprocessorFactory;
  throw new Error(`app/families/${manifest.family}/gpu.ts exports no createGpuPostprocessor`);
}

export class GpuRunner extends OverlayRunner implements PaneRunner {
  /** The post-processor per mask size and its overlay (canvas / read-back, recompose, export). */
  protected override readonly overlay: GpuOverlay<GpuPostprocessor>;
  private outputBuffers: Record<string, GPUBuffer> = {};
  private inputBuffer: GPUBuffer | null = null;
  private preprocess: PreprocessKernel | null = null;

  private constructor(
    readonly path: Exclude<ExecutionPath, 'wasm'>,
    readonly manifest: ModelManifest,
    private readonly device: GPUDevice,
    private readonly handle: SessionHandle,
    makePostprocessor: PostprocessorFactory,
    paneKey: number,
    overlayMode: 'canvas' | 'readback',
  ) {
    super();
    this.overlay = new GpuOverlay(device, manifest, paneKey, overlayMode, makePostprocessor);
  }

  private get session(): ort.InferenceSession {
    return this.handle.session;
  }

  static async create(
    path: Exclude<ExecutionPath, 'wasm'>,
    manifest: ModelManifest,
    device: GPUDevice,
    /** Without a pane (bench), there is no canvas: the overlay is read back. */
    paneKey = -1,
    overlayMode: 'canvas' | 'readback' = 'canvas',
  ): Promise<GpuRunner> {
    const factory = await postprocessorFactory(manifest);
    const handle = await acquireSession(manifest, path === 'webgpu' ? 'webgpu' : 'wasm', device);
    try {
      return new GpuRunner(path, manifest, device, handle, factory, paneKey, overlayMode);
    } catch (err) {
      handle.release();
      throw err;
    }
  }

  private empty: GPUBuffer | null = null;

  /** A 16-byte placeholder bound for an output with no elements (zero-sized bindings are invalid). */
  private emptyBuffer(): GPUBuffer {
    this.empty ??= this.device.createBuffer({ label: `${this.manifest.id}.outputs.empty`, size: 16, usage: GPUBufferUsage.STORAGE });
    return this.empty;
  }

  /** 'wasm+gpu': the CPU outputs written into GPU buffers, one per output, reused. */
  private upload(outputs: Record<string, { data: Float32Array }>): Record<string, GPUBuffer> {
    for (const [name, t] of Object.entries(outputs)) writeUpload(this.device, this.outputBuffers, name, `${this.manifest.id}.outputs.${name}`, t.data);
    return this.outputBuffers;
  }

  /** The session stays alive to the end of the frame, even if the runner is disposed meanwhile. */
  run(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput> {
    return this.handle.use(() => this.runFrame(frame, settings, view));
  }

  private async runFrame(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput> {
    const device = this.device;
    const mask = maskSize(frame.width, frame.height);
    const post = this.overlay.postprocessorFor(mask.width, mask.height);
    const t0 = performance.now();
    const timings: Partial<StageTimings> = {};
    let buffers: Record<string, GPUBuffer>;
    const shapes: Record<string, OutputShape> = {};
    let transform: InputTransform;
    let release: () => void = () => undefined;
    // GPU errors of the sections before post-processing (upload / preprocess), checked with it.
    let inputChecked: Promise<void> = Promise.resolve();

    if (this.path === 'wasm+gpu') {
      const px = frame.pixels();
      const pre = preprocessReference(px.data, px.width, px.height, this.manifest.input);
      transform = pre.geometry.transform;
      const t1 = performance.now();
      const outputs = await runOnCpu(this.session, this.manifest, pre.tensor);
      const t2 = performance.now();
      const uploaded = gpuScoped(device, `${this.manifest.id}.upload`, () => this.upload(outputs));
      buffers = uploaded.value;
      inputChecked = uploaded.checked;
      for (const [logical, t] of Object.entries(outputs)) shapes[logical] = { dims: t.dims, type: 'float32' };
      const t3 = performance.now();
      Object.assign(timings, { preprocess: t1 - t0, inference: t2 - t1, upload: t3 - t2 });
    } else {
      const { name } = this.manifest.input;
      const t1 = performance.now();
      const pre = gpuScoped(device, `${this.manifest.id}.preprocess`, () => {
        this.preprocess ??= createPreprocess(device);
        this.inputBuffer ??= device.createBuffer({
          label: `${this.manifest.id}.input`,
          size: tensorBytes(this.manifest.input),
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        });
        const texture = frame.texture(device);
        const encoder = device.createCommandEncoder({ label: `${this.manifest.id}.preprocess` });
        const t = this.preprocess.run(encoder, { source: texture, tensor: this.inputBuffer }, this.manifest.input);
        device.queue.submit([encoder.finish()]);
        return t;
      });
      transform = pre.value;
      inputChecked = pre.checked;
      const input = ort.Tensor.fromGpuBuffer(this.inputBuffer!, { dataType: 'float32', dims: inputDims(this.manifest.input) });
      const t2 = performance.now();
      const results = await serialized(() => this.session.run({ [name]: input }));
      const t3 = performance.now();
      buffers = {};
      for (const [logical, tensorName] of Object.entries(this.manifest.outputs)) {
        const t = results[tensorName];
        if (t && t.size === 0) {
          // No rows this frame (an export with NMS in the graph): nothing to bind; the
          // post-processor reads `shapes` and binds a placeholder.
          shapes[logical] = { dims: t.dims, type: t.type };
          buffers[logical] = this.emptyBuffer();
          continue;
        }
        if (!t || t.location !== 'gpu-buffer') throw new Error(`output “${tensorName}” is not on the GPU`);
        buffers[logical] = t.gpuBuffer as GPUBuffer;
        shapes[logical] = { dims: t.dims, type: t.type };
      }
      release = () => {
        for (const t of Object.values(results)) t.dispose();
      };
      Object.assign(timings, { upload: Frame.lastUploadMs(), preprocess: t2 - t1, inference: t3 - t2 });
    }

    try {
      const read = await gpuSerialized(() => this.postprocess(post, buffers, shapes, settings, transform, view, frame));
      await inputChecked;
      const tRead = performance.now();
      const shown = await gpuSerialized(() => this.overlay.show(post, read.detections.length > 0));
      const t4 = performance.now();
      return paneOutput(frame, mask, this.path, read.detections, read.bytesReadBack + shown.bytes, {
        ...timings,
        ...read.timings,
        // Wall time from submit to mapped records, less the GPU stages it waited on.
        readback:
          read.timings.readback ??
          Math.max(0, tRead - read.submittedAt - (read.timings.source === 'gpu' ? (read.timings.decode ?? 0) + (read.timings.nms ?? 0) + (read.timings.masks ?? 0) : 0)),
        total: t4 - t0,
        source: read.timings.source ?? 'cpu',
      }, shown);
    } finally {
      release();
    }
  }

  /** Encodes and submits the chain, then the one read-back of records + timestamps. */
  private async postprocess(
    post: GpuPostprocessor,
    buffers: Record<string, GPUBuffer>,
    shapes: Record<string, OutputShape>,
    settings: PostprocessSettings,
    transform: InputTransform,
    view: OverlayView,
    frame: Frame,
  ) {
    const device = this.device;
    const { checked } = gpuScoped(device, `${this.manifest.id}.postprocess`, () => {
      this.overlay.beginFrame(post, view);
      const encoder = device.createCommandEncoder({ label: `${this.manifest.id}.postprocess` });
      post.encode(encoder, buffers, settings, transform, { width: frame.width, height: frame.height }, shapes);
      device.queue.submit([encoder.finish()]);
    });
    const submittedAt = performance.now();
    const read = await post.readResult();
    // Records read back from a chain that failed on the GPU are zeros, not "no instances".
    await checked;
    return { ...read, submittedAt };
  }

  dispose(): void {
    this.overlay.dispose();
    for (const b of Object.values(this.outputBuffers)) b.destroy();
    this.outputBuffers = {};
    this.inputBuffer?.destroy();
    this.inputBuffer = null;
    this.empty?.destroy();
    this.empty = null;
    this.preprocess?.destroy();
    this.preprocess = null;
    this.handle.release();
  }
}

