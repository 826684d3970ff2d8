/**
 * The 'wasm' path: no WebGPU at all. Preprocess with the TypeScript reference on the
 * frame's CPU pixels, ORT's wasm EP, the family's TypeScript reference post-processing
 * (decode, top-k, NMS, cap, mask assembly), the compose reference → RGBA → ImageBitmap.
 */
import type { ModelManifest, PostprocessSettings } from '../../types';
import { preprocessReference } from '../../reference/preprocess';
import type { Frame } from '../frame';
import type { OverlayView, PaneRunner, RunOutput } from '../runner';
import { acquireSession, type SessionHandle } from '../sessions';
import type { ort } from '../ort';
import { cpuFamily, type CpuFamily } from '../families';
import { CpuOverlay, OverlayRunner, paneOutput, runOnCpu } from './common';

export class WasmRunner extends OverlayRunner implements PaneRunner {
  readonly path = 'wasm' as const;
  protected override readonly overlay: CpuOverlay;

  private constructor(
    readonly manifest: ModelManifest,
    private readonly handle: SessionHandle,
    private readonly family: CpuFamily,
  ) {
    super();
    this.overlay = new CpuOverlay(manifest);
  }

  private get session(): ort.InferenceSession {
    return this.handle.session;
  }

  static async create(manifest: ModelManifest): Promise<WasmRunner> {
    const family = await cpuFamily(manifest.family);
    const handle = await acquireSession(manifest, 'wasm');
    return new WasmRunner(manifest, handle, family);
  }

  /** The session stays alive to the end of the frame, even if the runner is disposed meanwhile. */
  run(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput> {
    return this.handle.use(() => this.runFrame(frame, settings, view));
  }

  private async runFrame(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput> {
    const t0 = performance.now();
    const px = frame.pixels();
    const { tensor } = preprocessReference(px.data, px.width, px.height, this.manifest.input);
    const t1 = performance.now();
    const outputs = await runOnCpu(this.session, this.manifest, tensor);
    const t2 = performance.now();
    const post = this.family.postprocess(outputs, this.manifest, settings, { width: frame.width, height: frame.height });
    const t3 = performance.now();
    const overlay = await this.overlay.show(post.detections, post.masks, view);
    const t4 = performance.now();
    return paneOutput(frame, post.masks, 'wasm', post.detections, 0, {
      preprocess: t1 - t0,
      inference: t2 - t1,
      ...(post.timings ?? { decode: t3 - t2 }),
      masks: (post.timings?.masks ?? 0) + (t4 - t3),
      total: t4 - t0,
      source: 'cpu',
    }, { overlay, onCanvas: false });
  }

  dispose(): void {
    this.overlay.clear();
    this.handle.release();
  }
}
