import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { maskPasteConformance } from './conformance/maskPaste';
import { formatResults } from './conformance/common';

it('maskPaste kernel matches the reference (0 mismatched pixels beyond f32 ties at 0.5)', async () => {
  const results = await withDevice(maskPasteConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
  expect(results.length).toBeGreaterThanOrEqual(9);
}, 600_000);
