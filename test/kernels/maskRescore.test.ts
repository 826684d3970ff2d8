import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { maskRescoreConformance } from './conformance/maskRescore';
import { formatResults } from './conformance/common';

it('maskRescore kernel matches the hand-computed orders and the reference', async () => {
  const results = await withDevice(maskRescoreConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
