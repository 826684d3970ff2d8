import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { roiAlignConformance } from './conformance/roi';
import { formatResults } from './conformance/common';

it('roiAlign kernel matches the hand-computed grids and the reference', async () => {
  const results = await withDevice(roiAlignConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
