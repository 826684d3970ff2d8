/**
 * Prototype mask assembly in plain TypeScript: the oracle of the `maskCoefficients` and
 * `maskUpsample` kernels, and the mask step of the no-WebGPU path.
 *
 * Two steps, as YOLACT (and Ultralytics YOLO-seg) do it:
 * 1. proto space: `m[n, r, c] = act(Σ_k protos[r, c, k] · coefficients[sourceIndex_n, k])`,
 *    zero outside the instance's crop box → `[count, protoH, protoW]` f32;
 * 2. image space: bilinear (PyTorch align_corners=False mapping) from proto space straight to
 *    the mask resolution through the input→image transform, threshold, bit-packed.
 *
 * Float arithmetic that decides crop edges and sample positions is rounded to f32
 * (`Math.fround`) in the same order as the WGSL, so that the kernels and this reference
 * agree bit for bit on which pixels are inside a crop; the remaining differences are the
 * f32 rounding of the dot product and of exp (about 1e-6 on a sigmoid), which can only flip
 * a mask pixel whose value is within that distance of the threshold.
 */
import type { InstanceMasks } from '../types';
import type { DecodedRecord, InputTransform } from '../gpu/layout';

const f = Math.fround;

/** How the prototypes tensor is laid out: YOLACT `[1, H, W, K]`, YOLO-seg `[1, K, H, W]`. */
export type ProtoLayout = 'nhwc' | 'nchw';

/**
 * How the proto-space mask is cropped to the instance's box (box relative to the model
 * input; the prototypes cover the whole model input in both families):
 * - 'yolact-padded': YOLACT's `crop(padding=1)`: x1' = max(min(x1,x2)·P − 1, 0),
 *   x2' = min(max(x1,x2)·P + 1, P), keep x1' ≤ c < x2' (same for rows);
 * - 'integer': Ultralytics `crop_mask`: boxes in proto pixels, keep x1 ≤ c < x2;
 * - 'none': no crop.
 */
export type MaskCropMode = 'yolact-padded' | 'integer' | 'none';

/** 'sigmoid' gives probabilities (threshold 0.5); 'logit' keeps the raw sum (threshold 0). */
export type MaskActivation = 'sigmoid' | 'logit';

/** Where coefficient k of prior i lives: `coefficients[offset + i·indexStride + k·kStride]`. */
export interface CoefficientLayout {
  offset: number;
  indexStride: number;
  kStride: number;
}

/** Everything that says how one family's prototypes and coefficients make masks. */
export interface MaskAssemblySpec {
  protoWidth: number;
  protoHeight: number;
  /** K prototypes (32 for YOLACT and YOLO-seg); at most 64. */
  numPrototypes: number;
  protoLayout: ProtoLayout;
  cropMode: MaskCropMode;
  activation: MaskActivation;
  coefficients: CoefficientLayout;
}

/** The most prototypes the host code accepts (YOLACT and YOLO-seg use 32). */
export const MAX_PROTOTYPES = 64;

/** YOLACT: mask `[1, N, 32]` tanh coefficients, proto `[1, P, P, 32]` NHWC, padded crop, sigmoid. */
export function yolactMaskSpec(protoWidth: number, protoHeight: number, numPrototypes = 32): MaskAssemblySpec {
  return {
    protoWidth,
    protoHeight,
    numPrototypes,
    protoLayout: 'nhwc',
    cropMode: 'yolact-padded',
    activation: 'sigmoid',
    coefficients: { offset: 0, indexStride: numPrototypes, kStride: 1 },
  };
}

/**
 * YOLO-seg: output0 `[1, 4 + nc + 32, N]` (coefficients are rows 4 + nc …), output1
 * `[1, 32, H, W]` NCHW, integer crop, raw logits (threshold 0).
 */
export function yoloSegMaskSpec(protoWidth: number, protoHeight: number, numClasses: number, numAnchors: number, numPrototypes = 32): MaskAssemblySpec {
  return {
    protoWidth,
    protoHeight,
    numPrototypes,
    protoLayout: 'nchw',
    cropMode: 'integer',
    activation: 'logit',
    coefficients: { offset: (4 + numClasses) * numAnchors, indexStride: 1, kStride: numAnchors },
  };
}

