import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { rpnStageConformance } from './conformance/rpnStage';
import { formatResults } from './conformance/common';

it('rpnStage (decode → top-n → NMS → RoI pooling) matches the CPU chain', async () => {
  const results = await withDevice(rpnStageConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
});
