/**
 * The 'wasm' path: no WebGPU at all. Preprocess with the TypeScript reference on the
 * frame's CPU pixels, ORT's wasm EP, the family's TypeScript reference post-processing
 * (decode, top-k, NMS, cap, mask assembly), the compose reference → RGBA → ImageBitmap.
 */
import type { Detection, InstanceMasks, ModelManifest, PostprocessSettings } from '../../types';
import { preprocessReference } from '../../reference/preprocess';
import { composeOverlayReference, hiddenClassMask } from '../../reference/composeOverlay';
import type { Frame } from '../frame';
import { classColourTable } from '../palette';
import type { OverlayUpdate, OverlayView, PaneRunner, RunOutput } from '../runner';
import { getSession } from '../sessions';
import type { ort } from '../ort';
import { cpuFamily, type CpuFamily } from '../families';
import { rgbaToBitmap, runOnCpu } from './common';

export class WasmRunner implements PaneRunner {
  readonly path = 'wasm' as const;
  private last: { detections: Detection[]; masks: InstanceMasks } | null = null;
  private lastView: OverlayView = { highlight: null, hiddenClasses: [] };

  private constructor(
    readonly manifest: ModelManifest,
    private readonly session: ort.InferenceSession,
    private readonly family: CpuFamily,
  ) {}

  static async create(manifest: ModelManifest): Promise<WasmRunner> {
    const family = await cpuFamily(manifest.family);
    const session = await getSession(manifest, 'wasm');
    return new WasmRunner(manifest, session, family);
  }

  async run(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput> {
    const t0 = performance.now();
    const px = frame.pixels();
    const { tensor } = preprocessReference(px.data, px.width, px.height, this.manifest.input);
    const t1 = performance.now();
    const outputs = await runOnCpu(this.session, this.manifest, tensor);
    const t2 = performance.now();
    const post = this.family.postprocess(outputs, this.manifest, settings, { width: frame.width, height: frame.height });
    const t3 = performance.now();
    this.last = { detections: post.detections, masks: post.masks };
    const overlay = await this.compose(view);
    const t4 = performance.now();
    return {
      result: {
        imageWidth: frame.width,
        imageHeight: frame.height,
        detections: post.detections,
        maskWidth: post.masks.width,
        maskHeight: post.masks.height,
        bytesReadBack: 0,
        path: 'wasm',
        timings: {
          preprocess: t1 - t0,
          inference: t2 - t1,
          ...(post.timings ?? { decode: t3 - t2 }),
          masks: (post.timings?.masks ?? 0) + (t4 - t3),
          total: t4 - t0,
          source: 'cpu',
        },
      },
      overlay,
      onCanvas: false,
    };
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

  overlaySnapshot(): Promise<ImageBitmap | null> {
    return this.compose(this.lastView);
  }

  async readMasks(): Promise<InstanceMasks | null> {
    return this.last?.masks ?? null;
  }

  dispose(): void {
    this.last = null;
  }
}
