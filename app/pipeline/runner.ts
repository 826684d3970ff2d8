/**
 * The seam between the engine and the execution paths. A PaneRunner is one model on one
 * path (ORT session + post-processor); the engine feeds it frames and stores what it
 * returns. Implementations: runners/wasm.ts ('wasm': ORT wasm EP + TypeScript reference
 * post-processing), runners/gpu.ts ('wasm+gpu' and 'webgpu': our WGSL post-processing,
 * fed by ORT wasm outputs uploaded once, or by ORT WebGPU output buffers directly).
 */
import type { ExecutionPath, FrameResult, InstanceMasks, ModelManifest, PostprocessSettings } from '../types';
import type { Frame } from './frame';

/** What the overlay shows: hidden classes are not drawn, the highlighted instance stands out. */
export interface OverlayView {
  highlight: number | null;
  hiddenClasses: readonly number[];
}

/**
 * How a result's masks overlay reaches the screen: as a bitmap Konva draws (the 'wasm'
 * path, or the read-back fallback), or already drawn by the GPU into the pane's WebGPU
 * canvas (`onCanvas`, pipeline/overlayCanvas.ts), in which case `overlay` is null.
 */
export interface OverlayUpdate {
  /** The masks overlay at mask resolution, or null when there is nothing to draw. */
  overlay: ImageBitmap | null;
  /** The overlay is on the pane's WebGPU canvas (nothing for Konva to draw). */
  onCanvas: boolean;
}

export interface RunOutput extends OverlayUpdate {
  result: FrameResult;
  /**
   * Redraws this frame's overlay (its followed highlight), where the runner has frames in
   * flight: the runner's `recompose` may refer to a later frame by then. Absent: `recompose`.
   */
  recompose?(view: OverlayView): Promise<OverlayUpdate>;
}

export interface PaneRunner {
  readonly path: ExecutionPath;
  readonly manifest: ModelManifest;
  /**
   * Runs it may have in flight at once (default 1): a runner with 2 encodes frame n+1 while
   * frame n is read back, and returns their outputs in the order the runs were asked for.
   */
  readonly maxInFlight?: number;
  /** Runs the model and the post-processing on a frame. */
  run(frame: Frame, settings: PostprocessSettings, view: OverlayView): Promise<RunOutput>;
  /** Redraws the overlay of the last result only (hover, hidden classes): no inference. */
  recompose(view: OverlayView): Promise<OverlayUpdate>;
  /** The current overlay as a bitmap, read on demand (PNG export); null when empty. */
  overlaySnapshot(): Promise<ImageBitmap | null>;
  /** Masks of the last result at mask resolution (export, evaluation); not per frame. */
  readMasks(): Promise<InstanceMasks | null>;
  dispose(): void;
}

export interface RunnerContext {
  /** The shared GPUDevice (null on the 'wasm' path or without WebGPU). */
  device: GPUDevice | null;
  /** The pane the runner draws for (its WebGPU canvas, pipeline/overlayCanvas.ts). */
  paneKey: number;
  /**
   * 'canvas': the overlay texture is drawn into the pane's WebGPU canvas (no read-back);
   * 'readback': it is read back (W·H·4 bytes) and handed to Konva as a bitmap.
   */
  overlayMode: 'canvas' | 'readback';
}

/** Mask resolution for a frame: the frame size, capped so the longest side ≤ MAX_MASK_SIDE. */
export const MAX_MASK_SIDE = 1280;

export function maskSize(width: number, height: number): { width: number; height: number } {
  const longest = Math.max(width, height);
  if (longest <= MAX_MASK_SIDE) return { width, height };
  const s = MAX_MASK_SIDE / longest;
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

export class ModelLoadError extends Error {}
