/**
 * CenterMask's program run on both sides: the detector's outputs (synthetic, with the exported
 * model's interface: quantised logits so that the GPU's exp / sqrt rounding cannot reorder
 * two keys) go through the program's steps with the runner's `runStepsOnGpu` (the kernels, the
 * mask head on the CPU as on 'wasm+gpu') and `runStepsOnCpu` (the references, as on 'wasm');
 * the mask head is a synthetic row-wise function of its features (as a real head is), so
 * the two sides must give the same instances. (The real exported parts are not in git yet.)
 */
import { describe, expect, it } from 'vitest';
import { expectSameInstances, maskIouOf, putSyntheticFcosLevel, runProgramBothSides } from '../../../test/families/fcosSynthetic';
import type { ModelManifest, PostprocessSettings } from '../../types';
import type { CpuTensor } from '../../pipeline/stages/program';
import type { PartRunner } from '../../pipeline/stages/execute';
import { seededRandom } from '../../util/random';
import { centerMaskLayout, ranksByMaskIou, type CenterMaskLayout } from './manifest';
import { qualityScore } from '../registry';
import { program } from './program';
import { syntheticCenterMaskManifest } from './synthetic';

/** Detector outputs with the exported interface (logical names), deterministic from `seed`. */
export function syntheticDetectorOutputs(layout: CenterMaskLayout, seed: number): Record<string, CpuTensor> {
  const r = seededRandom(seed);
  const out: Record<string, CpuTensor> = {};
  for (const l of layout.levels) {
    const hw = l.width * l.height;
    if (l.level <= 5)
      out[`p${l.level}`] = { data: Float32Array.from({ length: layout.channels * hw }, () => r() * 2 - 1), dims: [1, layout.channels, l.height, l.width] };
    putSyntheticFcosLevel(out, l, layout.numClasses, r);
  }
  return out;
}

/**
 * A mask head that is a function of each row alone: mask_logits[m, c, i, j] from the row's
 * channel c % C at (⌊i/2⌋, ⌊j/2⌋), mask_iou[m, c] from the row's mean.
 */
export function syntheticMaskHead(layout: CenterMaskLayout, features: CpuTensor): { maskLogits: CpuTensor; maskIou: CpuTensor } {
  const [m, c, p] = [features.dims[0]!, features.dims[1]!, features.dims[2]!];
  const k = layout.numClasses;
  const s = layout.config.maskSize;
  const logits = new Float32Array(m * k * s * s);
  const iou = new Float32Array(m * k);
  for (let row = 0; row < m; row++) {
    let mean = 0;
    for (let i = 0; i < c * p * p; i++) mean += features.data[row * c * p * p + i]!;
    mean /= c * p * p;
    for (let cls = 0; cls < k; cls++) {
      iou[row * k + cls] = Math.fround(0.6 + 0.3 * Math.tanh(mean * 4 + cls * 0.1));
      const base = (row * c + (cls % c)) * p * p;
      for (let i = 0; i < s; i++) {
        for (let j = 0; j < s; j++) logits[((row * k + cls) * s + i) * s + j] = 6 * features.data[base + (i >> 1) * p + (j >> 1)]! + 1;
      }
    }
  }
  return { maskLogits: { data: logits, dims: [m, k, s, s] }, maskIou: { data: iou, dims: [m, k] } };
}

async function runBothSides(manifest: ModelManifest, settings: PostprocessSettings, seed: number) {
  const layout = centerMaskLayout(manifest);
  const runPart: PartRunner = async (step, tensors) => {
    expect(step.name).toBe('maskHead');
    const head = syntheticMaskHead(layout, await tensors.onCpu(step.input));
    tensors.putCpu('maskLogits', head.maskLogits);
    tensors.putCpu('maskIou', head.maskIou);
  };
  const sides = await runProgramBothSides(program(manifest), manifest, settings, syntheticDetectorOutputs(layout, seed), { width: 640, height: 480 }, runPart);
  return { layout, ...sides };
}

