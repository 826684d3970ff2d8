/**
 * An evaluation run as the app's evaluation mode needs it: load a COCO ground truth once,
 * add each frame's result as the model gets through the images, then evaluate mask AP,
 * box AP and Boundary AP together (with PR curves for plotting). Plain TypeScript.
 *
 *   const session = new EvalSession(loadCocoGroundTruth(json));
 *   for (const im of session.dataset.images) { …run the pane… ; session.addFrame(im.id, result, masks, manifest); }
 *   const { mask, box, boundary } = session.evaluate();
 */
import type { FrameResult, InstanceMasks, ModelManifest } from '../types';
import { evaluateCoco, type DetectionResult, type EvalResult, type IouType } from './cocoEval';
import { frameToDetectionResults } from './cocoExport';
import type { CocoDataset } from './dataset';

export interface EvalSessionResult {
  mask?: EvalResult;
  box?: EvalResult;
  boundary?: EvalResult;
  /** Images that received a result (only those are evaluated). */
  imagesEvaluated: number;
}

export class EvalSession {
  private readonly dts: DetectionResult[] = [];
  private readonly seen = new Set<number>();

  constructor(readonly dataset: CocoDataset) {}

  /** Image id of a file name in the ground truth, if any. */
  imageIdOf(fileName: string): number | undefined {
    return this.dataset.imageIdByFileName.get(fileName);
  }

  /** Add one image's result; `masks` holds one plane per detection. */
  addFrame(imageId: number, frame: FrameResult, masks: InstanceMasks, manifest: Pick<ModelManifest, 'categoryIds'>): void {
    const im = this.dataset.images.find((i) => i.id === imageId);
    if (!im) throw new Error(`image ${imageId} is not in the ground truth`);
    if (im.width !== frame.imageWidth || im.height !== frame.imageHeight) {
      throw new Error(`image ${imageId}: result is ${frame.imageWidth}x${frame.imageHeight}, ground truth ${im.width}x${im.height}`);
    }
    if (this.seen.has(imageId)) throw new Error(`image ${imageId} was already added`);
    this.seen.add(imageId);
    this.dts.push(...frameToDetectionResults(frame, masks, manifest, imageId));
  }

  get imagesDone(): number {
    return this.seen.size;
  }

  /** Ids of the images added so far. */
  get imageIds(): ReadonlySet<number> {
    return this.seen;
  }

  /** Evaluate over the images added so far (all three types unless told otherwise). */
  evaluate(iouTypes: IouType[] = ['segm', 'bbox', 'boundary']): EvalSessionResult {
    const images = this.dataset.images.filter((im) => this.seen.has(im.id));
    const gts = this.dataset.gts.filter((g) => this.seen.has(g.imageId));
    const out: EvalSessionResult = { imagesEvaluated: images.length };
    for (const iouType of iouTypes) {
      const r = evaluateCoco({ images, categories: this.dataset.categories, gts, dts: this.dts, iouType });
      if (iouType === 'segm') out.mask = r;
      else if (iouType === 'bbox') out.box = r;
      else out.boundary = r;
    }
    return out;
  }
}
