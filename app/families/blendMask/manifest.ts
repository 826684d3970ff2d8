/**
 * Layout of a BlendMask or B2Inst (ModelManifest.blendMask, app/types.ts) from its manifest:
 * the FCOS levels P3..P7 (side = ceil(input / stride)), the bases at stride 4, the attention
 * rows, and B2Inst's scoring head as a manifest the session cache can open.
 *
 *   detector      input [1, 3, H, W] → bases [1, K, H/4, W/4],
 *                 per level: logits [1, C, H_l, W_l], bbox_reg [1, 4, …], centerness [1, 1, …],
 *                 top_feats [1, K·M·M, H_l, W_l]
 *   scoring head  scoring_features [N, 2 + K, R, R] → scores [N, 2] (S_IoU, S_boundary)
 *
 * See /work/shared/MODELS.md §5 and models/blendmask/README.md for the maths and the choices.
 */
import type { AuxiliaryMapInfo, BlendMaskConfig, ModelManifest, PostprocessSettings, QualityScore } from '../../types';
import { blendMaskLevelNames } from '../../models/manifestSchema';
import type { MaskRescoreQuality } from '../../reference/maskRescore';
import { fcosFrameRows, fcosHeadLayout, fcosLevelSides, type FcosLevelLayout } from '../common/fcos';

/** An FCOS level (cls / box / ctr: its logits / bbox_reg / centerness) with its attention. */
export interface BlendLevelLayout extends FcosLevelLayout {
  /** Its first FCOS global location (the levels' locations in order, P3 first). */
  first: number;
  /** Logical output name of its top_feats. */
  attention: string;
}

export interface BlendMaskLayout {
  config: BlendMaskConfig;
  inputWidth: number;
  inputHeight: number;
  numClasses: number;
  /** K. */
  numBases: number;
  basisWidth: number;
  basisHeight: number;
  levels: BlendLevelLayout[];
  /** Σ H_l·W_l. */
  numLocations: number;
  /** B2Inst: it has a boundary basis and a scoring head. */
  b2inst: boolean;
}

export function isBlendMask(manifest: ModelManifest): manifest is ModelManifest & { blendMask: BlendMaskConfig } {
  return manifest.family === 'blendmask' && manifest.blendMask !== undefined;
}

export function blendMaskLayout(manifest: ModelManifest): BlendMaskLayout {
  if (!isBlendMask(manifest)) throw new Error(`${manifest.id}: not a BlendMask (no blendMask block)`);
  const config = manifest.blendMask;
  let first = 0;
  const levels = fcosLevelSides(config.strides, manifest.input).map((sides): BlendLevelLayout => {
    const layout = { ...sides, first, ...blendMaskLevelNames(sides.level) };
    first += sides.width * sides.height;
    return layout;
  });
  return {
    ...fcosHeadLayout(manifest, config, levels, ['bases', ...levels.flatMap((l) => [l.cls, l.box, l.ctr, l.attention])]),
    numBases: config.numBases,
    basisWidth: Math.ceil(manifest.input.width / config.basisStride),
    basisHeight: Math.ceil(manifest.input.height / config.basisStride),
    b2inst: config.scoringHeadUrl !== undefined,
  };
}

/** B2Inst's final score on the pane's choice ("rank by"), else the manifest's `scoreCombination`. */
export function rescoreQuality(layout: BlendMaskLayout, settings: Pick<PostprocessSettings, 'ranking'>): MaskRescoreQuality {
  if (!layout.b2inst || settings.ranking === 'class') return 'none';
  const combination = layout.config.scoreCombination;
  if (settings.ranking === 'quality') return combination === 'product' ? 'productPair' : 'sqrtPair';
  return combination === 'product' ? 'productPair' : combination === 'sqrt' ? 'sqrtPair' : 'none';
}

/** The pane's ranking choice for a B2Inst: its boundary-aware mask score (registry.ts's `qualityScore`). */
export function blendMaskQualityScore(manifest: ModelManifest): QualityScore | undefined {
  if (!isBlendMask(manifest) || manifest.blendMask.scoringHeadUrl === undefined) return undefined;
  const product = manifest.blendMask.scoreCombination === 'product';
  return {
    name: 'boundary-aware score',
    description: `class score × ${product ? 'S_IoU · S_boundary' : '√(S_IoU · S_boundary)'}, from B2Inst's boundary-aware scoring head; "class score" ranks by the detector alone`,
    byDefault: manifest.blendMask.scoreCombination !== 'cls',
  };
}

/** B2Inst's boundary basis as a map the pane can draw (registry.ts's `auxiliaryMapOf`). */
export function blendMaskAuxiliaryMap(manifest: ModelManifest): AuxiliaryMapInfo | undefined {
  if (!isBlendMask(manifest) || manifest.blendMask.boundaryBasisIndex === null) return undefined;
  return { name: 'boundary basis', description: "B2Inst's holistic boundary basis, sigmoid of its bases channel " + manifest.blendMask.boundaryBasisIndex };
}

/** The names the pane shows each instance's scoring-head predictions under (Detection.qualities). */
export const QUALITY_NAMES = ['S_IoU', 'S_boundary'] as const;

/** Rows of the blender and scoring head a frame on the GPU: the pane's maxDetections (padded rows are zeros). */
export const blendBatch = fcosFrameRows;

/** Channels of the scoring head's input: mask probability, boundary, the K RoI'd bases. */
export function scoringChannels(layout: BlendMaskLayout): number {
  return 2 + layout.numBases;
}

export function scoringFeatureDims(layout: BlendMaskLayout, rows: number): [number, number, number, number] {
  const r = layout.config.blendSize;
  return [rows, scoringChannels(layout), r, r];
}

/** Float counts of the detector outputs, for buffer-size checks. */
export function blendMaskFloats(layout: BlendMaskLayout): Record<string, number> {
  const { numClasses: c, numBases: k, config } = layout;
  const out: Record<string, number> = { bases: k * layout.basisWidth * layout.basisHeight };
  for (const l of layout.levels) {
    const hw = l.width * l.height;
    out[l.cls] = c * hw;
    out[l.box] = 4 * hw;
    out[l.ctr] = hw;
    out[l.attention] = k * config.attnSize * config.attnSize * hw;
  }
  return out;
}

/** Logical names of the scoring head's tensors (the program's). */
export const SCORING_FEATURES = 'scoringFeatures';
export const SCORING_SCORES = 'qualities';

/** B2Inst's scoring head as a manifest of its own (id + '#scoring-head'): fetched, opened and checked like any model. */
export function scoringHeadManifest(manifest: ModelManifest): ModelManifest {
  if (!isBlendMask(manifest) || manifest.blendMask.scoringHeadUrl === undefined) throw new Error(`${manifest.id}: no scoring head`);
  const t = manifest.blendMask;
  const { bytes: _bytes, sha256: _sha, blendMask: _b, ...rest } = manifest;
  const checks = {
    ...(t.scoringHeadBytes !== undefined ? { bytes: t.scoringHeadBytes } : {}),
    ...(t.scoringHeadSha256 ? { sha256: t.scoringHeadSha256 } : {}),
  };
  return {
    ...rest,
    ...checks,
    id: `${manifest.id}#scoring-head`,
    name: `${manifest.name} (scoring head)`,
    url: t.scoringHeadUrl!,
    input: { ...manifest.input, name: t.scoringHeadInput ?? 'scoring_features' },
    outputs: { [SCORING_SCORES]: t.scoringHeadOutput ?? 'scores' },
  };
}
