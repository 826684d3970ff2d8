/**
 * Exports of a pane's last result, each taken with the frame that result was computed on
 * (PaneState.resultFrame): COCO results JSON (through app/eval/cocoExport.ts, boxes and
 * masks in the original image's pixels), the COCO images file that gives its image_id a
 * meaning, and a PNG of the frame with the overlay, boxes and labels as the pane shows them
 * (mask opacity, box and label toggles) at the frame's working resolution: when that is a
 * downscaled copy of the image, the file name says so.
 */
import type { FrameResult, InstanceMasks, ModelManifest } from '../types';
import type { PaneState, ResultFrame } from '../state/store';
import { classColorCss } from './palette';

import { cocoImagesFile, cocoResultsJson, frameToCocoResults, type ExportImageInfo } from '../eval/cocoExport';

/** The image an export describes: its name and id in the COCO files, its original size. */
export interface ExportImage extends ExportImageInfo {
  /** The working frame's size (the result's coordinates). */
  width: number;
  height: number;
  /** The id comes from a dataset (the samples, a dropped ground truth): no images file is needed. */
  fromDataset: boolean;
}

/** How an exported frame is named in the COCO files: an image's file name; a stream's frame by its id (`webcam-frame-<id>.png`). */
export function exportFileName(frame: Pick<ResultFrame, 'kind' | 'name' | 'id'>): string {
  if (frame.kind === 'image') return frame.name;
  const stream = frame.kind === 'webcam' ? 'webcam' : frame.name.replace(/\.[^./\\]*$/, '');
  return `${stream}-frame-${frame.id}.png`;
}

/** `segarena-<image or frame>-<model>`: the start of every export's file name. */
export function exportBaseName(imageFileName: string, modelId: string): string {
  const stem =
    imageFileName
      .replace(/\.[^./\\]*$/, '')
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .slice(0, 80) || 'image';
  return `segarena-${stem}-${modelId.replace(/[^A-Za-z0-9._-]+/g, '_')}`;
}

/** The PNG's name: the working size in it when that is not the original's. */
export function pngFileName(image: ExportImage, modelId: string): string {
  const base = exportBaseName(image.fileName, modelId);
  return image.original ? `${base}-downscaled-${image.width}x${image.height}.png` : `${base}.png`;
}

export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function exportCocoJson(result: FrameResult, masks: InstanceMasks | null, manifest: ModelManifest, image: ExportImage): string {
  if (!masks) throw new Error('the masks of this result are not available');
  return cocoResultsJson(frameToCocoResults(result, masks, manifest, image));
}

/** The COCO images file for an image no dataset names (pycocotools' loadRes needs its ids). */
export function exportImagesJson(image: ExportImage, manifest: ModelManifest): string {
  return JSON.stringify(cocoImagesFile(image, manifest), null, 1) + '\n';
}

export async function exportPng(frame: ImageBitmap, pane: PaneState, manifest: ModelManifest, overlay: ImageBitmap | null): Promise<Blob> {
  const result = pane.result!;
  const { imageWidth: w, imageHeight: h } = result;
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(frame, 0, 0, w, h);
  if (overlay) {
    ctx.globalAlpha = pane.maskOpacity ?? 1;
    ctx.drawImage(overlay, 0, 0, w, h);
    ctx.globalAlpha = 1;
  }
  const line = Math.max(1.5, Math.round(Math.max(w, h) / 400));
  const font = Math.max(11, Math.round(Math.max(w, h) / 55));
  ctx.font = `600 ${font}px system-ui, sans-serif`;
  ctx.textBaseline = 'top';
  result.detections.forEach((d) => {
    if (pane.hiddenClasses.includes(d.classIndex)) return;
    const [x1, y1, x2, y2] = d.box;
    if (!pane.hideBoxes) {
      ctx.strokeStyle = classColorCss(d.classIndex);
      ctx.lineWidth = line;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    }
    if (pane.hideLabels) return;
    const label = `${manifest.classes[d.classIndex] ?? d.classIndex} ${d.score.toFixed(2)}`;
    const tw = ctx.measureText(label).width + 6;
    const ty = y1 - font - 4 >= 0 ? y1 - font - 4 : y1;
    ctx.fillStyle = classColorCss(d.classIndex, 0.85);
    ctx.fillRect(x1, ty, tw, font + 4);
    ctx.fillStyle = '#0b0d10';
    ctx.fillText(label, x1 + 3, ty + 2);
  });
  return canvas.convertToBlob({ type: 'image/png' });
}
