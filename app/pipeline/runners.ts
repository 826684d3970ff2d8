/** Creates the PaneRunner of a (path, model): see runner.ts. */
import type { ExecutionPath, ModelManifest } from '../types';
import type { PaneRunner, RunnerContext } from './runner';

export function gpuPostprocessingAvailable(): boolean {
  return false;
}

export async function createRunner(path: ExecutionPath, manifest: ModelManifest, ctx: RunnerContext): Promise<PaneRunner> {
  void ctx;
  throw new Error(`the ${path} path is not built yet for ${manifest.family}`);
}
