/**
 * The browser conformance page (kernel-tests.html): runs every conformance suite of
 * test/kernels/conformance/ (every exported `…Conformance(device)` function), the YOLACT
 * family suite of test/families/conformance.ts and every `…FamilyConformance()` factory of
 * test/families/<family>/conformance.ts, on the page's own WebGPU device; lists the
 * cases, and writes a JSON summary into `<pre id="results">` (`data-state` = `done` |
 * `error` when finished). e2e/kernels.spec.ts reads it.
 *
 * URL parameters: `?only=maskUpsample,composeOverlay` runs the suites whose name contains
 * one of the words; `?light=1` skips the YOLACT-550-sized family case.
 */
import { acquireGpuDevice } from '../../app/gpu/device';
import type { CaseResult, ConformanceSuite } from './conformance/common';
import { yolactFamilyConformance } from '../families/conformance';

export interface ConformanceSummary {
  adapter: { architecture: string; description: string; isFallbackAdapter: boolean } | null;
  suites: string[];
  total: number;
  passed: number;
  failed: number;
  ms: number;
  results: CaseResult[];
  error?: string;
}

const suiteModules = import.meta.glob<Record<string, unknown>>('./conformance/*.ts');
const familyModules = import.meta.glob<Record<string, unknown>>('../families/*/conformance.ts');

/** Suites made by the `…FamilyConformance()` factories of the family folders. */
async function familySuites(light: boolean): Promise<Array<[string, ConformanceSuite]>> {
  const suites: Array<[string, ConformanceSuite]> = [];
  for (const path of Object.keys(familyModules).sort()) {
    const mod = await familyModules[path]!();
    for (const [name, value] of Object.entries(mod)) {
      if (!name.endsWith('FamilyConformance') || typeof value !== 'function') continue;
      const suite: unknown = (value as (heavy?: boolean) => unknown)(!light);
      if (typeof suite === 'function') suites.push([name, suite as ConformanceSuite]);
    }
  }
  return suites;
}

/** All `…Conformance` exports of the kernel conformance modules, by name. */
async function kernelSuites(): Promise<Array<[string, ConformanceSuite]>> {
  const suites: Array<[string, ConformanceSuite]> = [];
  for (const path of Object.keys(suiteModules).sort()) {
    const mod = await suiteModules[path]!();
    for (const [name, value] of Object.entries(mod)) {
      if (name.endsWith('Conformance') && typeof value === 'function') suites.push([name, value as ConformanceSuite]);
    }
  }
  return suites;
}

function show(result: CaseResult): void {
  const li = document.createElement('li');
  li.className = result.pass ? 'pass' : 'fail';
  li.dataset.kernel = result.kernel;
  li.textContent =
    `${result.pass ? 'PASS' : 'FAIL'} ${result.kernel} / ${result.name}` +
    (result.maxAbsError === undefined ? '' : ` (max abs error ${result.maxAbsError.toExponential(2)})`) +
    ` — ${result.detail}`;
  document.getElementById('cases')!.append(li);
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const only = (params.get('only') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const light = params.get('light') === '1';
  const status = document.getElementById('status')!;
  const pre = document.getElementById('results')!;
  const t0 = performance.now();
  const summary: ConformanceSummary = { adapter: null, suites: [], total: 0, passed: 0, failed: 0, ms: 0, results: [] };
  const finish = (state: 'done' | 'error') => {
    summary.total = summary.results.length;
    summary.passed = summary.results.filter((r) => r.pass).length;
    summary.failed = summary.total - summary.passed;
    summary.ms = performance.now() - t0;
    pre.textContent = JSON.stringify(summary, null, 2);
    pre.dataset.state = state;
    status.dataset.state = state;
    status.textContent =
      state === 'error' ? `error: ${summary.error}` : `${summary.passed} / ${summary.total} cases passed in ${(summary.ms / 1000).toFixed(1)} s`;
  };
  try {
    const gpu = await acquireGpuDevice();
    summary.adapter = {
      architecture: gpu.adapter.architecture,
      description: gpu.adapter.description,
      isFallbackAdapter: gpu.adapter.isFallbackAdapter,
    };
    const suites: Array<[string, ConformanceSuite]> = [
      ...(await kernelSuites()),
      ['yolactFamilyConformance', yolactFamilyConformance(!light)],
      ...(await familySuites(light)),
    ];
    for (const [name, suite] of suites) {
      if (only.length && !only.some((o) => name.toLowerCase().includes(o.toLowerCase()))) continue;
      status.textContent = `running ${name}…`;
      let results: CaseResult[];
      try {
        const out: unknown = await suite(gpu.device);
        // A `…Conformance` export that returns a function is a suite factory (e.g.
        // nmsConformance(kind)); its suites are exported under their own names.
        if (typeof out === 'function') continue;
        results = Array.isArray(out) ? (out as CaseResult[]) : [{ kernel: name, name: 'suite', pass: false, detail: 'did not return a list of cases' }];
      } catch (e) {
        results = [{ kernel: name, name: 'suite', pass: false, detail: `threw: ${e instanceof Error ? e.message : String(e)}` }];
      }
      summary.suites.push(name);
      for (const r of results) show(r);
      summary.results.push(...results);
      pre.textContent = JSON.stringify({ ...summary, running: name }, null, 2);
    }
    finish('done');
  } catch (e) {
    summary.error = e instanceof Error ? e.message : String(e);
    finish('error');
  }
}

void main();
