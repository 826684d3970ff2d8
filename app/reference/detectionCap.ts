/**
 * Reference of shaders/detection_cap.wgsl — the cross-class cap: flatten the kept
 * (class, score, box, prior) of every class, sort by score descending (ties: lower class
 * first, then lower prior index), drop scores below `scoreThreshold` (the display
 * threshold; 0 keeps all), keep the first `maxDetections`. maskArea is 0 (maskUpsample
 * fills it).
 * Class-specific boxes (Mask R-CNN): with `boxClassStride` S > 0 the box of (class c, prior p)
 * is row c·S + p of `boxes`; sourceIndex stays p.
 */
import type { DecodedRecord } from '../gpu/layout';

export function detectionCapReference(
  boxes: ArrayLike<number>,
  topIndices: number[][],
  topScores: number[][],
  keep: boolean[][],
  maxDetections: number,
  scoreThreshold: number,
  boxClassStride = 0,
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
  return flat.slice(0, maxDetections).map(({ c, s, p }) => {
    const b = 4 * (c * boxClassStride + p);
    return {
      box: [boxes[b]!, boxes[b + 1]!, boxes[b + 2]!, boxes[b + 3]!] as [number, number, number, number],
      score: s,
      classIndex: c,
      sourceIndex: p,
      maskArea: 0,
    };
  });
}