describe('CenterMask program: GPU steps vs reference steps (synthetic detector and mask head)', () => {
  for (const [title, nmsKind, rescore, ranking] of [
    ['greedy NMS, rescored by mask IoU', 'greedy', true, undefined],
    ['fast NMS, plain scores', 'fast', false, undefined],
    ["the pane's ranking over the manifest's: class score", 'greedy', true, 'class'],
  ] as const) {
    it(
      title,
      async () => {
        const manifest = syntheticCenterMaskManifest(4, 512, 8);
        manifest.centerMask!.rescore = rescore;
        const settings: PostprocessSettings = { ...manifest.defaults, nmsKind, scoreThreshold: 0.2, maxDetections: 40, ...(ranking ? { ranking } : {}) };
        const { layout, cpu, cpuTimings, gpu } = await runBothSides(manifest, settings, nmsKind === 'greedy' ? 11 : 12);
        const byMaskIou = ranking === undefined ? rescore : false;
        const ref = cpu.detections;
        const got = gpu.result.detections;
        console.log(
          `${title}: ${ref.length} reference / ${got.length} GPU instances, ${gpu.result.candidateCount} candidate locations; ` +
            `mask IoU min ${Math.min(1, ...ref.map((_, i) => maskIouOf(gpu.masks, i, cpu.masks, i))).toFixed(4)}; read back ${gpu.featureBytes} B of mask features`,
        );
        expect(ref.length).toBeGreaterThan(3);
        // Sorted by the score the switch picks; with rescoring off the scores are sqrt(cls·ctr) of the decode.
        expectSameInstances(cpu, gpu);
        if (!byMaskIou) expect(ref.every((d) => d.score >= settings.scoreThreshold)).toBe(true);
        if (ranking === 'class') {
          // Same frame as the first case (seed 11) ranked by the plain score: no score lowered by a mask IoU < 1.
          const rescored = await runBothSides(manifest, { ...settings, ranking: 'quality' }, 11);
          expect(rescored.cpu.detections.length).toBeGreaterThan(0);
          const plainTop = Math.max(...ref.map((d) => d.score));
          expect(Math.max(...rescored.cpu.detections.map((d) => d.score))).toBeLessThan(plainTop);
        }
        expect(Object.keys(cpuTimings).sort()).toEqual(['decode', 'masks', 'nms', 'roi']);
        // 'wasm+gpu': the mask features [M = maxDetections, C, 14, 14] come back for the CPU head.
        expect(gpu.featureBytes).toBe(4 * settings.maxDetections * layout.channels * 14 * 14);
      },
      300_000,
    );
  }

  it('no detections (every class logit low): both sides give none', async () => {
    const manifest = syntheticCenterMaskManifest(3, 128, 4);
    const settings: PostprocessSettings = { ...manifest.defaults, scoreThreshold: 0.99 };
    const { cpu, gpu } = await runBothSides(manifest, settings, 13);
    expect(cpu.detections).toEqual([]);
    expect(gpu.result.detections).toEqual([]);
  }, 120_000);
});

describe("CenterMask's ranking control", () => {
  it('the registry offers the mask-IoU score for CenterMask only; the pane overrides the manifest', () => {
    const manifest = syntheticCenterMaskManifest(3, 128, 4);
    expect(qualityScore(manifest)).toMatchObject({ name: 'mask-IoU score', byDefault: true });
    manifest.centerMask!.rescore = false;
    expect(qualityScore(manifest)!.byDefault).toBe(false);
    expect(qualityScore({ ...manifest, family: 'yolact', centerMask: undefined } as ModelManifest)).toBeUndefined();
    const layout = centerMaskLayout(manifest);
    expect(ranksByMaskIou(layout, {})).toBe(false);
    expect(ranksByMaskIou(layout, { ranking: 'quality' })).toBe(true);
    expect(ranksByMaskIou({ rescore: true }, { ranking: 'class' })).toBe(false);
    expect(ranksByMaskIou({ rescore: true }, {})).toBe(true);
  });
});
