/**
 * ORT at the seams of a program: the image input's dims, an ONNX part run on the wasm EP
 * with CPU tensors, and ORT's outputs as f32.
 */
import type { ModelManifest } from '../../types';
import { ort } from '../ort';
import { serialized } from '../sessions';
import type { CpuTensor } from './program';
import { floatsToHalfBits, halfBitsToFloat32 } from '../../families/yoloSeg/layout';

export type CpuOutputs = Record<string, CpuTensor>;

/** The input tensor's dims: `[1, 3, H, W]`, or `[3, H, W]` when `input.layout` is 'chw' (Mask R-CNN exports). */
export function inputDims(input: ModelManifest['input']): number[] {
  return input.layout === 'chw' ? [3, input.height, input.width] : [1, 3, input.height, input.width];
}

/** Runs a wasm-EP session on one CPU input (`dims`); outputs (logical → ONNX name) keyed by logical name. */
export async function runPartOnCpu(
  session: ort.InferenceSession,
  inputName: string,
  input: CpuTensor,
  outputs: Readonly<Record<string, string>>,
): Promise<CpuOutputs> {
  const feed = feedTensor(session, inputName, input);
  const results = await serialized(() => session.run({ [inputName]: feed }));
  const out: CpuOutputs = {};
  for (const [logical, tensorName] of Object.entries(outputs)) {
    const t = results[tensorName];
    if (!t) throw new Error(`the model returned no “${tensorName}”`);
    out[logical] = { data: asFloat32(t, tensorName), dims: t.dims };
  }
  return out;
}

/** Runs a whole single-part model on a preprocessed image tensor (the bench's CPU way). */
export function runOnCpu(session: ort.InferenceSession, manifest: ModelManifest, tensor: Float32Array): Promise<CpuOutputs> {
  return runPartOnCpu(session, manifest.input.name, { data: tensor, dims: inputDims(manifest.input) }, manifest.outputs);
}

/**
 * The input tensor as the session takes it: f32, or float16 (fp16 exports, read from the
 * session's input metadata) converted from the f32 image tensor, round to nearest even.
 */
export function feedTensor(session: ort.InferenceSession, inputName: string, input: CpuTensor): ort.Tensor {
  const meta = session.inputMetadata?.find((m) => m.name === inputName);
  if (meta?.isTensor && meta.type === 'float16') return new ort.Tensor('float16', floatsToHalfBits(input.data), input.dims);
  return new ort.Tensor('float32', input.data, input.dims);
}

/**
 * An output's values as f32. Integer outputs (the int64 / int32 labels of public Mask R-CNN
 * exports, class ids far below 2^24) are converted exactly; other types are refused.
 */
export function asFloat32(t: ort.Tensor, name: string): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  // fp16 exports: Uint16Array bits, or a Float16Array where the JS engine has one; both exact in f32.
  if (t.type === 'float16') return t.data instanceof Uint16Array ? halfBitsToFloat32(t.data) : Float32Array.from(t.data as ArrayLike<number>);
  if (t.type === 'int64' || t.type === 'int32' || t.type === 'float64') {
    return Float32Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
  }
  throw new Error(`output “${name}” is ${t.type}, expected float32 or float16 (or integer labels)`);
}
