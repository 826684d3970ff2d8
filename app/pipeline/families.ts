/**
 * Family modules as the pipeline sees them. Each family (app/families/<family>/) provides
 * a CPU chain (reference.ts) and a GPU post-processor (gpu.ts). They are found by file
 * name, so a family whose module is not in the tree yet is reported as not supported
 * instead of breaking the build.
 */
import type { Detection, InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../types';
import type { CpuOutputs } from './runners/common';

export interface CpuPostprocessResult {
  detections: Detection[];
  masks: InstanceMasks;
  /** Per-stage CPU times when the family measures them. */
  timings?: Partial<Pick<StageTimings, 'decode' | 'nms' | 'masks'>>;
}

export interface CpuFamily {
  postprocess(outputs: CpuOutputs, manifest: ModelManifest, settings: PostprocessSettings, imageSize: { width: number; height: number }): CpuPostprocessResult;
}

const referenceModules = import.meta.glob<Record<string, unknown>>('../families/*/reference.ts');
const gpuModules = import.meta.glob<Record<string, unknown>>('../families/*/gpu.ts');

/** Families whose folder is not their name in camelCase ('maskrcnn' reads better as maskRcnn). */
const FAMILY_DIRS: Record<string, string> = { maskrcnn: 'maskRcnn' };

/** The family's name in PascalCase, from its folder ('yoloSeg' → 'YoloSeg', 'maskRcnn' → 'MaskRcnn'). */
function capitalised(family: string): string {
  const dir = familyDir(family);
  return dir[0]!.toUpperCase() + dir.slice(1);
}

/** Folder of a family: its name in camelCase ('yolo-seg' → app/families/yoloSeg/). */
function familyDir(family: string): string {
  const known = FAMILY_DIRS[family];
  if (known) return known;
  const pascal = family
    .split('-')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
  return pascal[0]!.toLowerCase() + pascal.slice(1);
}

export async function cpuFamily(family: string): Promise<CpuFamily> {
  const load = referenceModules[`../families/${familyDir(family)}/reference.ts`];
  if (!load) throw new Error(`the ${family} family has no CPU post-processing in this build`);
  const mod = await load();
  const fn = mod[`postprocess${capitalised(family)}Reference`];
  if (typeof fn !== 'function') throw new Error(`app/families/${familyDir(family)}/reference.ts has no postprocess${capitalised(family)}Reference`);
  return { postprocess: fn as CpuFamily['postprocess'] };
}

export function hasGpuFamily(family: string): boolean {
  return `../families/${familyDir(family)}/gpu.ts` in gpuModules;
}

export async function gpuFamilyModule(family: string): Promise<Record<string, unknown>> {
  const load = gpuModules[`../families/${familyDir(family)}/gpu.ts`];
  if (!load) throw new Error(`the ${family} family has no GPU post-processing in this build`);
  return load();
}
