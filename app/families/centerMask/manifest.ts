/**
 * Layout of a CenterMask (ModelManifest.centerMask, app/types.ts) from its manifest: the FCOS
 * levels P3..P7 (side = ceil(input / stride): the detector's stride-2 convs halve with ceil),
 * the FPN maps p3..p5 its RoIs are pooled from, and the mask head part as a manifest the
 * session cache can open.
 *
 *   detector   input [1, 3, H, W] → p3..p5 [1, C, H/s, W/s],
 *              clsP3..clsP7 [1, K, H_l, W_l], boxP3..boxP7 [1, 4, H_l, W_l], ctrP3..ctrP7 [1, 1, H_l, W_l]
 *   mask head  mask_features [M, C, poolSize, poolSize] → mask_logits [M, K, maskSize, maskSize], mask_iou [M, K]
 *
 * See /work/shared/MODELS.md §4 for the maths between the parts.
 */
import type { CenterMaskConfig, ModelManifest, PostprocessSettings, QualityScore } from '../../types';
import { CENTER_MASK_FPN, fcosOutputNames } from '../../models/manifestSchema';
import type { RoiLevelMapping } from '../../reference/roiAlign';
import { fcosFrameRows, fcosHeadLayout, fcosLevelSides, type FcosLevelLayout } from '../common/fcos';

export { CENTER_MASK_FPN, fcosOutputNames };
export { candidateThresholdOf, effectiveTopK, type FcosLevelLayout } from '../common/fcos';

/** ONNX tensor names of the mask head part (the contract, app/types.ts CenterMaskConfig). */
export const MASK_HEAD_INPUT = 'mask_features';
export const MASK_HEAD_OUTPUTS = { maskLogits: 'mask_logits', maskIou: 'mask_iou' } as const;

/** Canonical FPN mapping of the 'scale' rule (Equation 1: 224 px at P4). */
const CANONICAL = { canonicalScale: 224, canonicalLevel: 4 };

export interface CenterMaskLayout {
  config: CenterMaskConfig;
  inputWidth: number;
  inputHeight: number;
  numClasses: number;
  channels: number;
  /** FCOS levels, P3 first. */
  levels: FcosLevelLayout[];
  /** Σ H_l·W_l: the decode's locations N. */
  numLocations: number;
  /** The RoI pooling's level rule and range (roiAlign's RoiLevelMapping). */
  mapping: RoiLevelMapping;
  /** p3..p5 sizes: [height, width] per FPN map pooled from, minLevel..maxLevel. */
  pooledLevels: FcosLevelLayout[];
  samplingRatio: number;
  aligned: boolean;
  /** Rank by score · predicted mask IoU (default) or by the plain score. */
  rescore: boolean;
}

/** The pane's ranking choice for a CenterMask: its MaskIoU head's prediction (registry.ts's `qualityScore`). */
export function centerMaskQualityScore(manifest: ModelManifest): QualityScore | undefined {
  if (!isCenterMask(manifest)) return undefined;
  return {
    name: 'mask-IoU score',
    description: 'class score × the mask IoU its MaskIoU head predicts (CenterMask); "class score" ranks by the detector alone',
    byDefault: manifest.centerMask.rescore ?? true,
  };
}

/** Whether a frame ranks by score · predicted mask IoU: the pane's choice, else the manifest's `rescore`. */
export function ranksByMaskIou(layout: Pick<CenterMaskLayout, 'rescore'>, settings: Pick<PostprocessSettings, 'ranking'>): boolean {
  return settings.ranking === undefined ? layout.rescore : settings.ranking === 'quality';
}

export function isCenterMask(manifest: ModelManifest): manifest is ModelManifest & { centerMask: CenterMaskConfig } {
  return manifest.family === 'centermask' && manifest.centerMask !== undefined;
}

export function centerMaskLayout(manifest: ModelManifest): CenterMaskLayout {
  if (!isCenterMask(manifest)) throw new Error(`${manifest.id}: not a CenterMask (no centerMask block)`);
  const config = manifest.centerMask;
  const levels = fcosLevelSides(config.strides, manifest.input).map((sides): FcosLevelLayout => {
    const [cls, box, ctr] = fcosOutputNames(sides.level);
    return { ...sides, cls, box, ctr };
  });
  return {
    ...fcosHeadLayout(manifest, config, levels, [...CENTER_MASK_FPN, ...levels.flatMap((l) => [l.cls, l.box, l.ctr])]),
    channels: config.fpnChannels,
    mapping: {
      ...CANONICAL,
      minLevel: config.minLevel,
      maxLevel: config.maxLevel,
      rule: config.roiLevels,
      inputArea: manifest.input.width * manifest.input.height,
    },
    pooledLevels: levels.filter((l) => l.level >= config.minLevel && l.level <= config.maxLevel),
    samplingRatio: config.samplingRatio ?? 2,
    aligned: config.aligned ?? true,
    rescore: config.rescore ?? true,
  };
}

/** The mask head's batch M of a frame on the GPU: the pane's maxDetections (fixed; padded rows are zeros). */
export const maskBatch = fcosFrameRows;

export function maskFeatureDims(layout: CenterMaskLayout, rows: number): [number, number, number, number] {
  const p = layout.config.poolSize;
  return [rows, layout.channels, p, p];
}

/** Float counts of the detector outputs and the mask head tensors, for buffer-size checks. */
export function centerMaskFloats(layout: CenterMaskLayout, rows: number): Record<string, number> {
  const { channels: c, numClasses: k, config } = layout;
  const out: Record<string, number> = {};
  for (const l of layout.levels) {
    const hw = l.width * l.height;
    if (l.level <= 5) out[`p${l.level}`] = c * hw;
    out[l.cls] = k * hw;
    out[l.box] = 4 * hw;
    out[l.ctr] = hw;
  }
  out.maskFeatures = rows * c * config.poolSize * config.poolSize;
  out.maskLogits = rows * k * config.maskSize * config.maskSize;
  out.maskIou = rows * k;
  return out;
}

/** The mask head as a manifest of its own (id + '#mask-head'): fetched, opened and checked like any model. */
export function maskHeadManifest(manifest: ModelManifest): ModelManifest {
  if (!isCenterMask(manifest)) throw new Error(`${manifest.id}: not a CenterMask`);
  const t = manifest.centerMask;
  const { bytes: _bytes, sha256: _sha, centerMask: _c, ...rest } = manifest;
  const checks = { ...(t.maskHeadBytes !== undefined ? { bytes: t.maskHeadBytes } : {}), ...(t.maskHeadSha256 ? { sha256: t.maskHeadSha256 } : {}) };
  return {
    ...rest,
    ...checks,
    id: `${manifest.id}#mask-head`,
    name: `${manifest.name} (mask head)`,
    url: t.maskHeadUrl,
    input: { ...manifest.input, name: MASK_HEAD_INPUT },
    outputs: { ...MASK_HEAD_OUTPUTS },
  };
}
