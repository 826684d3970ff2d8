import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { fastNmsConformance } from './conformance/fastNms';
import { formatResults } from './conformance/common';

it('fastNms kernel matches the reference exactly', async () => {
  const results = await withDevice(fastNmsConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
