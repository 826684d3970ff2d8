import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { FIXTURE_PATHS } from './paths';
import { PEER_DIR, planFor, REPO_ROOT, runBench } from '../bench/run';
import { modelStates, reportProblems } from '../bench/freshness';

/**
 * `npm run bench -- --smoke` end to end, in the suite: bench.html in this browser, one
 * synthetic frame through the smallest YOLACT model and the YOLO-seg model (the bundled one,
 * else the untrained test network), every part of the benchmark at its tiniest (path 4 on the
 * real YOLO-seg outputs included), the report and JSON written. No timing thresholds: it checks that the parts ran,
 * that the paths agree, and figures that do not depend on speed (bytes, instance counts),
 * against values computed here from the model layouts. Path 5 (the official Ultralytics
 * runtime, npm-installed into a temporary folder at bench time) runs where the npm registry
 * answers; the bench page must send nothing off its origin either way.
 */

/** YOLACT raw outputs at input side S with C classes: loc, conf, mask, priors [N, …] + proto. */
function yolactRawBytes(side: number, classes: number): number {
  const levels: number[] = [Math.ceil(Math.ceil(Math.ceil(side / 2) / 2) / 2)];
  for (let l = 1; l < 5; l++) levels.push(Math.ceil(levels[l - 1]! / 2));
  const priors = 3 * levels.reduce((s, v) => s + v * v, 0);
  const protoSide = 2 * levels[0]!;
  return 4 * (priors * (4 + (classes + 1) + 32 + 4) + protoSide * protoSide * 32);
}

/** YOLO-seg raw outputs at input side S with C classes: output0 [1, 4 + C + 32, N] + prototypes [1, 32, S/4, S/4]. */
function yoloSegRawBytes(side: number, classes: number): number {
  const anchors = [8, 16, 32].reduce((s, stride) => s + Math.ceil(side / stride) ** 2, 0);
  return 4 * ((4 + classes + 32) * anchors + 32 * Math.ceil(side / 4) ** 2);
}

