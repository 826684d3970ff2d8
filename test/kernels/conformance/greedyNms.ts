/** Conformance cases of the greedy NMS kernel (shaders/greedy_nms.wgsl); see nms.ts. */
import { nmsConformance } from './nms';

export const greedyNmsConformance = nmsConformance('greedy');
