import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { maskRcnnBoxDecodeConformance } from './conformance/maskRcnnBoxDecode';
import { formatResults } from './conformance/common';

it('maskRcnnBoxDecode (+ class-specific NMS and cap) matches the references', async () => {
  const results = await withDevice(maskRcnnBoxDecodeConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
  expect(results.length).toBeGreaterThanOrEqual(8);
}, 600_000);
