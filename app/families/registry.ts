/**
 * The families the app runs, one line each: a family is a module whose `program(manifest)`
 * declares its steps (app/pipeline/stages/program.ts). Adding a family is a folder with its
 * program, kernels and references, and a line here.
 */
import type { ModelManifest } from '../types';
import type { FamilyProgram } from '../pipeline/stages/program';

interface FamilyModule {
  program(manifest: ModelManifest): FamilyProgram;
}

const FAMILIES: Record<ModelManifest['family'], () => Promise<FamilyModule>> = {
  yolact: () => import('./yolact/program'),
  'yolo-seg': () => import('./yoloSeg/program'),
  maskrcnn: () => import('./maskRcnn/program'),
  centermask: () => import('./centerMask/program'),
};

export function isKnownFamily(family: string): family is ModelManifest['family'] {
  return Object.hasOwn(FAMILIES, family);
}

/** The program of a model (its family's steps for this manifest). */
export async function familyProgram(manifest: ModelManifest): Promise<FamilyProgram> {
  if (!isKnownFamily(manifest.family)) throw new Error(`the ${String(manifest.family)} family is not supported in this build`);
  const mod = await FAMILIES[manifest.family]();
  return mod.program(manifest);
}
