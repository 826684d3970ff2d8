/**
 * The 'wasm' path: a pane's model run whole in the CPU worker (./worker.ts) — the frame's
 * pixels, the preprocess reference, the ONNX parts on ORT's wasm EP, the references of the
 * program's kernel steps, the compose reference. The page only posts the frame and draws the
 * overlay bitmap it gets back, so a frame costs the main thread a message, not the model.
 */
import type { InstanceMasks, ModelManifest, PostprocessSettings } from '../../types';
import { familyProgram } from '../../families/registry';
import type { Frame } from '../frame';
import type { OverlayUpdate, OverlayView, PaneRunner, RunOutput } from '../runner';
import { paneOutput } from '../stages/overlay';
import { checkProgram, onnxSteps } from '../stages/program';
import { acquireWorkerSession, cpuWorker, type CpuWorker, type WorkerSessionHandle } from './client';
import type { FrameAnswer } from './protocol';

let nextRunner = 1;

export class WorkerRunner implements PaneRunner {
  readonly path = 'wasm' as const;
  private lastView: OverlayView = { highlight: null, hiddenClasses: [] };
  private disposed = false;

  private constructor(
    readonly manifest: ModelManifest,
    private readonly worker: CpuWorker,
    private readonly id: number,
    private readonly handles: readonly WorkerSessionHandle[],
  ) {}

  static async create(manifest: ModelManifest): Promise<WorkerRunner> {
    const program = await familyProgram(manifest);
    checkProgram(program, manifest.id);
    const handles: WorkerSessionHandle[] = [];
    try {
      for (const step of onnxSteps(program)) handles.push(await acquireWorkerSession(step.part));
      const worker = cpuWorker();
      const id = nextRunner++;
      await worker.request({ kind: 'runner', runner: id, manifest, partKeys: handles.map((h) => h.key) });
      return new WorkerRunner(manifest, worker, id, handles);
    } catch (err) {
      for (const h of handles) h.release();
      throw err;
    }
  }

  async run(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput> {
    this.lastView = view;
    const t0 = performance.now();
    const out = await this.worker.withFrame<FrameAnswer>(frame, (id) => ({ kind: 'frame', runner: this.id, frame: id, settings, view }));
    const total = performance.now() - t0;
    return paneOutput(
      frame,
      out.masks,
      'wasm',
      out.detections,
      0,
      { ...out.timings, total, source: 'cpu' },
      { overlay: out.overlay, onCanvas: false },
      out.auxiliaryMap,
    );
  }

  async recompose(view: OverlayView): Promise<OverlayUpdate> {
    this.lastView = view;
    return { overlay: await this.worker.request<ImageBitmap | null>({ kind: 'recompose', runner: this.id, view }), onCanvas: false };
  }

  overlaySnapshot(): Promise<ImageBitmap | null> {
    return this.worker.request<ImageBitmap | null>({ kind: 'recompose', runner: this.id, view: this.lastView });
  }

  readMasks(): Promise<InstanceMasks | null> {
    return this.worker.request<InstanceMasks | null>({ kind: 'masks', runner: this.id });
  }

  /** Queued behind the runner's frames in the worker: a run in flight finishes first. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.worker.request({ kind: 'dispose', runner: this.id }).catch(() => undefined);
    for (const h of this.handles) h.release();
  }
}