/** Mask threshold for an activation: a pixel is in the mask when value > threshold. */
export function maskThreshold(activation: MaskActivation): number {
  return activation === 'sigmoid' ? 0.5 : 0;
}

/**
 * Half-open proto-pixel range [start, end) kept along one axis for box edges lo, hi
 * (relative to the model input) on a proto axis of `size` pixels; pixel c is kept when
 * start ≤ c < end. f32 arithmetic, same order as the WGSL `cropRange`.
 */
export function cropRange(lo: number, hi: number, size: number, mode: MaskCropMode): [number, number] {
  const s = f(size);
  if (mode === 'yolact-padded') {
    const a = f(Math.min(f(lo), f(hi)) * s);
    const b = f(Math.max(f(lo), f(hi)) * s);
    return [Math.max(f(a - 1), 0), Math.min(f(b + 1), s)];
  }
  if (mode === 'integer') return [f(f(lo) * s), f(f(hi) * s)];
  return [0, s];
}

/** Numerically safe logistic, the same two-branch form as the WGSL. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * Step 1: proto-space masks `[records.length, protoH, protoW]` (f32), cropped, zero outside.
 * `coefficients` and `protos` are the raw model outputs described by `spec`.
 */
export function maskCoefficientsReference(
  records: readonly Pick<DecodedRecord, 'box' | 'sourceIndex'>[],
  coefficients: Float32Array,
  protos: Float32Array,
  spec: MaskAssemblySpec,
): Float32Array {
  const { protoWidth: pw, protoHeight: ph, numPrototypes: kCount } = spec;
  const out = new Float32Array(records.length * ph * pw);
  const coeff = new Float64Array(kCount);
  const plane = pw * ph;
  records.forEach((rec, n) => {
    const { offset, indexStride, kStride } = spec.coefficients;
    for (let k = 0; k < kCount; k++) coeff[k] = coefficients[offset + rec.sourceIndex * indexStride + k * kStride]!;
    const [x1, y1, x2, y2] = rec.box;
    const [cx1, cx2] = cropRange(x1, x2, pw, spec.cropMode);
    const [ry1, ry2] = cropRange(y1, y2, ph, spec.cropMode);
    for (let r = 0; r < ph; r++) {
      if (!(r >= ry1 && r < ry2)) continue;
      for (let c = 0; c < pw; c++) {
        if (!(c >= cx1 && c < cx2)) continue;
        let sum = 0;
        if (spec.protoLayout === 'nhwc') {
          const base = (r * pw + c) * kCount;
          for (let k = 0; k < kCount; k++) sum += protos[base + k]! * coeff[k]!;
        } else {
          const base = r * pw + c;
          for (let k = 0; k < kCount; k++) sum += protos[k * plane + base]! * coeff[k]!;
        }
        out[(n * ph + r) * pw + c] = spec.activation === 'sigmoid' ? sigmoid(sum) : sum;
      }
    }
  });
  return out;
}

/**
 * Where mask pixel centres fall in proto space: `src = (x + 0.5) · scale + bias` (bias
 * includes PyTorch's −0.5). Mask pixel x → image pixel (x + 0.5)·imageW/maskW → model input
 * (relative) (img·gain + offset)/inputW → proto pixel ·protoW. With a stretch transform and
 * maskW = imageW this is exactly `F.interpolate(protoMask, (h, w), 'bilinear',
 * align_corners=False)`; with letterbox the pad is removed first.
 */
export interface UpsampleMapping {
  scaleX: number;
  biasX: number;
  scaleY: number;
  biasY: number;
}

export function upsampleMapping(
  transform: InputTransform,
  image: { width: number; height: number },
  mask: { width: number; height: number },
  proto: { width: number; height: number },
): UpsampleMapping {
  return {
    scaleX: f(((image.width / mask.width) * transform.gainX * proto.width) / transform.inputWidth),
    biasX: f((transform.offsetX * proto.width) / transform.inputWidth - 0.5),
    scaleY: f(((image.height / mask.height) * transform.gainY * proto.height) / transform.inputHeight),
    biasY: f((transform.offsetY * proto.height) / transform.inputHeight - 0.5),
  };
}

