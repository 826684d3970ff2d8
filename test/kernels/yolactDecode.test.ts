import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { yolactDecodeConformance } from './conformance/yolactDecode';
import { formatResults } from './conformance/common';
import { yolactPriors } from './conformance/yolactData';

it('YOLACT-550 priors: 19248 of them', () => {
  expect(yolactPriors().length / 4).toBe(19248);
});

it('yolactDecode kernel matches the reference', async () => {
  const results = await withDevice(yolactDecodeConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
