import { describe, expect, it } from 'vitest';
import { withDevice } from '../../../test/gpu';
import { yoloSegFamilyConformance } from './conformance';

describe('YoloSegGpuPostprocessor vs postprocessYoloSegReference', () => {
  it('synthetic outputs: same classes, box IoU ≥ 0.99, mask IoU ≥ 0.98', async () => {
    const results = await withDevice(yoloSegFamilyConformance());
    for (const r of results) console.log(`${r.pass ? 'ok  ' : 'FAIL'} ${r.name} ${r.ms?.toFixed(0)} ms: ${r.detail}`);
    expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    expect(results.length).toBe(4);
  }, 120_000);
});
