/**
 * Reference of shaders/mask_rescore.wgsl — a mask-scoring head's quality q folded into the
 * detection scores. Record n (row n of the mask head's batch) scores, by `quality`:
 *
 *   'none'         score_n (unchanged; q unread)
 *   'perClass'     score_n · q[n·K + classIndex_n]  (CenterMask: the MaskIoU head's [M, K])
 *   'sqrtPair'     score_n · sqrt(max(0, q[2n] · q[2n+1]))  (B2Inst: the scoring head's
 *                  [M, 2] = (S_IoU, S_boundary), its reported s_cls · sqrt(S_IoU · S_boundary))
 *   'productPair'  score_n · q[2n] · q[2n+1]
 *
 * rounded to f32 at each step as the WGSL computes it (products left to right; the sqrt
 * rounded once). The records are re-sorted by that score (descending, ties: the earlier
 * record first), those below `scoreThreshold` dropped; each keeps its mask-head row n in
 * sourceIndex (the paste reads its logits there) and maskArea 0.
 */
import type { DecodedRecord } from '../gpu/layout';

/** How record n's quality scores combine with its score (mask_rescore.wgsl's `mode`). */
export type MaskRescoreQuality = 'none' | 'perClass' | 'sqrtPair' | 'productPair';

/** Row length of q for a mode: K for 'perClass', 2 for the pair modes, 0 for 'none'. */
export function qualityRowLength(quality: MaskRescoreQuality, numClasses: number): number {
  return quality === 'perClass' ? numClasses : quality === 'none' ? 0 : 2;
}

/** Record n's rescored score, in f32 as mask_rescore.wgsl's `rescored` computes it. */
export function rescoredScore(record: DecodedRecord, n: number, q: Float32Array, numClasses: number, quality: MaskRescoreQuality): number {
  const f = Math.fround;
  const score = f(record.score);
  switch (quality) {
    case 'perClass':
      return f(score * q[n * numClasses + record.classIndex]!);
    case 'sqrtPair':
      return f(score * f(Math.sqrt(Math.max(0, f(q[2 * n]! * q[2 * n + 1]!)))));
    case 'productPair':
      return f(f(score * q[2 * n]!) * q[2 * n + 1]!);
    case 'none':
      return score;
  }
}

/**
 * @param records the cap's records (the mask head's rows, in order)
 * @param q the scoring head's output, f32: [≥ records.length, K] for 'perClass',
 *   [≥ records.length, 2] for 'sqrtPair' / 'productPair', unread for 'none'
 */
export function maskRescoreReference(
  records: readonly DecodedRecord[],
  q: Float32Array,
  numClasses: number,
  quality: MaskRescoreQuality,
  scoreThreshold: number,
): DecodedRecord[] {
  const threshold = Math.fround(scoreThreshold);
  const rescored = records.map((r, n) => ({ record: r, n, score: rescoredScore(r, n, q, numClasses, quality) }));
  return rescored
    .filter((e) => e.score >= threshold)
    .sort((a, b) => (a.score !== b.score ? b.score - a.score : a.n - b.n))
    .map(({ record, n, score }) => ({ box: [...record.box], score, classIndex: record.classIndex, sourceIndex: n, maskArea: 0 }));
}
