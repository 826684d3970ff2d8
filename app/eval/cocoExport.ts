/**
 * One frame's result → COCO results JSON (the format the COCO tools and our evaluator
 * read): per instance `{file_name, image_id, category_id, bbox [x, y, w, h], score,
 * segmentation {size: [h, w], counts}}`, boxes and masks in ORIGINAL image pixels: when
 * the app ran on a downscaled copy (images over MAX_FRAME_SIDE), they are scaled back to
 * the original's size. Beside it, for an image that no dataset names, a COCO images file
 * (`cocoImagesJson`) that gives its `image_id` a meaning: pycocotools' `loadRes` and our
 * `loadCocoResults` read results against such a file.
 *
 * Masks held at a resolution other than the output's are resized nearest-neighbour:
 * destination pixel x samples source column min(⌊(x + 0.5) · srcW / dstW⌋, srcW − 1)
 * (pixel centres aligned), same for y.
 */
import type { FrameResult, InstanceMasks, ModelManifest } from '../types';
import type { DetectionResult } from './cocoEval';
import { encodeInstanceMask, toCocoRle, type CocoRle, type Rle, type XywhBox } from './rle';

export interface CocoResultEntry {
  file_name: string;
  image_id: number;
  category_id: number;
  /** [x, y, w, h] in original image pixels. */
  bbox: XywhBox;
  score: number;
  segmentation: CocoRle;
}

export interface ExportImageInfo {
  fileName: string;
  /** The dataset's id when the image comes from one, else an id the export assigns (and lists in its images file). */
  imageId: number;
  /** Size of the original image when the result was computed on a downscaled copy; boxes and masks are written at this size. */
  original?: { width: number; height: number };
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

/** COCO results entries of one frame, in the original image's pixels. */
export function frameToCocoResults(
  frame: FrameResult,
  masks: InstanceMasks,
  manifest: Pick<ModelManifest, 'categoryIds'>,
  image: ExportImageInfo,
): CocoResultEntry[] {
  const width = image.original?.width ?? frame.imageWidth;
  const height = image.original?.height ?? frame.imageHeight;
  const sx = width / frame.imageWidth;
  const sy = height / frame.imageHeight;
  return frame.detections.map((det, n) => {
    const [x1, y1, x2, y2] = det.box;
    const box: [number, number, number, number] = [clamp(x1 * sx, width), clamp(y1 * sy, height), clamp(x2 * sx, width), clamp(y2 * sy, height)];
    return {
      file_name: image.fileName,
      image_id: image.imageId,
      category_id: categoryIdOf(manifest, det.classIndex),
      bbox: xyxyToXywh(box).map(round2) as XywhBox,
      score: det.score,
      // One instance at a time: a full-size copy of all planes of a 6000×4000 photo would take 3 MB each.
      segmentation: toCocoRle(encodeInstanceMaskAt(masks, n, width, height)),
    };
  });
}

/**
 * Mask `index` of bit-packed masks, resized nearest-neighbour to `width x height` (the
 * mapping above) and run-length encoded without making the resized plane: each output
 * column repeats its source column, and each source row covers a range of output rows.
 * Only the source rows and columns of the mask's extent are visited.
 */
export function encodeInstanceMaskAt(masks: InstanceMasks, index: number, width: number, height: number): Rle {
  if (masks.width === width && masks.height === height) return encodeInstanceMask(masks, index);
  const { width: sw, height: sh, wordsPerRow, bits } = masks;
  const base = index * sh * wordsPerRow;
  if (base + sh * wordsPerRow > bits.length) throw new Error(`encodeInstanceMaskAt: mask ${index} is outside the bit planes`);
  const bit = (x: number, y: number) => (bits[base + y * wordsPerRow + (x >>> 5)]! >>> (x & 31)) & 1;
  // The source extent: rows and columns with any set bit.
  let sx0 = sw,
    sx1 = -1,
    sy0 = sh,
    sy1 = -1;
  for (let y = 0; y < sh; y++) {
    for (let k = 0; k < wordsPerRow; k++) {
      const w = bits[base + y * wordsPerRow + k]!;
      if (w === 0) continue;
      if (y < sy0) sy0 = y;
      sy1 = y;
      // Lowest and highest set bit of the word.
      sx0 = Math.min(sx0, k * 32 + 31 - Math.clz32(w & -w));
      sx1 = Math.max(sx1, k * 32 + 31 - Math.clz32(w));
    }
  }
  // rowStart[r]: the first output row sampling source row r or below (the mapping is monotone).
  const rowStart = new Int32Array(sh + 1).fill(height);
  for (let y = height - 1; y >= 0; y--) rowStart[Math.min(Math.floor(((y + 0.5) * sh) / height), sh - 1)] = y;
  for (let r = sh - 1; r >= 0; r--) rowStart[r] = Math.min(rowStart[r]!, rowStart[r + 1]!);
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  const push = (v: number, length: number) => {
    if (length === 0) return;
    if (v !== current) {
      counts.push(run);
      run = 0;
      current = v;
    }
    run += length;
  };
  for (let x = 0; x < width; x++) {
    const src = Math.min(Math.floor(((x + 0.5) * sw) / width), sw - 1);
    if (src < sx0 || src > sx1) {
      push(0, height);
      continue;
    }
    push(0, rowStart[sy0]!);
    for (let r = sy0; r <= sy1; r++) push(bit(src, r), rowStart[r + 1]! - rowStart[r]!);
    push(0, height - rowStart[sy1 + 1]!);
  }
  counts.push(run);
  return { height, width, counts };
}

/** A COCO images file for exported results: the image with its id and size, and the model's categories; no annotations. */
export interface CocoImagesFile {
  images: { id: number; file_name: string; width: number; height: number }[];
  categories: { id: number; name: string }[];
  annotations: [];
}

export function cocoImagesFile(
  image: ExportImageInfo & { width: number; height: number },
  manifest: Pick<ModelManifest, 'categoryIds' | 'classes'>,
): CocoImagesFile {
  const size = image.original ?? image;
  return {
    images: [{ id: image.imageId, file_name: image.fileName, width: size.width, height: size.height }],
    categories: manifest.classes.map((name, i) => ({ id: categoryIdOf(manifest, i), name })),
    annotations: [],
  };
}

/** The JSON text of a results file (one entry a line, readable in a diff). */
export function cocoResultsJson(entries: CocoResultEntry[]): string {
  return '[\n' + entries.map((e) => JSON.stringify(e)).join(',\n') + '\n]\n';
}

function xyxyToXywh(box: [number, number, number, number]): XywhBox {
  return [box[0], box[1], box[2] - box[0], box[3] - box[1]];
}

function clamp(v: number, max: number): number {
  return Math.max(0, Math.min(max, v));
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
