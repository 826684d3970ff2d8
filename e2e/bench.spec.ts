import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { FIXTURE_PATHS } from './paths';
import { PEER_DIR, planFor, runBench } from '../bench/run';

/**
 * `npm run bench -- --smoke` end to end, in the suite: bench.html in this browser, one
 * synthetic frame through the smallest bundled model, every part of the benchmark at its
 * tiniest, the report and JSON written. No timing thresholds: it checks that the parts ran,
 * that the paths agree, and figures that do not depend on speed (bytes, instance counts),
 * against values computed here from the model layouts.
 */

/** YOLACT raw outputs at input side S with C classes: loc, conf, mask, priors [N, …] + proto. */
function yolactRawBytes(side: number, classes: number): number {
  const levels: number[] = [Math.ceil(Math.ceil(Math.ceil(side / 2) / 2) / 2)];
  for (let l = 1; l < 5; l++) levels.push(Math.ceil(levels[l - 1]! / 2));
  const priors = 3 * levels.reduce((s, v) => s + v * v, 0);
  const protoSide = 2 * levels[0]!;
  return 4 * (priors * (4 + (classes + 1) + 32 + 4) + protoSide * protoSide * 32);
}

test('npm run bench -- --smoke: every part runs and writes its report', async ({ page, baseURL }) => {
  test.setTimeout(240_000);
  const outDir = path.join(FIXTURE_PATHS.root, 'bench-smoke');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const plan = planFor('smoke');
  const { results, files } = await runBench(page, baseURL!, plan, { outDir, chart: true, log: () => undefined });

  // 1. the app's runner: every stage the app reports, plus draw and busy.
  expect(results.pipeline).toHaveLength(1);
  const stages = results.pipeline[0]!.stages;
  for (const s of ['preprocess', 'inference', 'upload', 'decode', 'nms', 'masks', 'readback', 'draw', 'total', 'busy']) {
    expect(stages[s], `stage ${s}`).toBeDefined();
    expect(stages[s]!.median).toBeGreaterThanOrEqual(0);
  }

  // 2. paths 1–3 on identical outputs: same kept instances; bytes from the layouts.
  expect(results.paths).toHaveLength(1);
  const row = results.paths[0]!;
  const model = results.info.models.find((m) => m.id === row.model)!;
  expect(row.agree).toEqual({ fastVsReference: true, greedyVsCpu: true });
  const timestampBytes = results.info.timestamps ? 3 * 2 * 8 : 0; // decode, nms, masks: begin + end u64
  expect(row.paths['gpu-fast'].bytesReadBack).toBe(16 + 32 * 100 + timestampBytes);
  expect(row.paths.cpu.bytesReadBack).toBe(yolactRawBytes(model.input[0]!, model.classes));

  // 3. scaling: exactly the kept instances the synthetic outputs were built for, on every path.
  expect(results.scaling.length).toBeGreaterThanOrEqual(1);
  for (const s of results.scaling) {
    expect(s.agree).toEqual({ fastVsReference: true, greedyVsCpu: true });
    for (const p of ['gpu-fast', 'gpu-greedy', 'cpu'] as const) expect(s.paths[p].instances, `${s.axis} ${p}`).toBe(s.kept);
    expect(s.paths.cpu.bytesReadBack).toBe(yolactRawBytes(550, 80));
  }

  // 4. the peer's YOLO-seg path (only where ../shared is beside the repository).
  if (existsSync(path.join(PEER_DIR, 'nms-yolov8.onnx'))) {
    expect(Array.isArray(results.yoloSeg)).toBe(true);
    const y = (results.yoloSeg as Exclude<typeof results.yoloSeg, { skipped: string }>)[0]!;
    expect(y.result.instances).toBe(plan.yoloSeg.objects[0]);
    expect(y.result.bytesReadBack).toBe(4 * (116 * 8400 + 32 * 160 * 160));
  } else {
    expect(results.yoloSeg).toHaveProperty('skipped');
  }

  // Files: JSON + markdown (+ chart when matplotlib is there); the report says SwiftShader when it is.
  expect(files.some((f) => f.endsWith('bench-smoke.json'))).toBe(true);
  const md = readFileSync(path.join(outDir, 'README.md'), 'utf8');
  expect(md).toContain('## 2. GPU post-processing against the CPU way');
  if (results.info.adapter.isFallbackAdapter) expect(md).toContain('SwiftShader');
});
