import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { detectionCapConformance } from './conformance/detectionCap';
import { formatResults } from './conformance/common';

it('detectionCap kernel matches the reference exactly', async () => {
  const results = await withDevice(detectionCapConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
