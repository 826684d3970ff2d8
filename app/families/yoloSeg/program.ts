/** YOLO-seg (raw and end-to-end heads) as the runner sees it: one ONNX model, then the post-processing (../common/oneStage.ts). */
import type { ModelManifest } from '../../types';
import { oneStageProgram } from '../common/oneStage';
import { createGpuPostprocessor, warmYoloSegGpu } from './gpu';
import { postprocessYoloSegReference } from './reference';

export function program(manifest: ModelManifest) {
  return {
    ...oneStageProgram(manifest, createGpuPostprocessor, postprocessYoloSegReference),
    warmGpu: (device: GPUDevice) => warmYoloSegGpu(device, manifest),
  };
}
