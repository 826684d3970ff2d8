/**
 * The 'wasm' path's overlay, composed where the frame ran (the CPU worker): the last
 * result through the compose reference → RGBA → ImageBitmap (transferred to the page).
 */
import type { Detection, InstanceMasks, ModelManifest } from '../../types';
import { composeOverlayReference, hiddenClassMask } from '../../reference/composeOverlay';
import { classColourTable } from '../palette';
import type { OverlayView } from '../runner';

/** RGBA bytes (straight alpha) `[height, width, 4]` → an ImageBitmap Konva can draw. */
export async function rgbaToBitmap(rgba: Uint8ClampedArray<ArrayBuffer>, width: number, height: number): Promise<ImageBitmap | null> {
  if (width === 0 || height === 0) return null;
  return createImageBitmap(new ImageData(rgba, width, height), { premultiplyAlpha: 'default' });
}

/** The 'wasm' runners' overlay: the last result through the compose reference → ImageBitmap. */
export class CpuOverlay {
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

  recompose(view: OverlayView): Promise<ImageBitmap | null> {
    return this.compose(view);
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
