/**
 * Host code of shaders/roi_pool.wgsl (multi-level RoIPool, Fast R-CNN's quantised max):
 * the same inputs, outputs and params as RoIAlign (roiAlign.ts; samplingRatio and aligned
 * are ignored), selected by `TwoStageConfig.pooler`. Reference: app/reference/roiPool.ts.
 */
import shaderCodeRaw from '../../../shaders/roi_pool.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { kernelSource } from '../kernelCache';
import { createRoiAlign, createRoiPooler, type RoiPoolerKernel, type RoiPoolerSource } from './roiAlign';

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const ROI_POOL: RoiPoolerSource = kernelSource({ name: 'roiPool', code: withIncludes(shaderCodeRaw), entryPoints: ['main'] });

export function createRoiPool(device: GPUDevice): RoiPoolerKernel {
  return createRoiPooler(device, ROI_POOL);
}

/** The pooler a TwoStageConfig asks for. */
export function createRoiPoolerFor(device: GPUDevice, pooler: 'align' | 'pool'): RoiPoolerKernel {
  return pooler === 'pool' ? createRoiPool(device) : createRoiAlign(device);
}
