/**
 * A pane's exports: its result as COCO JSON (+ the images file for an image no dataset
 * names) and as a PNG drawn as the pane shows it. Both read the runner with it at rest
 * (PaneController.hold): a webcam run in flight stores its result first, the next waits, so
 * the masks and the overlay belong to the result and the frame exported. The file formats
 * are ../exports.ts.
 */
import type { InstanceMasks, ModelManifest } from '../../types';
import type { PaneState, ResultFrame } from '../../state/store';
import type { PaneRunner } from '../runner';
import { exportBaseName, exportCocoJson, exportFileName, exportImagesJson, pngFileName, type ExportImage } from '../exports';
import { errorText, type EngineStore, type ModelCatalog } from './ports';

export interface ExporterDeps {
  store: EngineStore;
  models: Pick<ModelCatalog, 'get'>;
  /** The scheduler's hold: `take` runs with the pane's runner at rest; undefined when the pane is gone. */
  hold<T>(key: number, take: (runner: PaneRunner | null) => Promise<T>): Promise<T | undefined>;
  /** Draws the pane's result on its frame (../exports.ts `exportPng`). */
  renderPng(frame: ImageBitmap, pane: PaneState, manifest: ModelManifest, overlay: ImageBitmap | null): Promise<Blob>;
  download(blob: Blob, fileName: string): void;
  /** The samples' COCO image ids by file name (none when they cannot be loaded). */
  sampleIds(): Promise<Map<string, number>>;
}

export class Exporter {
  /** file name → image id of the last dropped COCO ground truth, for exports. */
  private datasetIds = new Map<string, number>();

  constructor(private readonly deps: ExporterDeps) {}

  /** The image ids of a dropped ground truth (its images, exported later, keep them). */
  useDatasetIds(ids: Map<string, number>): void {
    this.datasetIds = ids;
  }

  /** COCO results of the pane's result: one frame's boxes and masks, named by image or frame and model. */
  async exportJson(key: number): Promise<void> {
    const { store, models } = this.deps;
    try {
      const taken = await this.deps.hold(key, async (runner) => {
        const pane = store.getPane(key);
        const manifest = pane && models.get(pane.modelId);
        if (!pane?.result || !pane.resultFrame || !runner || !manifest) return null;
        const masks: InstanceMasks | null = await runner.readMasks();
        return { result: pane.result, frame: pane.resultFrame, manifest, masks };
      });
      if (taken === undefined) return;
      if (!taken) {
        store.notify('info', 'Nothing to export yet: open an image first.');
        return;
      }
      const image = await this.exportImage(taken.frame);
      const base = exportBaseName(image.fileName, taken.manifest.id);
      const json = exportCocoJson(taken.result, taken.masks, taken.manifest, image);
      this.deps.download(new Blob([json], { type: 'application/json' }), `${base}-results.json`);
      if (!image.fromDataset) {
        this.deps.download(new Blob([exportImagesJson(image, taken.manifest)], { type: 'application/json' }), `${base}-images.json`);
      }
    } catch (err) {
      store.notify('error', `Export failed: ${errorText(err)}`);
    }
  }

  /** The pane's result drawn on the frame it was computed on, as the pane shows it. */
  async exportPng(key: number): Promise<void> {
    const { store, models } = this.deps;
    try {
      const taken = await this.deps.hold(key, async (runner) => {
        const pane = store.getPane(key);
        const manifest = pane && models.get(pane.modelId);
        if (!pane?.result || !pane.resultFrame || !manifest) return null;
        // The overlay on a WebGPU canvas is read back now, for the export only; drawn before
        // the hold ends (the next result closes the pane's overlay bitmap).
        const overlay = pane.overlayOnCanvas && runner ? await runner.overlaySnapshot() : pane.overlay;
        const blob = await this.deps.renderPng(pane.resultFrame.bitmap, pane, manifest, overlay);
        if (overlay && overlay !== pane.overlay) overlay.close();
        return { blob, frame: pane.resultFrame, manifest };
      });
      if (taken === undefined) return;
      if (!taken) {
        store.notify('info', 'Nothing to export yet: open an image first.');
        return;
      }
      this.deps.download(taken.blob, pngFileName(await this.exportImage(taken.frame), taken.manifest.id));
    } catch (err) {
      store.notify('error', `Export failed: ${errorText(err)}`);
    }
  }

  /** A frame's name and id in the COCO files: the dataset's id (samples, a dropped ground truth), else the frame's own id. */
  private async exportImage(frame: ResultFrame): Promise<ExportImage> {
    const fileName = exportFileName(frame);
    const datasetId = frame.kind === 'image' ? ((await this.deps.sampleIds()).get(fileName) ?? this.datasetIds.get(fileName)) : undefined;
    return {
      fileName,
      imageId: datasetId ?? frame.id,
      width: frame.width,
      height: frame.height,
      ...(frame.original ? { original: frame.original } : {}),
      fromDataset: datasetId !== undefined,
    };
  }
}
