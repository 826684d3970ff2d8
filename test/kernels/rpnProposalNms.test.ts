import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { rpnProposalNmsConformance } from './conformance/rpn';
import { formatResults } from './conformance/common';

it('rpnProposalNms kernel matches the reference', async () => {
  const results = await withDevice(rpnProposalNmsConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
