/**
 * Exports of a pane's last result: COCO results JSON (through app/eval/cocoExport.ts) and
 * a PNG of the frame with the overlay, boxes and labels at the frame's own resolution.
 */
import type { FrameResult, InstanceMasks, ModelManifest } from '../types';
import type { PaneState } from '../state/store';
import { classColorCss } from './palette';

import { cocoResultsJson, frameToCocoResults } from '../eval/cocoExport';

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

export async function exportCocoJson(
  result: FrameResult,
  masks: InstanceMasks | null,
  manifest: ModelManifest,
  fileName: string,
  imageId?: number,
): Promise<string> {
  if (!masks) throw new Error('the masks of this result are not available');
  return cocoResultsJson(frameToCocoResults(result, masks, manifest, imageId === undefined ? { fileName } : { fileName, imageId }));
}

export async function exportPng(frame: ImageBitmap, pane: PaneState, manifest: ModelManifest, overlay: ImageBitmap | null): Promise<Blob> {
  const result = pane.result!;
  const { imageWidth: w, imageHeight: h } = result;
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(frame, 0, 0, w, h);
  if (overlay) ctx.drawImage(overlay, 0, 0, w, h);
  const line = Math.max(1.5, Math.round(Math.max(w, h) / 400));
  const font = Math.max(11, Math.round(Math.max(w, h) / 55));
  ctx.font = `600 ${font}px system-ui, sans-serif`;
  ctx.textBaseline = 'top';
  result.detections.forEach((d) => {
    if (pane.hiddenClasses.includes(d.classIndex)) return;
    const [x1, y1, x2, y2] = d.box;
    ctx.strokeStyle = classColorCss(d.classIndex);
    ctx.lineWidth = line;
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
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
