/**
 * COCO instance evaluation (mask AP, box AP, Boundary AP) in TypeScript, following
 * shared/MODELS.md §6, which describes what the COCO reference evaluator computes.
 *
 * Stages:
 *  1. group ground truths (GTs) and detections by (image, category); per group, sort the
 *     detections by score (stable) and keep the first maxDets[-1]; compute the IoU matrix
 *     `[D, G]` (mask, box, or min(mask, boundary) IoU; crowd GTs use |D∩G| / |D|);
 *  2. per group and area range: GTs ignored (crowd, or area outside the range) sort last
 *     (stable); for each IoU threshold, each detection in score order takes the best
 *     still-free GT with IoU ≥ threshold (crowd GTs never become "taken"), and stops
 *     looking at ignored GTs once it holds a non-ignored one; a detection matched to an
 *     ignored GT is ignored, and so is an unmatched detection whose area is outside the
 *     range. Matching at maxDets[-1] and truncating to 1 or 10 is the same as matching
 *     at 1 or 10, since a detection's match only depends on higher-scored ones;
 *  3. per (category, area, maxDet): concatenate the groups' detections (images in id
 *     order), stable sort by score, cumulative true/false positives per threshold,
 *     recall = tp / #non-ignored GTs, precision = tp / (tp + fp + eps) made
 *     non-increasing from the right, sampled at the 101 recall points (first index with
 *     recall ≥ r, else 0);
 *  4. the 12 summary numbers = means of the valid (≠ −1) entries of those tables.
 *
 * Floating-point details follow the reference: thresholds are i·step + start like
 * numpy's linspace, a detection matches when IoU ≥ min(t, 1 − 1e−10), equal IoUs go to the
 * later GT, eps = 2⁻⁵².
 */
import { boundaryIouOfBoundaries, boundaryWidth, rleBoundary } from './boundary';
import { boxIou, rleArea, rleIou, type Rle, type XywhBox } from './rle';

export type IouType = 'segm' | 'bbox' | 'boundary';

export interface EvalImage {
  id: number;
  width: number;
  height: number;
  fileName?: string;
}

export interface EvalCategory {
  id: number;
  name: string;
}

/** One ground-truth instance. */
export interface GroundTruth {
  id: number;
  imageId: number;
  categoryId: number;
  /** [x, y, w, h] pixels. */
  bbox: XywhBox;
  /** The annotation's `area` (used for the area ranges, as the reference does). */
  area: number;
  iscrowd: boolean;
  /** Needed for 'segm' and 'boundary'. */
  segmentation?: Rle;
}

/** One detection, as in a COCO results file. */
export interface DetectionResult {
  imageId: number;
  categoryId: number;
  score: number;
  /** [x, y, w, h] pixels. */
  bbox: XywhBox;
  /** Needed for 'segm' and 'boundary'. */
  segmentation?: Rle;
}

export interface AreaRange {
  label: 'all' | 'small' | 'medium' | 'large';
  /** Inclusive bounds in pixels². */
  min: number;
  max: number;
}

export interface EvalParams {
  iouThresholds: number[];
  recallThresholds: number[];
  /** Increasing; the last one is the cap used for matching. */
  maxDets: number[];
  areaRanges: AreaRange[];
}

/** numpy.linspace(start, stop, num): i·step + start, last value exactly stop. */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  out[num - 1] = stop;
  return out;
}

export function defaultParams(): EvalParams {
  return {
    iouThresholds: linspace(0.5, 0.95, 10),
    recallThresholds: linspace(0, 1, 101),
    maxDets: [1, 10, 100],
    areaRanges: [
      { label: 'all', min: 0, max: 1e5 ** 2 },
      { label: 'small', min: 0, max: 32 ** 2 },
      { label: 'medium', min: 32 ** 2, max: 96 ** 2 },
      { label: 'large', min: 96 ** 2, max: 1e5 ** 2 },
    ],
  };
}

/** The 12 standard numbers, in the order COCO prints them. */
export interface EvalSummary {
  ap: number;
  ap50: number;
  ap75: number;
  apSmall: number;
  apMedium: number;
  apLarge: number;
  ar1: number;
  ar10: number;
  ar100: number;
  arSmall: number;
  arMedium: number;
  arLarge: number;
}

