/**
 * Host code of shaders/greedy_nms.wgsl (standard sequential NMS, per class). Same inputs,
 * outputs and params as Fast NMS (see fastNms.ts). Reference: app/reference/greedyNms.ts.
 */
import shaderCodeRaw from '../../../shaders/greedy_nms.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createNmsKernel, type NmsKernel } from './fastNms';

const shaderCode = withIncludes(shaderCodeRaw);

export function createGreedyNms(device: GPUDevice): NmsKernel {
  return createNmsKernel(device, 'greedyNms', shaderCode, true);
}
