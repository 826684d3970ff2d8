/**
 * Summaries of repeated measurements: every figure of the benchmark is a median with its
 * spread (quartiles and extremes) over R repetitions, warm-up runs excluded by the caller.
 */

export interface Summary {
  median: number;
  /** First and third quartiles (linear interpolation between order statistics). */
  q1: number;
  q3: number;
  min: number;
  max: number;
  n: number;
}

/** Quantile q ∈ [0, 1] of sorted values, interpolating linearly between neighbours. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return {
    median: quantileSorted(sorted, 0.5),
    q1: quantileSorted(sorted, 0.25),
    q3: quantileSorted(sorted, 0.75),
    min: sorted.length ? sorted[0]! : NaN,
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    n: sorted.length,
  };
}

/** Per-key summaries of a list of records of numbers (keys missing from a record are skipped). */
export function summarizeKeys(rows: readonly Record<string, number | undefined>[]): Record<string, Summary> {
  const keys = new Set(rows.flatMap((r) => Object.keys(r)));
  const out: Record<string, Summary> = {};
  for (const k of keys) {
    const values = rows.map((r) => r[k]).filter((v): v is number => typeof v === 'number');
    if (values.length > 0) out[k] = summarize(values);
  }
  return out;
}

export { seededRandom } from '../util/random';