export const SUMMARY_KEYS: (keyof EvalSummary)[] = [
  'ap',
  'ap50',
  'ap75',
  'apSmall',
  'apMedium',
  'apLarge',
  'ar1',
  'ar10',
  'ar100',
  'arSmall',
  'arMedium',
  'arLarge',
];

export interface CategoryResult {
  categoryId: number;
  name: string;
  /** −1 where the category has no non-crowd GT. */
  ap: number;
  ap50: number;
  ap75: number;
  numGt: number;
  numDt: number;
}

/** Precision at the 101 recall points (area all, maxDet = last); −1 = undefined. */
export interface PrCurve {
  iou50: number[];
  iou75: number[];
}

export interface EvalResult {
  iouType: IouType;
  params: EvalParams;
  /** The 12 numbers of `SUMMARY_KEYS`, −1 where undefined. */
  stats: number[];
  summary: EvalSummary;
  perCategory: CategoryResult[];
  prCurves: {
    recall: number[];
    /** Mean over categories with a defined curve. */
    mean: PrCurve;
    perCategory: ({ categoryId: number } & PrCurve)[];
  };
  /** `[T, R, K, A, M]` row-major (T thresholds, R recall points, K categories, A areas, M maxDets); −1 = undefined. */
  precision: Float64Array;
  /** `[T, K, A, M]`; −1 = undefined. */
  recall: Float64Array;
  categoryIds: number[];
  numImages: number;
  numGt: number;
  numDt: number;
  /** Detections dropped because their image or category is not in the ground truth. */
  numDtSkipped: number;
  elapsedMs: number;
}

export interface EvalInput {
  images: EvalImage[];
  categories: EvalCategory[];
  gts: GroundTruth[];
  dts: DetectionResult[];
  iouType: IouType;
  params?: EvalParams;
}

/** Matching result of one (image, category, area range). */
interface ImageEval {
  /** Detection scores, sorted descending, `[D]`. */
  scores: Float64Array;
  /** Per threshold: 1 = matched, `[T, D]`. */
  matched: Uint8Array;
  /** Per threshold: 1 = ignored, `[T, D]`. */
  ignored: Uint8Array;
  /** Non-ignored GTs. */
  numPositives: number;
}

const NUMPY_EPS = 2 ** -52;

