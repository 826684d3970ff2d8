/**
 * BlendMask's and B2Inst's programs run on both sides: the detector's outputs (synthetic, with
 * the exported interface: quantised class logits so that the GPU's exp / sqrt rounding cannot
 * reorder two keys; random bases and attentions) go through the program's steps with the
 * runner's `runStepsOnGpu` (the kernels, the scoring head on the CPU as on 'wasm+gpu') and
 * `runStepsOnCpu` (the references, as on 'wasm'). B2Inst's scoring head is a synthetic
 * row-wise function of its input (as the real head is), so both sides must give the same
 * instances, scores, (S_IoU, S_boundary) and masks.
 */
import { describe, expect, it } from 'vitest';
import { expectSameInstances, putSyntheticFcosLevel, runProgramBothSides } from '../../../test/families/fcosSynthetic';
import type { ModelManifest, PostprocessSettings } from '../../types';
import { onnxSteps, type CpuTensor } from '../../pipeline/stages/program';
import type { PartRunner } from '../../pipeline/stages/execute';
import { validateManifest } from '../../models/manifestSchema';
import { seededRandom } from '../../util/random';
import { qualityScore } from '../registry';
import { blendMaskLayout, rescoreQuality, SCORING_SCORES, type BlendMaskLayout } from './manifest';
import { program } from './program';
import { syntheticBlendMaskManifest } from './synthetic';

/** Detector outputs with the exported interface (logical names), deterministic from `seed`. */
export function syntheticBlendMaskOutputs(layout: BlendMaskLayout, seed: number): Record<string, CpuTensor> {
  const r = seededRandom(seed);
  const a = layout.numBases * layout.config.attnSize * layout.config.attnSize;
  const out: Record<string, CpuTensor> = {
    bases: {
      data: Float32Array.from({ length: layout.numBases * layout.basisHeight * layout.basisWidth }, () => r() * 8 - 4),
      dims: [1, layout.numBases, layout.basisHeight, layout.basisWidth],
    },
  };
  for (const l of layout.levels) {
    putSyntheticFcosLevel(out, l, layout.numClasses, r);
    out[l.attention] = { data: Float32Array.from({ length: a * l.width * l.height }, () => r() * 4 - 2), dims: [1, a, l.height, l.width] };
  }
  return out;
}

/** A scoring head that is a function of each row alone: S_IoU from the mean mask probability, S_boundary from the mean boundary. */
export function syntheticScoringHead(features: CpuTensor): CpuTensor {
  const [m, c, r] = [features.dims[0]!, features.dims[1]!, features.dims[2]!];
  const plane = r * r;
  const out = new Float32Array(2 * m);
  for (let row = 0; row < m; row++) {
    let mask = 0;
    let edge = 0;
    for (let i = 0; i < plane; i++) {
      mask += features.data[row * c * plane + i]!;
      edge += features.data[row * c * plane + plane + i]!;
    }
    out[2 * row] = Math.fround(0.5 + 0.45 * Math.tanh(8 * (mask / plane - 0.5)));
    out[2 * row + 1] = Math.fround(0.5 + 0.45 * Math.tanh(20 * (edge / plane) - 1));
  }
  return { data: out, dims: [m, 2] };
}

async function runBothSides(manifest: ModelManifest, settings: PostprocessSettings, seed: number) {
  const layout = blendMaskLayout(manifest);
  const runPart: PartRunner = async (step, tensors) => {
    expect(step.name).toBe('scoringHead');
    tensors.putCpu(SCORING_SCORES, syntheticScoringHead(await tensors.onCpu(step.input)));
  };
  const sides = await runProgramBothSides(program(manifest), manifest, settings, syntheticBlendMaskOutputs(layout, seed), { width: 320, height: 240 }, runPart);
  return { layout, ...sides };
}

