/**
 * Host code of shaders/greedy_nms.wgsl (standard sequential NMS, per class). Same inputs,
 * outputs and params as Fast NMS (see fastNms.ts). Reference: app/reference/greedyNms.ts.
 */
import shaderCodeRaw from '../../../shaders/greedy_nms.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { kernelSource } from '../kernelCache';
import { createNmsKernel, type NmsKernel, type NmsSource } from './fastNms';

/** The kernel's pipelines (app/gpu/kernelCache.ts), with the same entry points as Fast NMS. */
export const GREEDY_NMS: NmsSource = kernelSource({ name: 'greedyNms', code: withIncludes(shaderCodeRaw), entryPoints: ['main', 'listed'] });

export function createGreedyNms(device: GPUDevice): NmsKernel {
  return createNmsKernel(device, GREEDY_NMS, true);
}
