/** Creates the PaneRunner of a (path, model): see runner.ts. */
import type { ExecutionPath, ModelManifest } from '../types';
import { hasGpuFamily } from './families';
import type { PaneRunner, RunnerContext } from './runner';
import { GpuRunner } from './runners/gpu';
import { WasmRunner } from './runners/wasm';

/** Whether the family of `manifest` has WGSL post-processing in this build. */
export function gpuPostprocessingAvailable(manifest: ModelManifest): boolean {
  return hasGpuFamily(manifest.family);
}

export async function createRunner(path: ExecutionPath, manifest: ModelManifest, ctx: RunnerContext): Promise<PaneRunner> {
  // Two-stage models (our Mask R-CNN in three ONNX parts) run their own flow: three
  // sessions, our kernels (or their references) between them.
  if (manifest.twoStage) {
    const { TwoStageGpuRunner, TwoStageWasmRunner } = await import('./runners/twoStage');
    if (path === 'wasm') return TwoStageWasmRunner.create(manifest);
    if (!ctx.device) throw new Error(`the ${path} path needs a GPU device`);
    return TwoStageGpuRunner.create(path, manifest, ctx.device, ctx.paneKey, ctx.overlayMode);
  }
  if (path === 'wasm') return WasmRunner.create(manifest);
  if (!ctx.device) throw new Error(`the ${path} path needs a GPU device`);
  return GpuRunner.create(path, manifest, ctx.device, ctx.paneKey, ctx.overlayMode);
}
