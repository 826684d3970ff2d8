/**
 * Browser conformance: test/kernels/kernel-tests.html (served by the dev server only, never
 * built into dist/) runs every kernel's conformance suite (and the
 * YOLACT family's GPU-vs-reference suite) on Chromium's own WebGPU device and writes a
 * JSON summary into <pre id="results">; every case must pass. On SwiftShader this takes a
 * few minutes (compiling ~15 pipelines and the 19248-prior cases), hence the long timeout.
 */
import { expect, test } from '@playwright/test';

interface Summary {
  adapter: { architecture: string; isFallbackAdapter: boolean } | null;
  suites: string[];
  total: number;
  passed: number;
  failed: number;
  ms: number;
  error?: string;
  results: Array<{ kernel: string; name: string; pass: boolean; detail: string; maxAbsError?: number }>;
}

/** Suites that must be on the page (the mask side and the family; the box side adds more). */
const REQUIRED_SUITES = [
  'preprocessConformance',
  'yolactDecodeConformance',
  'classTopKConformance',
  'fastNmsConformance',
  'greedyNmsConformance',
  'detectionCapConformance',
  'maskCoefficientsConformance',
  'maskUpsampleConformance',
  'composeOverlayConformance',
  'yolactFamilyConformance',
  'yoloSegDecodeConformance',
  'yoloSegTrimTopKConformance',
  'yoloSegEndToEndConformance',
  // Mask R-CNN: RPN, RoI pooling, detection stage, paste; public exports
  'rpnDecodeConformance',
  'rpnTopNConformance',
  'rpnProposalNmsConformance',
  'roiAlignConformance',
  'roiPoolConformance',
  'rpnStageConformance',
  'rpnTorchvisionConformance',
  'maskRcnnBoxDecodeConformance',
  'maskPasteConformance',
  'exportedRecordsConformance',
  'pastedMaskBitsConformance',
];

test('every conformance case passes on the browser’s WebGPU device', async ({ page }) => {
  test.setTimeout(900_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/test/kernels/kernel-tests.html');
  const results = page.locator('#results');
  await expect(results).toHaveAttribute('data-state', /^(done|error)$/, { timeout: 870_000 });
  const summary = JSON.parse((await results.textContent()) ?? '{}') as Summary;

  const failed = summary.results.filter((r) => !r.pass);
  console.log(
    `kernel conformance on ${summary.adapter?.architecture ?? '?'}: ${summary.passed}/${summary.total} passed in ` +
      `${(summary.ms / 1000).toFixed(1)} s; suites: ${summary.suites.join(', ')}`,
  );
  for (const r of failed) console.log(`FAIL ${r.kernel} / ${r.name}: ${r.detail}`);

  expect(summary.error).toBeUndefined();
  expect(pageErrors).toEqual([]);
  expect(summary.adapter).not.toBeNull();
  for (const suite of REQUIRED_SUITES) expect(summary.suites).toContain(suite);
  expect(summary.total).toBeGreaterThanOrEqual(30);
  expect(failed.map((r) => `${r.kernel} / ${r.name}: ${r.detail}`)).toEqual([]);
  expect(summary.passed).toBe(summary.total);
});
