import type { StageTimings } from '../types';

/** Stages shown per pane, in pipeline order, with short labels. */
export const STAGES: { key: keyof Omit<StageTimings, 'source'>; label: string }[] = [
  { key: 'upload', label: 'upload' },
  { key: 'preprocess', label: 'preprocess' },
  { key: 'inference', label: 'inference' },
  { key: 'decode', label: 'decode' },
  { key: 'nms', label: 'NMS' },
  { key: 'masks', label: 'masks' },
  { key: 'readback', label: 'read-back' },
  { key: 'draw', label: 'draw' },
];

export function ms(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function fpsText(fps: number): string {
  if (!fps) return '–';
  if (fps >= 10) return fps.toFixed(0);
  return fps >= 1 ? fps.toFixed(1) : fps.toFixed(2);
}

export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A COCO AP figure (−1: undefined, e.g. no ground truth of that kind). */
export function apText(ap: number): string {
  return ap < 0 ? 'n/a' : ap.toFixed(3);
}

/** "4 images", or "1 of 4 images" for an evaluation that was stopped (or lost images). */
export function evaluatedImagesText(e: { images: number; of: number }): string {
  const unit = e.of === 1 ? 'image' : 'images';
  return e.images === e.of ? `${e.images} ${unit}` : `${e.images} of ${e.of} ${unit}`;
}
