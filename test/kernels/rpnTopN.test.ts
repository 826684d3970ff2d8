import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { rpnTopNConformance } from './conformance/rpn';
import { formatResults } from './conformance/common';

it('rpnTopN kernel matches the reference', async () => {
  const results = await withDevice(rpnTopNConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
