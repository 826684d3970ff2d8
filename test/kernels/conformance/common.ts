/**
 * Shared bits of the kernel conformance suites. A suite is `(device) => Promise<CaseResult[]>`
 * with no test-runner imports, so the same cases run under Vitest + Dawn (the `.test.ts`
 * files) and in a browser page on the real adapter.
 */

export interface CaseResult {
  kernel: string;
  name: string;
  pass: boolean;
  /** Why it failed, or a short note (sizes, counts). */
  detail: string;
  /** Largest |kernel − expected| over float outputs, when the case has any. */
  maxAbsError?: number;
  /** Wall time of the GPU work of the case (submit → read-back), ms. */
  ms?: number;
}

export type ConformanceSuite = (device: GPUDevice) => Promise<CaseResult[]>;

const kernelCache = new WeakMap<GPUDevice, Map<string, unknown>>();

/**
 * One kernel object per (device, name) for a whole suite: creating a pipeline compiles the
 * shader (seconds on a busy software adapter), so cases share it. Never destroyed here:
 * the device's destruction frees it.
 */
export function sharedKernel<K>(device: GPUDevice, name: string, create: (device: GPUDevice) => K): K {
  let byName = kernelCache.get(device);
  if (!byName) kernelCache.set(device, (byName = new Map<string, unknown>()));
  if (!byName.has(name)) byName.set(name, create(device));
  return byName.get(name) as K;
}

export { seededRandom as rng } from '../../../app/util/random';

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** First index where integer sequences differ, or -1. */
export function firstMismatch(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/**
 * Runs the named case bodies one after another, each in its own validation error scope; a
 * thrown error or a validation error fails only its case.
 */
export async function runCases(
  kernel: string,
  device: GPUDevice,
  cases: Array<[string, () => Promise<Omit<CaseResult, 'kernel' | 'name'>>]>,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const [name, body] of cases) {
    device.pushErrorScope('validation');
    try {
      const result = await body();
      const error = await device.popErrorScope();
      if (error) results.push({ kernel, name, pass: false, detail: `WebGPU validation error: ${error.message}` });
      else results.push({ kernel, name, ...result });
    } catch (e) {
      const error = await device.popErrorScope();
      const validation = error ? ` (WebGPU validation error: ${error.message})` : '';
      const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
      results.push({ kernel, name, pass: false, detail: `threw: ${message}${validation}` });
    }
  }
  return results;
}

export function formatResults(results: CaseResult[]): string {
  return results
    .map((r) => {
      const err = r.maxAbsError === undefined ? '' : ` maxAbsErr=${r.maxAbsError.toExponential(2)}`;
      const ms = r.ms === undefined ? '' : ` ${r.ms.toFixed(1)} ms`;
      return `${r.pass ? 'PASS' : 'FAIL'} ${r.kernel} / ${r.name}${err}${ms} — ${r.detail}`;
    })
    .join('\n');
}
