import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { classTopKConformance } from './conformance/classTopK';
import { formatResults } from './conformance/common';

it('classTopK kernel matches the reference exactly', async () => {
  const results = await withDevice(classTopKConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