export function evaluateCoco(input: EvalInput): EvalResult {
  const t0 = now();
  const p = input.params ?? defaultParams();
  const { iouType } = input;
  const T = p.iouThresholds.length;
  const R = p.recallThresholds.length;
  const A = p.areaRanges.length;
  const M = p.maxDets.length;
  const maxDet = p.maxDets[M - 1]!;

  const images = [...input.images].sort((a, b) => a.id - b.id);
  const categories = [...input.categories].sort((a, b) => a.id - b.id);
  const I = images.length;
  const K = categories.length;
  const imageIndex = new Map(images.map((im, i) => [im.id, i]));
  const categoryIndex = new Map(categories.map((c, k) => [c.id, k]));

  // Group by (category, image): key k·I + i.
  const gtGroups = new Map<number, GroundTruth[]>();
  const dtGroups = new Map<number, DetectionResult[]>();
  const numGtPerCat = new Array<number>(K).fill(0);
  const numDtPerCat = new Array<number>(K).fill(0);
  for (const g of input.gts) {
    const i = imageIndex.get(g.imageId);
    const k = categoryIndex.get(g.categoryId);
    if (i === undefined || k === undefined) continue;
    if (iouType !== 'bbox' && !g.segmentation) throw new Error(`GT ${g.id} has no segmentation (iouType ${iouType})`);
    push(gtGroups, k * I + i, g);
    numGtPerCat[k]!++;
  }
  let numDtSkipped = 0;
  for (const d of input.dts) {
    const i = imageIndex.get(d.imageId);
    const k = categoryIndex.get(d.categoryId);
    if (i === undefined || k === undefined) {
      numDtSkipped++;
      continue;
    }
    if (iouType !== 'bbox' && !d.segmentation) throw new Error(`a detection on image ${d.imageId} has no segmentation`);
    push(dtGroups, k * I + i, d);
    numDtPerCat[k]!++;
  }

  // Boundary width per image (from the image size).
  const dilation = images.map((im) => boundaryWidth(im.height, im.width));

  // Stages 1–2: per (category, area, image).
  const evals = new Array<ImageEval | null>(K * A * I).fill(null);
  const keys = new Set<number>([...gtGroups.keys(), ...dtGroups.keys()]);
  for (const key of keys) {
    const k = Math.floor(key / I);
    const i = key - k * I;
    const gts = gtGroups.get(key) ?? [];
    // Stable sort by score, descending; keep maxDet.
    const dts = stableSortByScore(dtGroups.get(key) ?? []).slice(0, maxDet);
    const ious = computeIou(dts, gts, iouType, dilation[i]!);
    const dtAreas = dts.map((d) => (iouType === 'bbox' ? d.bbox[2] * d.bbox[3] : rleArea(d.segmentation!)));
    for (let a = 0; a < A; a++) {
      evals[(k * A + a) * I + i] = matchImage(dts, dtAreas, gts, ious, p.areaRanges[a]!, p.iouThresholds);
    }
  }

  // Stage 3: accumulate.
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const pIdx = (t: number, r: number, k: number, a: number, m: number): number => (((t * R + r) * K + k) * A + a) * M + m;
  const rIdx = (t: number, k: number, a: number, m: number): number => ((t * K + k) * A + a) * M + m;
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < A; a++) {
      const group: ImageEval[] = [];
      for (let i = 0; i < I; i++) {
        const e = evals[(k * A + a) * I + i];
        if (e) group.push(e);
      }
      if (group.length === 0) continue;
      let numPositives = 0;
      for (const e of group) numPositives += e.numPositives;
      if (numPositives === 0) continue;
      for (let m = 0; m < M; m++) {
        const cap = p.maxDets[m]!;
        // Concatenate the first `cap` detections of each image, then stable sort.
        const scores: number[] = [];
        const refs: number[] = []; // (group index, detection index) packed
        const stride = maxDet + 1;
        group.forEach((e, gi) => {
          const n = Math.min(cap, e.scores.length);
          for (let d = 0; d < n; d++) {
            scores.push(e.scores[d]!);
            refs.push(gi * stride + d);
          }
        });
        const order = scores.map((_, j) => j);
        order.sort((x, y) => scores[y]! - scores[x]!);
        const nd = order.length;
        for (let t = 0; t < T; t++) {
          const rc = new Float64Array(nd);
          const pr = new Float64Array(nd);
          let tp = 0;
          let fp = 0;
          for (let j = 0; j < nd; j++) {
            const ref = refs[order[j]!]!;
            const e = group[Math.floor(ref / stride)]!;
            const d = ref % stride;
            const D = e.scores.length;
            if (!e.ignored[t * D + d]) {
              if (e.matched[t * D + d]) tp++;
              else fp++;
            }
            rc[j] = tp / numPositives;
            pr[j] = tp / (fp + tp + NUMPY_EPS);
          }
          recall[rIdx(t, k, a, m)] = nd > 0 ? rc[nd - 1]! : 0;
          for (let j = nd - 1; j > 0; j--) if (pr[j]! > pr[j - 1]!) pr[j - 1] = pr[j]!;
          for (let r = 0; r < R; r++) {
            const j = lowerBound(rc, p.recallThresholds[r]!);
            precision[pIdx(t, r, k, a, m)] = j < nd ? pr[j]! : 0;
          }
        }
      }
    }
  }

  // Stage 4: summaries.
  const aAll = p.areaRanges.findIndex((r) => r.label === 'all');
  const areaIndex = (label: AreaRange['label']): number => p.areaRanges.findIndex((r) => r.label === label);
  const mIndex = (n: number): number => p.maxDets.indexOf(n);
  const tIndex = (thr: number): number => p.iouThresholds.indexOf(thr);
  const meanValid = (values: Iterable<number>): number => {
    let s = 0;
    let n = 0;
    for (const v of values) {
      if (v > -1) {
        s += v;
        n++;
      }
    }
    return n > 0 ? s / n : -1;
  };
  /** Mean of the valid precision entries at (t or all, all r, k or all, a, m). */
  const meanPrecision = (tSel: number | null, kSel: number | null, a: number, m: number): number => {
    if (a < 0 || m < 0 || (tSel !== null && tSel < 0)) return -1;
    let s = 0;
    let n = 0;
    const t0 = tSel ?? 0;
    const t1 = tSel ?? T - 1;
    const k0 = kSel ?? 0;
    const k1 = kSel ?? K - 1;
    for (let t = t0; t <= t1; t++) {
      for (let r = 0; r < R; r++) {
        for (let k = k0; k <= k1; k++) {
          const v = precision[pIdx(t, r, k, a, m)]!;
          if (v > -1) {
            s += v;
            n++;
          }
        }
      }
    }
    return n > 0 ? s / n : -1;
  };
  const meanRecall = (a: number, m: number): number => {
    if (a < 0 || m < 0) return -1;
    const values: number[] = [];
    for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) values.push(recall[rIdx(t, k, a, m)]!);
    return meanValid(values);
  };
  const mLast = M - 1;
  const t50 = tIndex(0.5);
  const t75 = tIndex(0.75);
  const ap = (tSel: number | null, a: number, k: number | null = null): number => meanPrecision(tSel, k, a, mLast);
  const summary: EvalSummary = {
    ap: ap(null, aAll),
    ap50: ap(t50, aAll),
    ap75: ap(t75, aAll),
    apSmall: ap(null, areaIndex('small')),
    apMedium: ap(null, areaIndex('medium')),
    apLarge: ap(null, areaIndex('large')),
    ar1: meanRecall(aAll, mIndex(1)),
    ar10: meanRecall(aAll, mIndex(10)),
    ar100: meanRecall(aAll, mIndex(100)),
    arSmall: meanRecall(areaIndex('small'), mLast),
    arMedium: meanRecall(areaIndex('medium'), mLast),
    arLarge: meanRecall(areaIndex('large'), mLast),
  };

  const curve = (t: number, k: number): number[] => {
    const out: number[] = [];
    for (let r = 0; r < R; r++) out.push(t < 0 || aAll < 0 ? -1 : precision[pIdx(t, r, k, aAll, mLast)]!);
    return out;
  };
  const perCategoryCurves = categories.map((c, k) => ({ categoryId: c.id, iou50: curve(t50, k), iou75: curve(t75, k) }));
  const meanCurve = (sel: 'iou50' | 'iou75'): number[] => p.recallThresholds.map((_, r) => meanValid(perCategoryCurves.map((c) => c[sel][r]!)));

  return {
    iouType,
    params: p,
    stats: SUMMARY_KEYS.map((key) => summary[key]),
    summary,
    perCategory: categories.map((c, k) => ({
      categoryId: c.id,
      name: c.name,
      ap: ap(null, aAll, k),
      ap50: ap(t50, aAll, k),
      ap75: ap(t75, aAll, k),
      numGt: numGtPerCat[k]!,
      numDt: numDtPerCat[k]!,
    })),
    prCurves: {
      recall: p.recallThresholds.slice(),
      mean: { iou50: meanCurve('iou50'), iou75: meanCurve('iou75') },
      perCategory: perCategoryCurves,
    },
    precision,
    recall,
    categoryIds: categories.map((c) => c.id),
    numImages: I,
    numGt: numGtPerCat.reduce((s, n) => s + n, 0),
    numDt: numDtPerCat.reduce((s, n) => s + n, 0),
    numDtSkipped,
    elapsedMs: now() - t0,
  };
}

