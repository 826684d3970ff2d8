import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { rpnTorchvisionConformance } from './conformance/rpnTorchvision';
import { formatResults } from './conformance/common';

it('RPN and RoI kernels match what torchvision computes (committed fixture)', async () => {
  const results = await withDevice(rpnTorchvisionConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
