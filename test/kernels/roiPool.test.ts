import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { roiPoolConformance } from './conformance/roi';
import { formatResults } from './conformance/common';

it('roiPool kernel matches the hand-computed grids and the reference', async () => {
  const results = await withDevice(roiPoolConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
