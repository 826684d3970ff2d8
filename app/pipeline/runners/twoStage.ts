/**
 * The runners of two-stage models (our Mask R-CNN, ModelManifest.twoStage): three ONNX
 * parts — backbone (FPN + RPN head), box head, mask head — with the RoI steps between them.
 *
 * - 'wasm': ORT wasm for the three parts, the TypeScript references between them
 *   (`maskRcnnTwoStageReference`), the compose reference → ImageBitmap.
 * - 'wasm+gpu': ORT wasm for the three parts, our WGSL between them. The heads run on the
 *   CPU, so the pooled RoI features come back from the GPU twice a frame
 *   ([R, C, 7, 7] and [M, C, 14, 14] f32): those bytes are counted in `bytesReadBack`
 *   (the pane says so), then the head outputs are uploaded.
 * - 'webgpu': ORT's WebGPU EP for the three parts on our device, our kernels between them
 *   reading and writing GPU buffers (`ort.Tensor.fromGpuBuffer` for the head inputs,
 *   `preferredOutputLocation: 'gpu-buffer'`). R and M are fixed (padded RoIs), so nothing
 *   comes back mid-frame: ONE read-back of the records (+ timestamps) a frame.
 *
 * Stage timings (StageTimings): inference = backbone; rpn = proposals; roi = RoI pooling
 * (box + mask features); heads = box head + mask head runs; decode / nms = box decode and
 * per-class top-k, NMS, cap; masks = paste + compose. Our stages are GPU timestamps; the ORT
 * parts are wall times — on 'webgpu' up to their GPU completion (`onSubmittedWorkDone`: a
 * wait, no data read back), since ORT returns as soon as its work is submitted. Without
 * 'timestamp-query' our stages show '–'. The overlay machinery (compose reference; canvas
 * or read-back, recompose, snapshot) is the shared one of runners/common.ts.
 */
