/**
 * Reference of shaders/mask_rescore.wgsl — CenterMask's mask scoring: record n (row n of the
 * mask head's batch) scores score_n · maskIou[n, classIndex_n] (f32), or keeps its score when
 * `useMaskIou` is false; the records are re-sorted by that score (descending, ties: the
 * earlier record first), those below `scoreThreshold` dropped; each keeps its mask-head row n
 * in sourceIndex (the paste reads its logits there) and maskArea 0.
 */
import type { DecodedRecord } from '../gpu/layout';

/**
 * @param records the cap's records (the mask head's rows, in order)
 * @param maskIou [≥ records.length, K] f32: the MaskIoU head's output
 */
export function maskRescoreReference(
  records: readonly DecodedRecord[],
  maskIou: Float32Array,
  numClasses: number,
  useMaskIou: boolean,
  scoreThreshold: number,
): DecodedRecord[] {
  const threshold = Math.fround(scoreThreshold);
  const rescored = records.map((r, n) => ({
    record: r,
    n,
    score: useMaskIou ? Math.fround(r.score * maskIou[n * numClasses + r.classIndex]!) : r.score,
  }));
  return rescored
    .filter((e) => e.score >= threshold)
    .sort((a, b) => (a.score !== b.score ? b.score - a.score : a.n - b.n))
    .map(({ record, n, score }) => ({ box: [...record.box], score, classIndex: record.classIndex, sourceIndex: n, maskArea: 0 }));
}
