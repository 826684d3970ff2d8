/**
 * onnxruntime-web setup, once per page. The JSEP build (`onnxruntime-web/webgpu`) holds
 * both execution providers used here: 'webgpu' and 'wasm'. Its runtime files
 * (`ort-wasm-simd-threaded.{jsep,asyncify}.{mjs,wasm}`) are served under /ort/ by the
 * Vite plugin in vite.config.ts, so `wasmPaths` points there.
 *
 * Threads: the page is served cross-origin isolated (vite.config.ts ISOLATION_HEADERS), so
 * the wasm EP gets up to 4 threads (SharedArrayBuffer), one core fewer than the machine has;
 * one where a host does not send the headers. The wasm EP runs in the CPU worker (./cpu/worker.ts); the WebGPU EP on the page.
 */
import * as ort from 'onnxruntime-web/webgpu';

let configured = false;

export function configureOrt(): typeof ort {
  if (!configured) {
    ort.env.wasm.wasmPaths = `${import.meta.env.BASE_URL}ort/`;
    // One core is left to the page's main thread (the worker runs the wasm EP beside it):
    // on a 2-core machine, two ORT threads starved the page (bench: main-thread busy ≈ the
    // whole inference).
    ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 1) - 1)) : 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'warning';
    configured = true;
  }
  return ort;
}

export { ort };
