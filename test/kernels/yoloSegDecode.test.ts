import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { formatResults } from './conformance/common';
import { yoloSegDecodeConformance, yoloSegEndToEndConformance, yoloSegTrimTopKConformance } from './conformance/yoloSegDecode';

it('yoloSegDecode kernel matches the reference', async () => {
  const results = await withDevice(yoloSegDecodeConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});

it('yoloSegEndToEnd kernel matches the reference', async () => {
  const results = await withDevice(yoloSegEndToEndConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});

it('yoloSegTrimTopK kernel matches the reference', async () => {
  const results = await withDevice(yoloSegTrimTopKConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
