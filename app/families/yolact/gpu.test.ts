import { describe, expect, it } from 'vitest';
import { withDevice } from '../../../test/gpu';
import { yolactFamilyConformance } from '../../../test/families/conformance';

describe('YolactGpuPostprocessor vs postprocessYolactReference', () => {
  it('synthetic outputs: same classes, box IoU ≥ 0.99, mask IoU ≥ 0.98, overlays byte-equal', async () => {
    const results = await withDevice(yolactFamilyConformance(true));
    for (const r of results) {
      const err = r.maxAbsError === undefined ? '' : ` [max proto-mask error ${r.maxAbsError.toExponential(2)}]`;
      console.log(`${r.pass ? 'ok  ' : 'FAIL'} ${r.name}${err}${r.ms ? ` ${r.ms.toFixed(0)} ms` : ''}: ${r.detail}`);
    }
    expect(results.filter((r) => !r.pass)).toEqual([]);
    expect(results.length).toBe(7);
  });
});
