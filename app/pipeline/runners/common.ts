/** Pieces shared by the runners: ORT feeds and outputs, overlay bitmaps. */
import type { ModelManifest } from '../../types';
import { ort } from '../ort';
import { serialized } from '../sessions';

/** A raw model output on the CPU, keyed by the family's logical name (`loc`, `conf`, …). */
export interface CpuTensor {
  data: Float32Array;
  dims: readonly number[];
}
export type CpuOutputs = Record<string, CpuTensor>;

/** The input tensor's dims: `[1, 3, H, W]`, or `[3, H, W]` when `input.layout` is 'chw' (Mask R-CNN exports). */
export function inputDims(input: ModelManifest['input']): number[] {
  return input.layout === 'chw' ? [3, input.height, input.width] : [1, 3, input.height, input.width];
}

/** Runs a wasm-EP session on a CPU input tensor (`inputDims`); outputs keyed by logical name. */
export async function runOnCpu(session: ort.InferenceSession, manifest: ModelManifest, tensor: Float32Array): Promise<CpuOutputs> {
  const input = new ort.Tensor('float32', tensor, inputDims(manifest.input));
  const { name } = manifest.input;
  const results = await serialized(() => session.run({ [name]: input }));
  const outputs: CpuOutputs = {};
  for (const [logical, tensorName] of Object.entries(manifest.outputs)) {
    const t = results[tensorName];
    if (!t) throw new Error(`the model returned no “${tensorName}”`);
    outputs[logical] = { data: asFloat32(t, tensorName), dims: t.dims };
  }
  return outputs;
}

/**
 * An output's values as f32. Integer outputs (the int64 / int32 labels of public Mask R-CNN
 * exports, class ids far below 2^24) are converted exactly; other types are refused.
 */
function asFloat32(t: ort.Tensor, name: string): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'int64' || t.type === 'int32' || t.type === 'float64') {
    return Float32Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
  }
  throw new Error(`output “${name}” is ${t.type}, expected float32 (or integer labels)`);
}

/** RGBA bytes (straight alpha) `[height, width, 4]` → an ImageBitmap Konva can draw. */
export async function rgbaToBitmap(rgba: Uint8ClampedArray<ArrayBuffer>, width: number, height: number): Promise<ImageBitmap | null> {
  if (width === 0 || height === 0) return null;
  return createImageBitmap(new ImageData(rgba, width, height), { premultiplyAlpha: 'default' });
}
