/**
 * BlendMask / B2Inst manifests with the exported models' interface (models/blendmask/export.py):
 * for tests and the family's synthetic runs, before (or beside) a bundled model.
 */
import type { ModelManifest } from '../../types';
import { blendMaskLevelNames } from '../../models/manifestSchema';
import { SYNTHETIC_FCOS_STRIDES, syntheticFcosInterface } from '../common/syntheticFcos';

export function syntheticBlendMaskManifest(b2inst: boolean, numClasses = 4, side = 256): ModelManifest {
  const strides = [...SYNTHETIC_FCOS_STRIDES];
  const outputs: Record<string, string> = { bases: 'bases' };
  strides.forEach((_, i) => {
    const level = 3 + i;
    const names = blendMaskLevelNames(level);
    Object.assign(outputs, {
      [names.cls]: `P${level}/logits`,
      [names.box]: `P${level}/bbox_reg`,
      [names.ctr]: `P${level}/centerness`,
      [names.attention]: `P${level}/top_feats`,
    });
  });
  const stem = b2inst ? 'b2inst' : 'blendmask';
  return {
    id: `synthetic-${stem}-${side}`,
    name: `Synthetic ${b2inst ? 'B2Inst' : 'BlendMask'} ${side}`,
    family: 'blendmask',
    url: `models/blendmask/synthetic-${stem}.onnx`,
    ...syntheticFcosInterface(side, numClasses, outputs),
    blendMask: {
      numBases: b2inst ? 5 : 4,
      attnSize: 14,
      blendSize: 56,
      basisStride: 4,
      spatialScale: 0.25,
      samplingRatio: 1,
      aligned: true,
      strides,
      preNmsTopN: 1000,
      candidateThreshold: 0.05,
      nmsIou: 0.6,
      maxDetections: 100,
      maskThreshold: 0.5,
      boundaryBasisIndex: b2inst ? 4 : null,
      scoreCombination: b2inst ? 'sqrt' : 'cls',
      ...(b2inst
        ? { scoringHeadUrl: 'models/blendmask/synthetic-b2inst-scoring-head.onnx', scoringHeadInput: 'scoring_features', scoringHeadOutput: 'scores' }
        : {}),
    },
  };
}
