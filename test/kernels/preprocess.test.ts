import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { preprocessConformance } from './conformance/preprocess';
import { formatResults } from './conformance/common';

it('preprocess kernel matches the reference', async () => {
  const results = await withDevice(preprocessConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
