import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { greedyNmsConformance } from './conformance/greedyNms';
import { formatResults } from './conformance/common';

it('greedyNms kernel matches the reference exactly', async () => {
  const results = await withDevice(greedyNmsConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
