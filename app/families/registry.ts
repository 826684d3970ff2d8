/**
 * The families the app runs, one line each: a family is a module whose `program(manifest)`
 * declares its steps (app/pipeline/stages/program.ts). Adding a family is a folder with its
 * program, kernels and references, and a line here.
 */
import type { AuxiliaryMapInfo, ModelManifest, QualityScore } from '../types';
import type { FamilyProgram } from '../pipeline/stages/program';
import { centerMaskQualityScore } from './centerMask/manifest';
import { blendMaskAuxiliaryMap, blendMaskQualityScore } from './blendMask/manifest';

interface FamilyModule {
  program(manifest: ModelManifest): FamilyProgram;
}

const FAMILIES: Record<ModelManifest['family'], () => Promise<FamilyModule>> = {
  yolact: () => import('./yolact/program'),
  'yolo-seg': () => import('./yoloSeg/program'),
  maskrcnn: () => import('./maskRcnn/program'),
  centermask: () => import('./centerMask/program'),
  blendmask: () => import('./blendMask/program'),
};

/** Families whose models predict a second score to rank by (the pane's "rank by" control). */
const QUALITY_SCORES: Partial<Record<ModelManifest['family'], (manifest: ModelManifest) => QualityScore | undefined>> = {
  centermask: centerMaskQualityScore,
  blendmask: blendMaskQualityScore,
};

/** Families whose models predict a per-pixel map the pane can draw (the pane's auxiliary-map toggle). */
const AUXILIARY_MAPS: Partial<Record<ModelManifest['family'], (manifest: ModelManifest) => AuxiliaryMapInfo | undefined>> = {
  blendmask: blendMaskAuxiliaryMap,
};

/** The map this model can draw over the frame (B2Inst: its boundary basis), or undefined (no toggle). */
export function auxiliaryMapOf(manifest: ModelManifest): AuxiliaryMapInfo | undefined {
  return AUXILIARY_MAPS[manifest.family]?.(manifest);
}

/** The second score this model can rank by, or undefined (the pane then shows no ranking control). */
export function qualityScore(manifest: ModelManifest): QualityScore | undefined {
  return QUALITY_SCORES[manifest.family]?.(manifest);
}

export function isKnownFamily(family: string): family is ModelManifest['family'] {
  return Object.hasOwn(FAMILIES, family);
}

/** The program of a model (its family's steps for this manifest). */
export async function familyProgram(manifest: ModelManifest): Promise<FamilyProgram> {
  if (!isKnownFamily(manifest.family)) throw new Error(`the ${String(manifest.family)} family is not supported in this build`);
  const mod = await FAMILIES[manifest.family]();
  return mod.program(manifest);
}
