/**
 * One frame's result → COCO results JSON (the format the COCO tools and our evaluator
 * read): per instance `{file_name, image_id?, category_id, bbox [x, y, w, h], score,
 * segmentation {size: [h, w], counts}}`, boxes and masks in ORIGINAL image pixels.
 *
 * Masks held at a resolution other than the image's (`FrameResult.maskWidth/Height`) are
 * resized nearest-neighbour to the image size first: destination pixel x samples source
 * column min(⌊(x + 0.5) · srcW / dstW⌋, srcW − 1) (pixel centres aligned), same for y.
 */
import type { FrameResult, InstanceMasks, ModelManifest } from '../types';
import type { DetectionResult } from './cocoEval';
import { encodeInstanceMask, toCocoRle, type CocoRle, type XywhBox } from './rle';

export interface CocoResultEntry {
  file_name: string;
  image_id?: number;
  category_id: number;
  /** [x, y, w, h] in original image pixels. */
  bbox: XywhBox;
  score: number;
  segmentation: CocoRle;
}

export interface ExportImageInfo {
  fileName: string;
  /** COCO image id when the image comes from a dataset. */
  imageId?: number;
}

/** COCO category id of a class: `manifest.categoryIds[classIndex]`, default index + 1. */
export function categoryIdOf(manifest: Pick<ModelManifest, 'categoryIds'>, classIndex: number): number {
  return manifest.categoryIds?.[classIndex] ?? classIndex + 1;
}

/** Nearest-neighbour resize of all bit planes `[N, h, wordsPerRow]` to `width x height`. */
export function resizeInstanceMasksNearest(masks: InstanceMasks, width: number, height: number): InstanceMasks {
  if (masks.width === width && masks.height === height) return masks;
  const wordsPerRow = Math.ceil(width / 32);
  const n = masks.height > 0 && masks.wordsPerRow > 0 ? masks.bits.length / (masks.height * masks.wordsPerRow) : 0;
  const bits = new Uint32Array(n * height * wordsPerRow);
  const srcX = new Int32Array(width);
  for (let x = 0; x < width; x++) srcX[x] = Math.min(Math.floor(((x + 0.5) * masks.width) / width), masks.width - 1);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < height; y++) {
      const sy = Math.min(Math.floor(((y + 0.5) * masks.height) / height), masks.height - 1);
      const srcRow = (i * masks.height + sy) * masks.wordsPerRow;
      const dstRow = (i * height + y) * wordsPerRow;
      for (let x = 0; x < width; x++) {
        const sx = srcX[x]!;
        if (masks.bits[srcRow + (sx >>> 5)]! & (1 << (sx & 31))) {
          bits[dstRow + (x >>> 5)] = bits[dstRow + (x >>> 5)]! | (1 << (x & 31));
        }
      }
    }
  }
  return { width, height, wordsPerRow, bits };
}

/**
 * Detections of one frame as the evaluator's `DetectionResult`s (uncompressed RLE), for
 * evaluating without a JSON round trip. `masks` holds one plane per detection, in order.
 */
export function frameToDetectionResults(
  frame: FrameResult,
  masks: InstanceMasks,
  manifest: Pick<ModelManifest, 'categoryIds'>,
  imageId: number,
): DetectionResult[] {
  const full = resizeInstanceMasksNearest(masks, frame.imageWidth, frame.imageHeight);
  return frame.detections.map((det, n) => ({
    imageId,
    categoryId: categoryIdOf(manifest, det.classIndex),
    score: det.score,
    bbox: xyxyToXywh(det.box),
    segmentation: encodeInstanceMask(full, n),
  }));
}

/** COCO results entries of one frame. */
export function frameToCocoResults(
  frame: FrameResult,
  masks: InstanceMasks,
  manifest: Pick<ModelManifest, 'categoryIds'>,
  image: ExportImageInfo,
): CocoResultEntry[] {
  const dets = frameToDetectionResults(frame, masks, manifest, image.imageId ?? -1);
  return dets.map((d) => ({
    file_name: image.fileName,
    ...(image.imageId !== undefined ? { image_id: image.imageId } : {}),
    category_id: d.categoryId,
    bbox: d.bbox.map(round2) as XywhBox,
    score: d.score,
    segmentation: toCocoRle(d.segmentation!),
  }));
}

/** The JSON text of a results file (one entry a line, readable in a diff). */
export function cocoResultsJson(entries: CocoResultEntry[]): string {
  return '[\n' + entries.map((e) => JSON.stringify(e)).join(',\n') + '\n]\n';
}

function xyxyToXywh(box: [number, number, number, number]): XywhBox {
  return [box[0], box[1], box[2] - box[0], box[3] - box[1]];
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
