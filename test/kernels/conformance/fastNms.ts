/** Conformance cases of the Fast NMS kernel (shaders/fast_nms.wgsl); see nms.ts. */
import { nmsConformance } from './nms';

export const fastNmsConformance = nmsConformance('fast');
