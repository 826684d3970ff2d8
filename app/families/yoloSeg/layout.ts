/**
 * Export layouts of a YOLO-seg output → the layout the decoders read (f32, channel-major):
 *
 *   transposed raw head   output0 [1, N, 4+nc+32] (anchors first) → [1, 4+nc+32, N]
 *   float16 export        any output as IEEE binary16 → f32 (exact: every half is an f32)
 *
 * `yoloSegLayoutReference` is the TypeScript reference of shaders/yolo_seg_layout.wgsl
 * (host code: ./layoutKernel.ts), on the same input words; the CPU path uses
 * `normalizeYoloSegOutputs` on ORT's outputs (already f32 there: `halfBitsToFloat32` at the
 * ORT seam, app/pipeline/stages/onnx.ts), and `floatsToHalfBits` writes an f16 image tensor.
 */
import type { RawOutput } from '../yolact/reference';
import { YOLO_SEG_PROTOTYPES } from './manifest';

/**
 * Why a float16 model does not run on the 'webgpu' path: ORT's WebGPU EP needs the GPU
 * feature shader-f16 for its f16 kernels (SwiftShader and many integrated GPUs lack it: the
 * session is refused), and where it has it, that path's preprocess kernel writes an f32 image
 * tensor, which the model refuses. On 'wasm' and 'wasm+gpu' the image is converted to f16 at
 * the ORT seam and the f16 outputs read back exactly (app/pipeline/stages/onnx.ts).
 */
export function float16WebgpuMessage(model: string, deviceLacksF16: boolean): string {
  return (
    `${model} is a float16 export, which runs on the 'wasm+gpu' and 'wasm' paths here, not on 'webgpu': ` +
    (deviceLacksF16
      ? "ORT's WebGPU backend needs the GPU feature shader-f16, which this GPU does not have."
      : "the 'webgpu' path feeds the model a float32 image, and this model takes float16.") +
    " Pick 'wasm+gpu' (our GPU post-processing on its outputs) or 'wasm' for this pane."
  );
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One binary16 value (its 16 bits) as a number, exactly: subnormals, ±0, ±∞ and NaN included. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** binary16 bits → f32 values (ORT's float16 data without Float16Array: a Uint16Array). */
export function halfBitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfToFloat(bits[i]!);
  return out;
}

/** An f32 value → the nearest binary16 (round to nearest, ties to even; overflow → ±∞), as its 16 bits. */
export function floatToHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or 0): the 24-bit significand shifted right by 14 - e, rounded to even.
    if (e < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - e;
    const half = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly steps the exponent (up to ∞).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/** f32 values → binary16 bits (the image tensor of an fp16 export). */
export function floatsToHalfBits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = floatToHalfBits(values[i]!);
  return out;
}

/**
 * The reference of shaders/yolo_seg_layout.wgsl: `words` as the kernel binds them (f32 bits,
 * or two halves a word, the even element in the low half), `rows × cols` elements out,
 * read from `[cols, rows]` when `transposed`.
 */
export function yoloSegLayoutReference(words: Uint32Array, rows: number, cols: number, transposed: boolean, half: boolean): Float32Array {
  const out = new Float32Array(rows * cols);
  const asF32 = new Float32Array(words.buffer, words.byteOffset, half ? 0 : words.length);
  for (let i = 0; i < rows * cols; i++) {
    const r = Math.floor(i / cols);
    const c = i - r * cols;
    const j = transposed ? c * rows + r : i;
    out[i] = half ? halfToFloat(j & 1 ? words[j >> 1]! >>> 16 : words[j >> 1]! & 0xffff) : asF32[j]!;
  }
  return out;
}

/**
 * Whether a raw head's output0 dims are transposed ([1, N, 4+nc+32]): its last axis holds
 * the 4 + nc + 32 rows and the middle one does not. When both axes could be the rows (N =
 * 4 + nc + 32), the usual [1, 4+nc+32, N] is assumed.
 */
export function isTransposedHead(dims: readonly number[], numClasses: number): boolean {
  const rows = 4 + numClasses + YOLO_SEG_PROTOTYPES;
  return dims.length === 3 && dims[2] === rows && dims[1] !== rows;
}

/** The CPU outputs in the decoders' layout: a transposed output0 turned to [1, 4+nc+32, N] (a new array); others as they are. */
export function normalizeYoloSegOutputs(outputs: Record<string, RawOutput>, numClasses: number): Record<string, RawOutput> {
  const head = outputs.output0;
  if (!head || !isTransposedHead(head.dims, numClasses)) return outputs;
  const [, n, rows] = head.dims as [number, number, number];
  const words = new Uint32Array(head.data.buffer, head.data.byteOffset, head.data.length);
  return { ...outputs, output0: { data: yoloSegLayoutReference(words, rows, n, true, false), dims: [1, rows, n] } };
}
