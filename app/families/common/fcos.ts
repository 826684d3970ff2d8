/**
 * The FCOS head both CenterMask and BlendMask / B2Inst decode: its levels' layout (P3..P7,
 * side = ceil(input / stride)), the decode's candidate test and the per-class top-k of a
 * frame. The chain on it: ./fcosBoxChain.ts (GPU) and ./fcosReference.ts (CPU).
 */
import type { ModelManifest, PostprocessSettings } from '../../types';
import { MAX_TOP_K } from '../../gpu/kernels/classTopK';

export interface FcosLevelLayout {
  /** FPN level number (3 = P3). */
  level: number;
  stride: number;
  width: number;
  height: number;
  /** Logical output names of its cls / box / ctr tensors. */
  cls: string;
  box: string;
  ctr: string;
}

/** What the FCOS chain reads of a family's layout. */
export interface FcosHeadLayout {
  config: { candidateThreshold: number; preNmsTopN: number };
  inputWidth: number;
  inputHeight: number;
  numClasses: number;
  /** FCOS levels, P3 first. */
  levels: readonly FcosLevelLayout[];
  /** Σ H_l·W_l: the decode's locations N. */
  numLocations: number;
}

/** Level `3 + i` of stride `strides[i]` on an input: its number, stride and map size. */
export function fcosLevelSides(
  strides: readonly number[],
  input: { width: number; height: number },
): Array<Pick<FcosLevelLayout, 'level' | 'stride' | 'width' | 'height'>> {
  return strides.map((stride, i) => ({ level: 3 + i, stride, width: Math.ceil(input.width / stride), height: Math.ceil(input.height / stride) }));
}

/**
 * The FCOS part of a family's layout on `levels` (P3 first); refuses a manifest that names
 * no output among `outputs` (the family's logical names, checked in that order).
 */
export function fcosHeadLayout<C extends FcosHeadLayout['config'], L extends FcosLevelLayout>(
  manifest: ModelManifest,
  config: C,
  levels: L[],
  outputs: readonly string[],
): FcosHeadLayout & { config: C; levels: L[] } {
  for (const name of outputs) {
    if (!manifest.outputs[name]) throw new Error(`${manifest.id}: the manifest names no “${name}” output`);
  }
  return {
    config,
    inputWidth: manifest.input.width,
    inputHeight: manifest.input.height,
    numClasses: manifest.classes.length,
    levels,
    numLocations: levels.reduce((n, l) => n + l.width * l.height, 0),
  };
}

/**
 * The decode's candidate test on sigmoid(cls): the manifest's (0.05), or the pane's score
 * threshold when the user lowers it below that, so the "score ≥" slider reaches weak
 * detections too (as Mask R-CNN's candidate test does).
 */
export function candidateThresholdOf(layout: Pick<FcosHeadLayout, 'config'>, settings: Pick<PostprocessSettings, 'scoreThreshold'>): number {
  return Math.max(0, Math.min(layout.config.candidateThreshold, settings.scoreThreshold));
}

/** Per-class candidates kept before NMS: the pane's topK, at most the kernels' limit. */
export function effectiveTopK(settings: Pick<PostprocessSettings, 'topK'>): number {
  return Math.max(1, Math.min(MAX_TOP_K, Math.floor(settings.topK)));
}

/** Rows of a frame's records and of the heads after them on the GPU: the pane's maxDetections (fixed; padded rows are zeros). */
export function fcosFrameRows(settings: Pick<PostprocessSettings, 'maxDetections'>): number {
  return Math.max(1, Math.floor(settings.maxDetections));
}