import { gpuScoped } from '../../gpu/errorScope';
import type { ExecutionPath, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import type { InputTransform } from '../../gpu/layout';
import { createPreprocess, tensorBytes, type PreprocessKernel } from '../../gpu/kernels/preprocess';
import { preprocessReference } from '../../reference/preprocess';
import {
  BOX_HEAD_INPUT,
  BOX_HEAD_OUTPUTS,
  boxFeatureDims,
  headManifests,
  MASK_HEAD_INPUT,
  MASK_HEAD_OUTPUTS,
  maskFeatureDims,
  twoStageLayout,
  type TwoStageLayout,
} from '../../families/maskRcnn/manifest';
import { maskRcnnTwoStageReference, type TwoStageHeadsCpu } from '../../families/maskRcnn/reference';
import { createTwoStageGpu, type MaskRcnnTwoStageGpu, type TwoStageHeadsGpu } from '../../families/maskRcnn/gpu';
import { Frame } from '../frame';
import { ort } from '../ort';
import { maskSize, type OverlayView, type PaneRunner, type RunOutput } from '../runner';
import { acquireSession, serialized, useAll, type SessionHandle } from '../sessions';
import { CpuOverlay, GpuOverlay, gpuSerialized, OverlayRunner, paneOutput, runOnCpu, writeUpload } from './common';

/** Runs a head part on the wasm EP: one f32 input, its outputs by logical name. */
async function runHeadOnCpu(
  session: ort.InferenceSession,
  inputName: string,
  data: Float32Array,
  dims: readonly number[],
  outputs: Readonly<Record<string, string>>,
): Promise<Record<string, Float32Array>> {
  const input = new ort.Tensor('float32', data, dims);
  const results = await serialized(() => session.run({ [inputName]: input }));
  const out: Record<string, Float32Array> = {};
  for (const [logical, name] of Object.entries(outputs)) {
    const t = results[name];
    if (!t) throw new Error(`the head returned no “${name}”`);
    if (t.type !== 'float32') throw new Error(`head output “${name}” is ${t.type}, expected float32`);
    out[logical] = t.data as Float32Array;
  }
  return out;
}

/** The head parts on the wasm EP, as the reference chain and runFrame's CPU heads call them. */
function cpuHeads(boxHead: ort.InferenceSession, maskHead: ort.InferenceSession, layout: TwoStageLayout): TwoStageHeadsCpu {
  return {
    boxHead: async (features) => {
      const out = await runHeadOnCpu(boxHead, BOX_HEAD_INPUT, features, boxFeatureDims(layout), BOX_HEAD_OUTPUTS);
      return { classLogits: out.classLogits!, boxDeltas: out.boxDeltas! };
    },
    maskHead: async (features, count) => {
      const out = await runHeadOnCpu(maskHead, MASK_HEAD_INPUT, features, maskFeatureDims(layout, count), MASK_HEAD_OUTPUTS);
      return out.maskLogits!;
    },
  };
}

/** The three sessions of a two-stage model on one EP, and their handles (released by the runner's dispose). */
interface TwoStageSessions {
  backbone: ort.InferenceSession;
  boxHead: ort.InferenceSession;
  maskHead: ort.InferenceSession;
  handles: SessionHandle[];
}

async function twoStageSessions(manifest: ModelManifest, ep: 'wasm' | 'webgpu', device: GPUDevice | null = null): Promise<TwoStageSessions> {
  const parts = headManifests(manifest);
  const handles: SessionHandle[] = [];
  try {
    // One after the other: the session cache creates one at a time anyway.
    for (const part of [manifest, parts.boxHead, parts.maskHead]) handles.push(await acquireSession(part, ep, device));
  } catch (err) {
    // A part that fails to load gives back the parts already loaded.
    for (const h of handles) h.release();
    throw err;
  }
  const [backbone, boxHead, maskHead] = handles.map((h) => h.session) as [ort.InferenceSession, ort.InferenceSession, ort.InferenceSession];
  return { backbone, boxHead, maskHead, handles };
}

/** Creates a runner over `sessions`; gives them back when the constructor throws. */
function holding<T>(sessions: TwoStageSessions, make: () => T): T {
  try {
    return make();
  } catch (err) {
    for (const h of sessions.handles) h.release();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------
// 'wasm'

export class TwoStageWasmRunner extends OverlayRunner implements PaneRunner {
  readonly path = 'wasm' as const;
  protected override readonly overlay: CpuOverlay;

  private constructor(
    readonly manifest: ModelManifest,
    private readonly sessions: TwoStageSessions,
    private readonly layout: TwoStageLayout,
  ) {
    super();
    this.overlay = new CpuOverlay(manifest);
  }

  static async create(manifest: ModelManifest): Promise<TwoStageWasmRunner> {
    const layout = twoStageLayout(manifest);
    const sessions = await twoStageSessions(manifest, 'wasm');
    return holding(sessions, () => new TwoStageWasmRunner(manifest, sessions, layout));
  }

  /** The sessions stay alive to the end of the frame, even if the runner is disposed meanwhile. */
  run(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput> {
    return useAll(this.sessions.handles, () => this.runFrame(frame, settings, view));
  }

  private async runFrame(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput> {
    const t0 = performance.now();
    const px = frame.pixels();
    const { tensor } = preprocessReference(px.data, px.width, px.height, this.manifest.input);
    const t1 = performance.now();
    const outputs = await runOnCpu(this.sessions.backbone, this.manifest, tensor);
    const t2 = performance.now();
    const heads = cpuHeads(this.sessions.boxHead, this.sessions.maskHead, this.layout);
    const post = await maskRcnnTwoStageReference(outputs, heads, this.manifest, settings, { width: frame.width, height: frame.height });
    const t3 = performance.now();
    const overlay = await this.overlay.show(post.detections, post.masks, view);
    const t4 = performance.now();
    return paneOutput(frame, post.masks, 'wasm', post.detections, 0, {
      preprocess: t1 - t0,
      inference: t2 - t1,
      ...post.timings,
      masks: (post.timings.masks ?? 0) + (t4 - t3),
      total: t4 - t0,
      source: 'cpu',
    }, { overlay, onCanvas: false });
  }

  dispose(): void {
    this.overlay.clear();
    for (const h of this.sessions.handles) h.release();
  }
}

// ---------------------------------------------------------------------------------------
// 'wasm+gpu' and 'webgpu'

export class TwoStageGpuRunner extends OverlayRunner implements PaneRunner {
  /** The post-processor per mask size and its overlay (canvas / read-back, recompose, export). */
  protected override readonly overlay: GpuOverlay<MaskRcnnTwoStageGpu>;
  /** 'wasm+gpu': persistent upload buffers of the CPU outputs (backbone, heads), by name. */
  private uploads: Record<string, GPUBuffer> = {};
  private inputBuffer: GPUBuffer | null = null;
  private preprocess: PreprocessKernel | null = null;
  private readonly layout: TwoStageLayout;

  private constructor(
    readonly path: Exclude<ExecutionPath, 'wasm'>,
    readonly manifest: ModelManifest,
    private readonly device: GPUDevice,
    private readonly sessions: TwoStageSessions,
    paneKey: number,
    overlayMode: 'canvas' | 'readback',
  ) {
    super();
    this.layout = twoStageLayout(manifest);
    this.overlay = new GpuOverlay(device, manifest, paneKey, overlayMode, createTwoStageGpu);
  }

  static async create(
    path: Exclude<ExecutionPath, 'wasm'>,
    manifest: ModelManifest,
    device: GPUDevice,
    paneKey = -1,
    overlayMode: 'canvas' | 'readback' = 'canvas',
  ): Promise<TwoStageGpuRunner> {
    twoStageLayout(manifest); // refuses a bad manifest before any download
    const sessions = await twoStageSessions(manifest, path === 'webgpu' ? 'webgpu' : 'wasm', path === 'webgpu' ? device : null);
    return holding(sessions, () => new TwoStageGpuRunner(path, manifest, device, sessions, paneKey, overlayMode));
  }

  /** 'wasm+gpu': a CPU tensor written into its persistent GPU buffer (made once per size). */
  private upload(name: string, data: Float32Array): GPUBuffer {
    const where = `${this.manifest.id}.uploads.${name}`;
    const { value, checked } = gpuScoped(this.device, where, () => writeUpload(this.device, this.uploads, name, where, data));
    this.checks.push(checked);
    return value;
  }

  /** GPU errors of this frame's submits (app/gpu/errorScope.ts), awaited before its result is used. */
  private checks: Promise<void>[] = [];

  private submit(label: string, encode: (encoder: GPUCommandEncoder) => void): void {
    const where = `${this.manifest.id}.${label}`;
    const { checked } = gpuScoped(this.device, where, () => {
      const encoder = this.device.createCommandEncoder({ label: where });
      encode(encoder);
      this.device.queue.submit([encoder.finish()]);
    });
    this.checks.push(checked);
  }

  /** Rejects with the first GPU error of the frame's submits so far. */
  private async settleChecks(): Promise<void> {
    const pending = this.checks;
    this.checks = [];
    await Promise.all(pending);
  }

  /** The sessions stay alive to the end of the frame, even if the runner is disposed meanwhile. */
  run(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput> {
    return useAll(this.sessions.handles, () => this.runFrame(frame, settings, view));
  }

  private async runFrame(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput> {
    const mask = maskSize(frame.width, frame.height);
    const post = this.overlay.postprocessorFor(mask.width, mask.height);
    const image = { width: frame.width, height: frame.height };
    const t0 = performance.now();
    const timings: Partial<StageTimings> = {};
    const release: Array<() => void> = [];
    this.checks = []; // a failed frame's checks are not this frame's
    try {
      let backbone: Record<string, GPUBuffer>;
      let transform: InputTransform;
      if (this.path === 'wasm+gpu') {
        const px = frame.pixels();
        const pre = preprocessReference(px.data, px.width, px.height, this.manifest.input);
        transform = pre.geometry.transform;
        const t1 = performance.now();
        const outputs = await runOnCpu(this.sessions.backbone, this.manifest, pre.tensor);
        const t2 = performance.now();
        backbone = {};
        for (const [name, t] of Object.entries(outputs)) backbone[name] = this.upload(name, t.data);
        Object.assign(timings, { preprocess: t1 - t0, inference: t2 - t1, upload: performance.now() - t2 });
      } else {
        const { name, width, height } = this.manifest.input;
        this.preprocess ??= createPreprocess(this.device);
        this.inputBuffer ??= this.device.createBuffer({
          label: `${this.manifest.id}.input`,
          size: tensorBytes(this.manifest.input),
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        });
        const texture = frame.texture(this.device);
        const t1 = performance.now();
        let tr: InputTransform | null = null;
        this.submit('preprocess', (encoder) => {
          tr = this.preprocess!.run(encoder, { source: texture, tensor: this.inputBuffer! }, this.manifest.input);
        });
        transform = tr!;
        const input = ort.Tensor.fromGpuBuffer(this.inputBuffer, { dataType: 'float32', dims: [1, 3, height, width] });
        await this.device.queue.onSubmittedWorkDone();
        const t2 = performance.now();
        const results = await serialized(async () => {
          const r = await this.sessions.backbone.run({ [name]: input });
          // ORT returns once its work is submitted: time the backbone to its GPU completion.
          await this.device.queue.onSubmittedWorkDone();
          return r;
        });
        release.push(() => Object.values(results).forEach((t) => t.dispose()));
        backbone = gpuOutputs(results, this.manifest.outputs, 'backbone');
        Object.assign(timings, { upload: Frame.lastUploadMs(), preprocess: t2 - t1, inference: performance.now() - t2 });
      }
      const out = await gpuSerialized(() => this.twoStages(post, backbone, settings, transform, image, view, release));
      await this.settleChecks();
      const tRead = performance.now();
      const shown = await gpuSerialized(() => this.overlay.show(post, out.detections.length > 0));
      const t4 = performance.now();
      return paneOutput(frame, mask, this.path, out.detections, out.bytesReadBack + shown.bytes, {
        ...timings,
        ...out.timings,
        // The records' wait less the GPU stage it waited on, plus the RoI feature
        // read-backs of 'wasm+gpu'.
        readback: Math.max(0, tRead - out.submittedAt - (out.timings.source === 'gpu' ? out.timings.masks ?? 0 : 0)) + out.featureReadMs,
        total: t4 - t0,
        source: out.timings.source ?? 'cpu',
      }, shown);
    } finally {
      for (const r of release) r();
    }
  }

  /** The RoI stages and the heads (MaskRcnnTwoStageGpu.runFrame), then the records. */
  private async twoStages(
    post: MaskRcnnTwoStageGpu,
    backbone: Record<string, GPUBuffer>,
    settings: PostprocessSettings,
    transform: InputTransform,
    image: { width: number; height: number },
    view: OverlayView,
    release: Array<() => void>,
  ) {
    this.overlay.beginFrame(post, view);
    const { boxHead, maskHead } = this.sessions;
    const { layout, device } = this;
    const gpuHeads = (): TwoStageHeadsGpu => ({
      onGpu: true,
      boxHead: async (features) => {
        const input = ort.Tensor.fromGpuBuffer(features, { dataType: 'float32', dims: boxFeatureDims(layout) });
        const results = await serialized(() => boxHead.run({ [BOX_HEAD_INPUT]: input }).then(async (r) => (await device.queue.onSubmittedWorkDone(), r)));
        release.push(() => Object.values(results).forEach((t) => t.dispose()));
        const out = gpuOutputs(results, BOX_HEAD_OUTPUTS, 'box head');
        return { classLogits: out.classLogits!, boxDeltas: out.boxDeltas! };
      },
      maskHead: async (features, count) => {
        const input = ort.Tensor.fromGpuBuffer(features, { dataType: 'float32', dims: maskFeatureDims(layout, count) });
        const results = await serialized(() => maskHead.run({ [MASK_HEAD_INPUT]: input }).then(async (r) => (await device.queue.onSubmittedWorkDone(), r)));
        release.push(() => Object.values(results).forEach((t) => t.dispose()));
        return gpuOutputs(results, MASK_HEAD_OUTPUTS, 'mask head').maskLogits!;
      },
    });
    const heads =
      this.path === 'webgpu'
        ? gpuHeads()
        : { ...cpuHeads(boxHead, maskHead, layout), upload: (name: string, data: Float32Array) => this.upload(name, data) };
    const out = await post.runFrame(backbone, heads, settings, transform, image);
    return { ...out, timings: { ...out.timings, heads: out.headsMs } };
  }

  dispose(): void {
    this.overlay.dispose();
    for (const b of Object.values(this.uploads)) b.destroy();
    this.uploads = {};
    this.inputBuffer?.destroy();
    this.inputBuffer = null;
    this.preprocess?.destroy();
    this.preprocess = null;
    for (const h of this.sessions.handles) h.release();
  }
}

/** ORT outputs left on the GPU, by logical name; refuses any that came back to the CPU. */
function gpuOutputs(results: ort.InferenceSession.OnnxValueMapType, names: Readonly<Record<string, string>>, part: string): Record<string, GPUBuffer> {
  const out: Record<string, GPUBuffer> = {};
  for (const [logical, name] of Object.entries(names)) {
    const t = results[name];
    if (!t || t.location !== 'gpu-buffer') throw new Error(`${part} output “${name}” is not on the GPU`);
    out[logical] = t.gpuBuffer as GPUBuffer;
  }
  return out;
}
