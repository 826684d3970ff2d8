/**
 * A CenterMask manifest with the exported model's interface (models/centermask/export.py):
 * for tests and the family's synthetic runs, before (or beside) a bundled model.
 */
import type { ModelManifest } from '../../types';
import { CENTER_MASK_FPN, fcosOutputNames } from '../../models/manifestSchema';
import { SYNTHETIC_FCOS_STRIDES, syntheticFcosInterface } from '../common/syntheticFcos';

export function syntheticCenterMaskManifest(numClasses = 4, side = 512, fpnChannels = 8): ModelManifest {
  const strides = [...SYNTHETIC_FCOS_STRIDES];
  const outputs: Record<string, string> = Object.fromEntries(CENTER_MASK_FPN.map((n) => [n, n]));
  strides.forEach((_, i) => {
    const [cls, box, ctr] = fcosOutputNames(3 + i);
    Object.assign(outputs, { [cls]: `cls_p${3 + i}`, [box]: `box_p${3 + i}`, [ctr]: `ctr_p${3 + i}` });
  });
  return {
    id: `synthetic-centermask-${side}`,
    name: `Synthetic CenterMask ${side}`,
    family: 'centermask',
    url: 'models/centermask/synthetic.onnx',
    ...syntheticFcosInterface(side, numClasses, outputs),
    centerMask: {
      maskHeadUrl: 'models/centermask/synthetic-mask-head.onnx',
      strides,
      fpnChannels,
      poolSize: 14,
      maskSize: 28,
      roiLevels: 'ratio',
      minLevel: 3,
      maxLevel: 5,
      preNmsTopN: 1000,
      candidateThreshold: 0.05,
      nmsIou: 0.6,
      maxDetections: 50,
      samplingRatio: 2,
      aligned: true,
    },
  };
}
