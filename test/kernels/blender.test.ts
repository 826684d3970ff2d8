import { expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { blenderConformance } from './conformance/blender';
import { formatResults } from './conformance/common';
import { kernelCacheStats, warmKernels } from '../../app/gpu/kernelCache';
import { BLENDER_KERNELS, createBlender } from '../../app/gpu/kernels/blender';
import { BOUNDARY_MAP_KERNELS, createBoundaryMap } from '../../app/gpu/kernels/boundaryMap';
import { createMaskPaste } from '../../app/gpu/kernels/maskPaste';
import { createRoiAlign } from '../../app/gpu/kernels/roiAlign';

it('blender kernel matches the hand-computed cases and the reference; the chain into maskPaste gives the reference bits', async () => {
  const results = await withDevice(blenderConformance);
  console.log(formatResults(results));
  expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
  expect(results.length).toBeGreaterThanOrEqual(8);
}, 600_000);

it('the warm lists of the blender and the boundary map compile every pipeline their kernels take', async () => {
  await withDevice(async (device) => {
    await warmKernels(device, [...BLENDER_KERNELS, ...BOUNDARY_MAP_KERNELS]);
    const warmed = kernelCacheStats(device);
    const kernels = [createBlender(device), createMaskPaste(device), createRoiAlign(device), createBoundaryMap(device)];
    const made = kernelCacheStats(device);
    expect(warmed.asyncCompiles).toBe(5); // blender, maskPaste ×2 entry points, roiAlign, boundaryMap
    expect(made.syncCompiles).toBe(0);
    expect(made.hits - warmed.hits).toBe(5);
    for (const k of kernels) k.destroy();
  });
}, 600_000);
