/**
 * Messages between the page and the CPU worker (./worker.ts), which runs everything of the
 * CPU paths that is not drawing: reading a frame's pixels, the preprocess reference, the
 * ORT wasm sessions, the references of a program's kernel steps and the overlay compose.
 * Every request carries an id; the answer carries it back, with a value or an error text.
 */
import type { AuxiliaryMap, Detection, InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import type { InputTransform } from '../../gpu/layout';
import type { OverlayView } from '../runner';
import type { CpuTensor } from '../stages/program';

export type WorkerRequest =
  /** Opens an ORT wasm session of a model part under `key` (the page counts its holders). */
  | { kind: 'open'; key: string; part: ModelManifest; bytes: ArrayBuffer }
  | { kind: 'close'; key: string }
  /**
   * A frame's pixels, kept under `frame` until `drop-frame`: every pane's request on that
   * frame names it instead of posting the bitmap again (./client.ts `withFrame`).
   */
  | { kind: 'frame-pixels'; frame: number; bitmap: ImageBitmap }
  | { kind: 'drop-frame'; frame: number }
  /** A kept frame's pixels → the preprocess reference → the image tensor. */
  | { kind: 'preprocess'; frame: number; input: ModelManifest['input'] }
  /** One ONNX part on an open session. */
  | { kind: 'part'; key: string; inputName: string; input: CpuTensor; outputs: Record<string, string> }
  /** A 'wasm' pane's runner: the model's program with its parts' session keys. */
  | { kind: 'runner'; runner: number; manifest: ModelManifest; partKeys: string[] }
  | { kind: 'frame'; runner: number; frame: number; settings: PostprocessSettings; view: OverlayView }
  | { kind: 'recompose'; runner: number; view: OverlayView }
  | { kind: 'masks'; runner: number }
  | { kind: 'dispose'; runner: number }
  /** How many threads ORT got in the worker. */
  | { kind: 'threads' };

export interface PreprocessAnswer {
  tensor: CpuTensor;
  transform: InputTransform;
  ms: number;
}

export interface FrameAnswer {
  detections: Detection[];
  masks: InstanceMasks;
  overlay: ImageBitmap | null;
  timings: Partial<StageTimings>;
  auxiliaryMap?: AuxiliaryMap;
}

export type WorkerAnswer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string; loadError: boolean };