/** IoU matrix `[D, G]` of one (image, category) group. */
function computeIou(dts: DetectionResult[], gts: GroundTruth[], iouType: IouType, d: number): Float64Array {
  const crowd = gts.map((g) => g.iscrowd);
  if (dts.length === 0 || gts.length === 0) return new Float64Array(0);
  if (iouType === 'bbox')
    return boxIou(
      dts.map((x) => x.bbox),
      gts.map((g) => g.bbox),
      crowd,
    );
  const dMasks = dts.map((x) => x.segmentation!);
  const gMasks = gts.map((g) => g.segmentation!);
  const maskIou = rleIou(dMasks, gMasks, crowd);
  if (iouType === 'segm') return maskIou;
  // Boundary: min(mask IoU, boundary IoU) for non-crowd GTs; boundaries computed only
  // where the mask IoU is non-zero (otherwise the minimum is 0 anyway).
  const G = gts.length;
  const dBoundary = new Array<Rle | undefined>(dts.length);
  const gBoundary = new Array<Rle | undefined>(G);
  for (let di = 0; di < dts.length; di++) {
    for (let g = 0; g < G; g++) {
      const m = maskIou[di * G + g]!;
      if (crowd[g] || m === 0) continue;
      const db = (dBoundary[di] ??= rleBoundary(dMasks[di]!, d));
      const gb = (gBoundary[g] ??= rleBoundary(gMasks[g]!, d));
      maskIou[di * G + g] = Math.min(m, boundaryIouOfBoundaries(db, gb));
    }
  }
  return maskIou;
}

