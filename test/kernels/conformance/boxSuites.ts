/**
 * The box-side conformance suites by kernel name, for a page that runs them in a browser on
 * the real adapter (the Vitest files run the same suites on Dawn + SwiftShader):
 *
 *   for (const [name, suite] of Object.entries(BOX_KERNEL_SUITES)) results.push(...await suite(device));
 */
import type { ConformanceSuite } from './common';
import { preprocessConformance } from './preprocess';
import { yolactDecodeConformance } from './yolactDecode';
import { classTopKConformance } from './classTopK';
import { fastNmsConformance } from './fastNms';
import { greedyNmsConformance } from './greedyNms';
import { detectionCapConformance } from './detectionCap';
import { boxChainConformance } from './boxChain';

export const BOX_KERNEL_SUITES: Record<string, ConformanceSuite> = {
  preprocess: preprocessConformance,
  yolactDecode: yolactDecodeConformance,
  classTopK: classTopKConformance,
  fastNms: fastNmsConformance,
  greedyNms: greedyNmsConformance,
  detectionCap: detectionCapConformance,
  boxChain: boxChainConformance,
};
