/**
 * A CenterMask manifest with the exported model's interface (models/centermask/export.py):
 * for tests and the family's synthetic runs, before (or beside) a bundled model.
 */
import type { ModelManifest } from '../../types';
import { CENTER_MASK_FPN, fcosOutputNames } from '../../models/manifestSchema';

export function syntheticCenterMaskManifest(numClasses = 4, side = 512, fpnChannels = 8): ModelManifest {
  const strides = [8, 16, 32, 64, 128];
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
    input: {
      name: 'input',
      width: side,
      height: side,
      resize: 'stretch',
      channels: 'rgb',
      scale: 1 / 255,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    },
    outputs,
    classes: Array.from({ length: numClasses }, (_, i) => `class${i}`),
    defaults: { confThreshold: 0.05, scoreThreshold: 0.3, topK: 100, nmsIou: 0.6, nmsKind: 'greedy', maxDetections: 50 },
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
