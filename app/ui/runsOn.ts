/**
 * The one plain sentence under the top bar that says where the panes run and why: what
 * the browser offers (WebGPU, a software-emulated GPU, none) and the path new panes take.
 */
import type { ExecutionPath } from '../types';

export interface RunsOnInput {
  webgpu: boolean;
  /** The adapter is a software emulation (SwiftShader). */
  fallbackAdapter: boolean;
  /** The path new panes get (engine.init: the environment, or `?path=`). */
  defaultPath: ExecutionPath;
}

export function runsOnSentence({ webgpu, fallbackAdapter, defaultPath }: RunsOnInput): string {
  if (!webgpu) return 'Running on your CPU: this browser offers no WebGPU, so the model runs in WebAssembly and the post-processing in JavaScript.';
  if (fallbackAdapter) {
    if (defaultPath === 'webgpu')
      return 'Running on an emulated GPU, as asked: this browser’s GPU is a software emulation, so the whole model runs slowly on the CPU through it.';
    if (defaultPath === 'wasm') return 'Running on your CPU, as asked: the model runs in WebAssembly and the post-processing in JavaScript.';
    return 'Running on your CPU: this browser’s GPU is a software emulation, so the model runs in WebAssembly and only the post-processing uses the (emulated) GPU.';
  }
  if (defaultPath === 'wasm+gpu') return 'Running the model on your CPU (WebAssembly), as asked, and the post-processing on your GPU (WebGPU).';
  if (defaultPath === 'wasm') return 'Running on your CPU, as asked: the model runs in WebAssembly and the post-processing in JavaScript; the GPU is not used.';
  return 'Running on your GPU (WebGPU): the model and its post-processing both run there.';
}