test('npm run bench -- --smoke: every part runs and writes its report', async ({ page, baseURL }) => {
  test.setTimeout(420_000);
  const outDir = path.join(FIXTURE_PATHS.root, 'bench-smoke');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const plan = planFor('smoke');
  const { results, files } = await runBench(page, baseURL!, plan, { outDir, chart: true, log: () => undefined });
  const peer = existsSync(path.join(PEER_DIR, 'nms-yolov8.onnx'));
  const timestampBytes = results.info.timestamps ? 3 * 2 * 8 : 0; // decode, nms, masks: begin + end u64

  // 1. the app's runner on one YOLACT and one YOLO-seg model: every stage the app reports, plus draw and busy.
  expect(results.skipped.filter((s) => s.part === 'pipeline')).toEqual([]);
  const families = results.pipeline.map((p) => results.info.models.find((m) => m.id === p.model)!.family);
  expect(families.sort()).toEqual(['yolact', 'yolo-seg']);
  for (const row of results.pipeline) {
    for (const s of ['preprocess', 'inference', 'upload', 'decode', 'nms', 'masks', 'readback', 'draw', 'total', 'busy']) {
      expect(row.stages[s], `${row.model} stage ${s}`).toBeDefined();
      expect(row.stages[s]!.median).toBeGreaterThanOrEqual(0);
    }
  }

  // 2. paths on identical REAL outputs: same kept instances; bytes from the layouts; path 4 on the YOLO-seg row.
  expect(results.paths.map((p) => p.family).sort()).toEqual(['yolact', 'yolo-seg']);
  for (const row of results.paths) {
    const model = results.info.models.find((m) => m.id === row.model)!;
    expect(row.outputs).toBe('real');
    expect(row.agree, row.model).toEqual({ fastVsReference: true, greedyVsCpu: true });
    expect(row.paths['gpu-fast'].bytesReadBack).toBe(16 + 32 * model.maxDetections + timestampBytes);
    const raw = row.family === 'yolact' ? yolactRawBytes(model.input[0]!, model.classes) : yoloSegRawBytes(model.input[0]!, model.classes);
    expect(row.paths.cpu.bytesReadBack, row.model).toBe(raw);
    if (row.family === 'yolo-seg' && peer) {
      expect(row.peer, 'path 4 ran on the real YOLO-seg outputs').toBeDefined();
      expect(row.peer!.bytesReadBack).toBe(raw);
      expect(row.peer!.instances).toBeLessThanOrEqual(model.maxDetections);
      expect(row.peer!.config.topK).toBe(model.maxDetections);
    } else {
      expect(row.peer).toBeUndefined();
    }
  }

  // 3. scaling: exactly the kept instances the synthetic outputs were built for, on every path.
  expect(results.scaling.length).toBeGreaterThanOrEqual(1);
  for (const s of results.scaling) {
    expect(s.agree).toEqual({ fastVsReference: true, greedyVsCpu: true });
    for (const p of ['gpu-fast', 'gpu-greedy', 'cpu'] as const) expect(s.paths[p].instances, `${s.axis} ${p}`).toBe(s.kept);
    expect(s.paths.cpu.bytesReadBack).toBe(yolactRawBytes(550, 80));
  }

  // 4. paths 1–4 on synthetic YOLO-seg outputs (only where ../shared is beside the repository): every path keeps the K objects.
  if (peer) {
    expect(Array.isArray(results.yoloSeg)).toBe(true);
    const y = (results.yoloSeg as Exclude<typeof results.yoloSeg, { skipped: string }>)[0]!;
    expect(y.outputs).toBe('synthetic');
    for (const p of ['gpu-fast', 'gpu-greedy', 'cpu'] as const) expect(y.paths[p].instances, p).toBe(plan.yoloSeg.objects[0]);
    expect(y.peer!.instances).toBe(plan.yoloSeg.objects[0]);
    expect(y.peer!.bytesReadBack).toBe(yoloSegRawBytes(640, 80));
    expect(y.agree).toEqual({ fastVsReference: true, greedyVsCpu: true });
  } else {
    expect(results.yoloSeg).toHaveProperty('skipped');
  }

  // 5. the official runtime: our side on the same frame, the peer on the CPU (no GPU bytes), nothing sent by the bench page.
  const official = results.official!;
  expect(
    official.requests.filter((r) => r.page === 'bench'),
    'requests the bench page sent off its origin',
  ).toEqual([]);
  if (!official.skipped) {
    const res = official.result!;
    expect(res, JSON.stringify(res)).toHaveProperty('rows');
    const rows = (res as Exclude<typeof res, { skipped: string }>).rows;
    expect(rows.map((r) => [r.frame, r.device, r.ranOn])).toEqual(plan.official.devices[0]!.frames.map((f) => [f, 'cpu', 'cpu']));
    for (const r of rows) {
      expect(r.ours.path1MatchesReference).toBe(true);
      expect(r.peer.gpuBytesReadBack).toBe(0);
      // Its result holds an RGBA overlay of the frame when it found something (none without).
      expect(r.peer.resultBytes).toBeGreaterThanOrEqual(r.peer.instances > 0 ? r.size[0] * r.size[1] * 4 : 0);
      expect(r.vsFast.ours).toBe(r.ours.instances);
      expect(r.vsFast.peer).toBe(r.peer.instances);
      expect(r.vsFast.matched).toBeLessThanOrEqual(Math.min(r.ours.instances, r.peer.instances));
    }
    expect(official.probes.map((p) => p.scenario)).toEqual(['default-loader', 'local-ort']);
  }

  // Files: JSON + markdown (+ chart when matplotlib is there); the report says SwiftShader when it is, and quotes ratios.
  expect(files.some((f) => f.endsWith('bench-smoke.json'))).toBe(true);
  const md = readFileSync(path.join(outDir, 'README.md'), 'utf8');
  expect(md).toContain("## 2. GPU post-processing against the CPU way and a peer's, on identical REAL model outputs");
  expect(md).toContain('## 4. How path 4 grows with the instance count (SYNTHETIC YOLO-seg outputs)');
  expect(md).toMatch(/path 3 \/ path 1 = \*\*[\d.]+×\*\* in time/);
  if (peer) expect(md).toMatch(/path 4 \(peer\) \/ path 1 = \*\*[\d.]+×\*\* in time/);
  if (results.info.adapter.isFallbackAdapter) expect(md).toContain('Device = SwiftShader');
  // The report carries the bundled models' hashes as read now (a model changed during the run would make it STALE).
  expect(md).toContain('## 7. What the official runtime sends over the network');
  expect(reportProblems(md, modelStates(REPO_ROOT))).toEqual([]);
});
