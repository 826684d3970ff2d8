/** YOLACT as the runner sees it: one ONNX model, then the post-processing (../common/oneStage.ts). */
import type { ModelManifest } from '../../types';
import { oneStageProgram } from '../common/oneStage';
import { createGpuPostprocessor, warmYolactGpu } from './gpu';
import { postprocessYolactReference } from './reference';

export function program(manifest: ModelManifest) {
  return { ...oneStageProgram(manifest, createGpuPostprocessor, postprocessYolactReference), warmGpu: warmYolactGpu };
}
