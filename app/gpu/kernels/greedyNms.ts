/**
 * Host code of shaders/greedy_nms.wgsl (standard sequential NMS, per class). Same inputs,
 * outputs and params as Fast NMS (see fastNms.ts). Reference: app/reference/greedyNms.ts.
 */
import shaderCode from '../../../shaders/greedy_nms.wgsl?raw';
import { createNmsKernel, type NmsKernel } from './fastNms';

export function createGreedyNms(device: GPUDevice): NmsKernel {
  return createNmsKernel(device, 'greedyNms', shaderCode, true);
}
