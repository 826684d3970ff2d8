import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { rpnDecodeConformance } from './conformance/rpn';
import { formatResults } from './conformance/common';

it('rpnDecode kernel matches the reference', async () => {
  const results = await withDevice(rpnDecodeConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