describe('BlendMask / B2Inst programs: GPU steps vs reference steps (synthetic detector and scoring head)', () => {
  it('the synthetic manifests pass the schema; BlendMask is one ONNX part, B2Inst two', () => {
    for (const b2 of [false, true]) {
      const m = syntheticBlendMaskManifest(b2);
      expect(validateManifest(m)).toMatchObject({ ok: true });
      expect(onnxSteps(program(m)).map((s) => s.name)).toEqual(b2 ? ['detector', 'scoringHead'] : ['detector']);
    }
    const bad = syntheticBlendMaskManifest(false);
    bad.blendMask!.scoreCombination = 'sqrt';
    bad.blendMask!.boundaryBasisIndex = 7;
    const check = validateManifest(bad);
    expect(check.ok ? [] : check.errors).toEqual([
      'blendMask.boundaryBasisIndex: expected null or a basis index below numBases, got 7',
      'blendMask.scoreCombination: “sqrt” needs the scoring head (scoringHeadUrl)',
    ]);
  });

  it('BlendMask (K = 4, no scoring head), greedy NMS', async () => {
    const manifest = syntheticBlendMaskManifest(false);
    const settings: PostprocessSettings = { ...manifest.defaults, nmsKind: 'greedy', scoreThreshold: 0.2, maxDetections: 24 };
    const { cpu, cpuTimings, gpu } = await runBothSides(manifest, settings, 21);
    console.log(`BlendMask: ${cpu.detections.length} instances, ${gpu.result.candidateCount} candidate locations, read back ${gpu.result.bytesReadBack} B`);
    expect(cpu.detections.length).toBeGreaterThan(3);
    expectSameInstances(cpu, gpu);
    expect(cpu.detections.every((d) => d.qualities === undefined)).toBe(true);
    expect(gpu.featureBytes).toBe(0);
    expect(Object.keys(cpuTimings).sort()).toEqual(['decode', 'masks', 'nms', 'roi']);
  }, 300_000);

  for (const [title, ranking, nmsKind] of [
    ['B2Inst (K = 5), rescored s_cls·√(S_IoU·S_boundary), fast NMS', undefined, 'fast'],
    ['B2Inst ranked by the class score (the pane overrides the manifest)', 'class', 'greedy'],
  ] as const) {
    it(
      title,
      async () => {
        const manifest = syntheticBlendMaskManifest(true);
        const settings: PostprocessSettings = {
          ...manifest.defaults,
          nmsKind,
          scoreThreshold: 0.05,
          maxDetections: 24,
          showAuxiliaryMap: true,
          ...(ranking ? { ranking } : {}),
        };
        const { layout, cpu, gpu } = await runBothSides(manifest, settings, 22);
        console.log(
          `${title}: ${cpu.detections.length} instances, read back ${gpu.result.bytesReadBack} B (+ ${gpu.featureBytes} B of scoring features for the CPU head)`,
        );
        expect(cpu.detections.length).toBeGreaterThan(3);
        expectSameInstances(cpu, gpu);
        for (const d of gpu.result.detections) expect(Object.keys(d.qualities ?? {})).toEqual(['S_IoU', 'S_boundary']);
        // 'wasm+gpu': the scoring features [M = maxDetections, 2 + K, 56, 56] come back for the CPU head.
        expect(gpu.featureBytes).toBe(4 * settings.maxDetections * 7 * 56 * 56);
        // The boundary basis: sigmoid of bases channel 4, over the whole input (stretch), the same on both sides.
        const [a, b] = [cpu.auxiliaryMap!, gpu.result.auxiliaryMap!];
        expect([a.width, a.height, b.width, b.height]).toEqual([64, 64, 64, 64]);
        expect(b.imageRect.map((v) => Math.round(v))).toEqual([0, 0, 320, 240]);
        for (let i = 0; i < a.values.length; i += 97) expect(Math.abs(a.values[i]! - b.values[i]!)).toBeLessThan(1e-6);
        if (ranking === 'class') {
          expect(rescoreQuality(layout, settings)).toBe('none');
          for (const d of cpu.detections) expect(d.score).toBeGreaterThanOrEqual(settings.scoreThreshold);
        } else {
          expect(rescoreQuality(layout, settings)).toBe('sqrtPair');
          // Each instance's score is its class score (the same frame ranked by the class score, matched by box) · √(S_IoU · S_boundary).
          const plain = (await runBothSides(manifest, { ...settings, ranking: 'class', scoreThreshold: 0 }, 22)).cpu.detections;
          let matched = 0;
          for (const d of cpu.detections) {
            const p = plain.find((q) => q.classIndex === d.classIndex && q.box.every((v, k) => Math.abs(v - d.box[k]!) < 1e-3));
            if (!p) continue;
            matched++;
            expect(Math.abs(d.score - p.score * Math.sqrt(d.qualities!.S_IoU! * d.qualities!.S_boundary!))).toBeLessThan(1e-5);
          }
          expect(matched).toBe(cpu.detections.length);
        }
      },
      300_000,
    );
  }

  it('the registry offers the boundary-aware score for B2Inst only', () => {
    expect(qualityScore(syntheticBlendMaskManifest(true))).toMatchObject({ name: 'boundary-aware score', byDefault: true });
    expect(qualityScore(syntheticBlendMaskManifest(false))).toBeUndefined();
  });
});
