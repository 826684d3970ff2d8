/**
 * Reference of shaders/detection_cap.wgsl — the cross-class cap: flatten the kept
 * (class, score, box, prior) of every class, sort by score descending (ties: lower class
 * first, then lower prior index), drop scores below `scoreThreshold` (the display
 * threshold; 0 keeps all), keep the first `maxDetections`. maskArea is 0 (maskUpsample
 * fills it).
 */
import type { DecodedRecord } from '../gpu/layout';

export function detectionCapReference(
  boxes: ArrayLike<number>,
  topIndices: number[][],
  topScores: number[][],
  keep: boolean[][],
  maxDetections: number,
  scoreThreshold: number,
): DecodedRecord[] {
  const threshold = Math.fround(scoreThreshold);
  const flat: Array<{ c: number; s: number; p: number }> = [];
  topIndices.forEach((idx, c) =>
    idx.forEach((p, i) => {
      const s = topScores[c]![i]!;
      if (keep[c]![i] && s >= threshold) flat.push({ c, s, p });
    }),
  );
  flat.sort((a, b) => (a.s !== b.s ? b.s - a.s : a.c !== b.c ? a.c - b.c : a.p - b.p));
  return flat.slice(0, maxDetections).map(({ c, s, p }) => ({
    box: [boxes[4 * p]!, boxes[4 * p + 1]!, boxes[4 * p + 2]!, boxes[4 * p + 3]!],
    score: s,
    classIndex: c,
    sourceIndex: p,
    maskArea: 0,
  }));
}
