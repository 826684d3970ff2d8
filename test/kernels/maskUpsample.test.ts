import { describe, expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { maskUpsampleConformance } from './conformance/maskUpsample';

describe('maskUpsample kernel vs reference', () => {
  it('passes every conformance case', async () => {
    const results = await withDevice(maskUpsampleConformance);
    for (const r of results) console.log(`${r.pass ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}`);
    expect(results.filter((r) => !r.pass)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(9);
  });
});
