import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { boxChainConformance } from './conformance/boxChain';
import { formatResults } from './conformance/common';

it('decode → top-k → NMS → cap, chained in one encoder, matches the chained references', async () => {
  const results = await withDevice(boxChainConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
