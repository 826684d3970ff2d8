import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { fcosDecodeConformance } from './conformance/fcosDecode';
import { formatResults } from './conformance/common';

it('fcosDecode kernel matches the hand-computed case and the reference', async () => {
  const results = await withDevice(fcosDecodeConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