/** Stage 2 for one (image, category, area range). */
function matchImage(dts: DetectionResult[], dtAreas: number[], gtsIn: GroundTruth[], iousIn: Float64Array, range: AreaRange, thresholds: number[]): ImageEval {
  const T = thresholds.length;
  const D = dts.length;
  const G = gtsIn.length;
  const outside = (area: number): boolean => area < range.min || area > range.max;
  // Ignored GTs last, stable.
  const gtIgnoreIn = gtsIn.map((g) => g.iscrowd || outside(g.area));
  const gtOrder = gtsIn.map((_, j) => j);
  gtOrder.sort((x, y) => Number(gtIgnoreIn[x]) - Number(gtIgnoreIn[y]));
  const gtIgnore = gtOrder.map((j) => gtIgnoreIn[j]!);
  const crowd = gtOrder.map((j) => gtsIn[j]!.iscrowd);
  let numPositives = 0;
  for (const ig of gtIgnore) if (!ig) numPositives++;

  const matched = new Uint8Array(T * D);
  const ignored = new Uint8Array(T * D);
  if (D > 0 && G > 0) {
    const gtTaken = new Uint8Array(G);
    for (let t = 0; t < T; t++) {
      gtTaken.fill(0);
      const thr = Math.min(thresholds[t]!, 1 - 1e-10);
      for (let d = 0; d < D; d++) {
        let best = thr;
        let m = -1;
        for (let g = 0; g < G; g++) {
          if (gtTaken[g] && !crowd[g]) continue;
          // Holding a non-ignored GT: never trade it for an ignored one.
          if (m > -1 && !gtIgnore[m] && gtIgnore[g]) break;
          const iou = iousIn[d * G + gtOrder[g]!]!;
          if (iou < best) continue;
          best = iou;
          m = g;
        }
        if (m === -1) continue;
        matched[t * D + d] = 1;
        ignored[t * D + d] = gtIgnore[m] ? 1 : 0;
        gtTaken[m] = 1;
      }
    }
  }
  // Unmatched detections outside the area range are ignored.
  for (let d = 0; d < D; d++) {
    if (!outside(dtAreas[d]!)) continue;
    for (let t = 0; t < T; t++) if (!matched[t * D + d]) ignored[t * D + d] = 1;
  }
  return { scores: Float64Array.from(dts, (x) => x.score), matched, ignored, numPositives };
}

function stableSortByScore<T extends { score: number }>(items: T[]): T[] {
  // Array.prototype.sort is stable (ES2019).
  return [...items].sort((a, b) => b.score - a.score);
}

/** First index j with values[j] ≥ x (numpy searchsorted, side 'left'); values non-decreasing. */
function lowerBound(values: Float64Array, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** The summary as the reference prints it (12 lines). */
export function formatSummary(result: EvalResult): string {
  const rows: [string, string, string, string][] = [
    ['Average Precision', '0.50:0.95', 'all', '100'],
    ['Average Precision', '0.50', 'all', '100'],
    ['Average Precision', '0.75', 'all', '100'],
    ['Average Precision', '0.50:0.95', 'small', '100'],
    ['Average Precision', '0.50:0.95', 'medium', '100'],
    ['Average Precision', '0.50:0.95', 'large', '100'],
    ['Average Recall', '0.50:0.95', 'all', '1'],
    ['Average Recall', '0.50:0.95', 'all', '10'],
    ['Average Recall', '0.50:0.95', 'all', '100'],
    ['Average Recall', '0.50:0.95', 'small', '100'],
    ['Average Recall', '0.50:0.95', 'medium', '100'],
    ['Average Recall', '0.50:0.95', 'large', '100'],
  ];
  return rows
    .map(([name, iou, area, md], j) => {
      const short = name === 'Average Precision' ? '(AP)' : '(AR)';
      return ` ${name.padEnd(18)} ${short} @[ IoU=${iou.padEnd(9)} | area=${area.padStart(6)} | maxDets=${md.padStart(3)} ] = ${result.stats[j]!.toFixed(3)}`;
    })
    .join('\n');
}
