import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { blenderConformance } from './conformance/blender';
import { formatResults } from './conformance/common';

it('blender kernel matches the hand-computed cases and the reference; the chain into maskPaste gives the reference bits', async () => {
  const results = await withDevice(blenderConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
  expect(results.length).toBeGreaterThanOrEqual(8);
}, 600_000);
