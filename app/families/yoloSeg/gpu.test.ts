import { describe, expect, it } from 'vitest';
import { withDevice } from '../../../test/gpu';
import type { OneStageGpu, OneStageReference } from '../common/oneStage';
import { yoloSegFamilyConformance } from '../../../test/families/yoloSeg/conformance';
import type { YoloSegGpuPostprocessor } from './gpu';
import type { postprocessYoloSegReference } from './reference';

describe('YoloSegGpuPostprocessor vs postprocessYoloSegReference', () => {
  it('synthetic outputs: same classes, box IoU ≥ 0.99, mask IoU ≥ 0.98', async () => {
    const results = await withDevice(yoloSegFamilyConformance());
    for (const r of results) console.log(`${r.pass ? 'ok  ' : 'FAIL'} ${r.name} ${r.ms?.toFixed(0)} ms: ${r.detail}`);
    expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    expect(results.length).toBe(4);
  }, 120_000);

  // Compile-time: the family module fits the one-stage program's seams (../common/oneStage.ts).
  type Fits<A, B> = A extends B ? true : never;
  const gpuFits: Fits<YoloSegGpuPostprocessor, OneStageGpu> = true;
  const cpuFits: Fits<typeof postprocessYoloSegReference, OneStageReference> = true;
  it('fits the pipeline interfaces (checked by tsc)', () => {
    expect(gpuFits && cpuFits).toBe(true);
  });
});
