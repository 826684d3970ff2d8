import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { boundaryMapConformance } from './conformance/boundaryMap';
import { formatResults } from './conformance/common';

it('boundaryMap kernel matches the hand-computed boundaries and the reference; the RoIAlign + blender chain into it too', async () => {
  const results = await withDevice(boundaryMapConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
  expect(results.length).toBeGreaterThanOrEqual(13);
}, 600_000);