/** One axis of bilinear sampling: taps i0, i1 and the weight of i1 (PyTorch's rules). */
export function bilinearTaps(dst: number, scale: number, bias: number, size: number): [number, number, number] {
  const src = Math.max(f(f(f(dst + 0.5) * scale) + bias), 0);
  const i0 = Math.min(Math.floor(src), size - 1);
  const i1 = Math.min(i0 + 1, size - 1);
  return [i0, i1, f(src - i0)];
}

/** Words of one bit-packed mask row. */
export function wordsPerRowFor(width: number): number {
  return Math.ceil(width / 32);
}

/**
 * Step 2: bit-packed masks at mask resolution + per-instance area. Also returns the soft
 * (pre-threshold) values when `keepSoft` is set, which the kernel tests use to excuse pixels
 * whose value lies within f32 rounding of the threshold.
 */
export function maskUpsampleReference(
  protoMasks: Float32Array,
  count: number,
  spec: Pick<MaskAssemblySpec, 'protoWidth' | 'protoHeight' | 'activation'>,
  mapping: UpsampleMapping,
  mask: { width: number; height: number },
  keepSoft = false,
): { masks: InstanceMasks; areas: number[]; soft?: Float32Array } {
  const { protoWidth: pw, protoHeight: ph } = spec;
  const { width: mw, height: mh } = mask;
  const wordsPerRow = wordsPerRowFor(mw);
  const bits = new Uint32Array(count * mh * wordsPerRow);
  const soft = keepSoft ? new Float32Array(count * mh * mw) : undefined;
  const threshold = maskThreshold(spec.activation);
  const xs = Array.from({ length: mw }, (_, x) => bilinearTaps(x, mapping.scaleX, mapping.biasX, pw));
  const areas: number[] = [];
  for (let n = 0; n < count; n++) {
    let area = 0;
    const planeBase = n * ph * pw;
    for (let y = 0; y < mh; y++) {
      const [y0, y1, ly] = bilinearTaps(y, mapping.scaleY, mapping.biasY, ph);
      const row0 = planeBase + y0 * pw;
      const row1 = planeBase + y1 * pw;
      for (let x = 0; x < mw; x++) {
        const [x0, x1, lx] = xs[x]!;
        const top = (1 - lx) * protoMasks[row0 + x0]! + lx * protoMasks[row0 + x1]!;
        const bottom = (1 - lx) * protoMasks[row1 + x0]! + lx * protoMasks[row1 + x1]!;
        const v = (1 - ly) * top + ly * bottom;
        if (soft) soft[(n * mh + y) * mw + x] = v;
        if (v > threshold) {
          bits[(n * mh + y) * wordsPerRow + (x >>> 5)]! |= 1 << (x & 31);
          area++;
        }
      }
    }
    areas.push(area);
  }
  return { masks: { width: mw, height: mh, bits, wordsPerRow }, areas, soft };
}

/** Both steps: raw outputs + kept records → InstanceMasks and areas (the CPU mask path). */
export function assembleMasksReference(
  records: readonly Pick<DecodedRecord, 'box' | 'sourceIndex'>[],
  coefficients: Float32Array,
  protos: Float32Array,
  spec: MaskAssemblySpec,
  transform: InputTransform,
  image: { width: number; height: number },
  mask: { width: number; height: number } = image,
): { masks: InstanceMasks; areas: number[] } {
  const protoMasks = maskCoefficientsReference(records, coefficients, protos, spec);
  const mapping = upsampleMapping(transform, image, mask, { width: spec.protoWidth, height: spec.protoHeight });
  const { masks, areas } = maskUpsampleReference(protoMasks, records.length, spec, mapping, mask);
  return { masks, areas };
}

/** Mask resolution for an image: the image size, scaled down so the longer side ≤ maxSide. */
export function maskSizeFor(imageWidth: number, imageHeight: number, maxSide = 1280): { width: number; height: number } {
  const s = Math.min(1, maxSide / Math.max(imageWidth, imageHeight));
  return { width: Math.max(1, Math.round(imageWidth * s)), height: Math.max(1, Math.round(imageHeight * s)) };
}

/** Pixel (x, y) of mask n. */
export function maskBit(masks: InstanceMasks, n: number, x: number, y: number): boolean {
  const word = masks.bits[(n * masks.height + y) * masks.wordsPerRow + (x >>> 5)]!;
  return ((word >>> (x & 31)) & 1) === 1;
}
