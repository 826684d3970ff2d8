import { describe, expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { pastedMaskBitsConformance } from './conformance/exportedMaskRcnn';

describe('pastedMaskBits kernel vs reference', () => {
  it('passes every conformance case', async () => {
    const results = await withDevice(pastedMaskBitsConformance);
    for (const r of results)
      console.log(
        `${r.pass ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}${r.maxAbsError !== undefined ? ` (max abs error ${r.maxAbsError.toExponential(2)})` : ''}`,
      );
    expect(results.filter((r) => !r.pass)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(6);
  }, 120_000);
});
