/**
 * Conformance cases of BlendMask's blender (shaders/blender.wgsl): hand-computed cases
 * first (one instance, K = 2, a 4x4 basis; the expected logits written out from the maths in
 * each case, not from the reference), then random cases against app/reference/blender.ts
 * (several instances, attentions on two FCOS levels, boxes on and past the image's edges,
 * K = 4 and 5), then the chain blender → maskPaste (detectron2, S = 56, class-agnostic) →
 * bit masks against the references. No test-runner imports (Vitest + Dawn, kernel-tests.html).
 */
import { createStorageBuffer, readBuffer, readF32, uploadStorage } from '../../../app/gpu/buffers';
import { createBlender, blenderLogitsBytes, nchwAttention, type AttentionLevelBuffer } from '../../../app/gpu/kernels/blender';
import { createMaskPaste } from '../../../app/gpu/kernels/maskPaste';
import { maskBitsBytes } from '../../../app/gpu/kernels/maskUpsample';
import { RECORD_FLOATS, RECORD_HEADER_BYTES } from '../../../app/gpu/layout';
import { blenderReference, nchwAttentionLevel, type AttentionLevel, type BlenderSpec } from '../../../app/reference/blender';
import { maskPasteReference, PASTE_THRESHOLD } from '../../../app/reference/maskPaste';
import { wordsPerRowFor } from '../../../app/reference/maskAssembly';
import { maxAbsDiff, rng, runCases, sharedKernel, type CaseResult } from './common';
import { packRecords, randomNormals, type RecordInit } from './maskCoefficients';
import { stretchTransform } from './maskUpsample';

/** f32 exp / division differences: the logits are O(1..10). */
export const BLENDER_TOLERANCE = 2e-5;

export interface BlenderCase {
  numBases: number;
  outSize: number;
  attnSize: number;
  /** [K, Hb, Wb] */
  bases: { data: Float32Array; height: number; width: number };
  /** FCOS levels' top_feats [1, K·M·M, H, W], first global location of each. */
  levels: { data: Float32Array; height: number; width: number; first: number }[];
  records: RecordInit[];
  capacity: number;
  input: { width: number; height: number };
}

const specOf = (c: BlenderCase): BlenderSpec => ({ numBases: c.numBases, outSize: c.outSize, attnSize: c.attnSize, spatialScale: 0.25 });

export function blenderCaseReference(c: BlenderCase) {
  const levels: AttentionLevel[] = c.levels.map((l) => nchwAttentionLevel(l.data, l.first, l.height, l.width));
  return blenderReference(c.bases, levels, c.records, c.capacity, c.input, specOf(c));
}

/** Runs the kernel; returns the logits [capacity, R, R] and the GPU buffers (records, logits) for a following paste. */
export async function runBlender(device: GPUDevice, c: BlenderCase, keep = false) {
  const records = uploadStorage(device, 'test.records', new Uint8Array(packRecords(c.records, c.capacity)));
  const bases = uploadStorage(device, 'test.bases', c.bases.data);
  const attention: AttentionLevelBuffer[] = c.levels.map((l, i) =>
    nchwAttention(uploadStorage(device, `test.topFeats${i}`, l.data), l.first, l.height, l.width),
  );
  const bytes = blenderLogitsBytes(c.capacity, c.outSize);
  const logits = uploadStorage(device, 'test.logits', new Float32Array(bytes / 4).fill(-99), GPUBufferUsage.COPY_SRC);
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'test.blender' });
  sharedKernel(device, 'blender', createBlender).run(
    encoder,
    { records, bases, attention, logits },
    {
      maxDetections: c.capacity,
      numBases: c.numBases,
      basisHeight: c.bases.height,
      basisWidth: c.bases.width,
      outSize: c.outSize,
      attnSize: c.attnSize,
      input: c.input,
      spatialScale: 0.25,
    },
  );
  device.queue.submit([encoder.finish()]);
  const values = await readF32(device, logits, c.capacity * c.outSize * c.outSize);
  const ms = performance.now() - t0;
  for (const b of [bases, ...attention.map((a) => a.buffer)]) b.destroy();
  if (!keep) {
    records.destroy();
    logits.destroy();
  }
  return { values, ms, records, logits };
}

const LN3 = Math.log(3);

/**
 * Hand case A (R = 4, M = 2, K = 2, a 4×4 basis): input 16×16, box the whole input → basis
 * box (0, 0, 4, 4) − 0.5 = [−0.5, 3.5], bin 1, samples at the integer grid: roi_k(py, px) =
 * basis_k[py, px]. Bases: b0 ≡ 1, b1 = 4y + x (0..15). Attentions: a0 ≡ 0, a1[i][j] = 4·ln3·(i + j).
 * Upsample 2 → 4 (align_corners=False): src = p/2 − 1/4 → taps (0, w 0), (0/1, w ¼), (0/1, w ¾),
 * (1, clamped), so along an axis 4·ln3·{0, 1, 2}… becomes ln3·e with e = (0, 1, 3, 4), and
 * a1(py, px) = ln3·(e(py) + e(px)) (bilinear of a sum of two 1-D ramps). Softmax of (0, a1):
 * w1 = 3^s / (3^s + 1), s = e(py) + e(px). logit = b0·(1 − w1) + b1·w1 = 1 + (4py + px − 1)·w1.
 */
function handCaseA(): { c: BlenderCase; want: number[] } {
  const b = new Float32Array(32);
  for (let i = 0; i < 16; i++) {
    b[i] = 1;
    b[16 + i] = i;
  }
  const a = new Float32Array(8); // [K·M·M = 8, H = 1, W = 1]: one location
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) a[4 + i * 2 + j] = 4 * LN3 * (i + j);
  const e = [0, 1, 3, 4];
  const want: number[] = [];
  for (let py = 0; py < 4; py++) {
    for (let px = 0; px < 4; px++) {
      const p = 3 ** (e[py]! + e[px]!);
      want.push(1 + (4 * py + px - 1) * (p / (p + 1)));
    }
  }
  const c: BlenderCase = {
    numBases: 2,
    outSize: 4,
    attnSize: 2,
    bases: { data: b, height: 4, width: 4 },
    levels: [{ data: a, height: 1, width: 1, first: 0 }],
    records: [{ box: [0, 0, 1, 1], sourceIndex: 0 }],
    capacity: 2, // a second row past the count: zeros
    input: { width: 16, height: 16 },
  };
  return { c, want: [...want, ...new Array<number>(16).fill(0)] };
}

/**
 * Hand case B (same bases, R = 4, M = 2): box (0.25, 0.25, 0.75, 0.75) of 16×16 → pixels
 * (4, 4, 12, 12) → basis (1, 1, 3, 3) − 0.5: start 0.5, bin 0.5, samples at 0.75, 1.25, 1.75,
 * 2.25 on both axes; b1 = 4y + x is linear there, so roi_1 = 4y + x, roi_0 = 1. Attentions
 * all 0 → softmax ½, ½ → logit = (1 + 4y + x) / 2. The record's attention row is location 5
 * of level 1 (first location 4, a 2×2 map): level lookup by sourceIndex; level 0 and level 1's
 * other locations have a1 ≫ a0 (were they read, the softmax would not be ½).
 */
function handCaseB(): { c: BlenderCase; want: number[] } {
  const { c: a } = handCaseA();
  const s = [0.75, 1.25, 1.75, 2.25];
  const want: number[] = [];
  for (const y of s) for (const x of s) want.push((1 + 4 * y + x) / 2);
  const level0 = new Float32Array(8 * 4).fill(0);
  level0.fill(50, 4 * 4); // a1 = 50 at every level-0 location

  const level1 = new Float32Array(8 * 4).fill(0);
  for (let j = 0; j < 8; j++) for (const loc of [0, 2, 3]) level1[j * 4 + loc] = j < 4 ? 0 : 40; // other locations favour b1
  const c: BlenderCase = {
    ...a,
    levels: [
      { data: level0, height: 2, width: 2, first: 0 },
      { data: level1, height: 2, width: 2, first: 4 },
    ],
    records: [{ box: [0.25, 0.25, 0.75, 0.75], sourceIndex: 5 }],
    capacity: 1,
  };
  return { c, want };
}

/**
 * Hand case C, BlendMask's sizes (R = 56, M = 14, K = 2, a 4×4 basis): input 16×16, whole box:
 * start −0.5, bin 4/56, sample x = −0.5 + (px + 0.5)/14. Bases b0 = x, b1 = y (ramps 0..3);
 * torchvision's bilinear clamps a sample below 0 to 0 and one at ≥ 3 to 3, so roi_0 =
 * clamp(x, 0, 3), roi_1 = clamp(y, 0, 3). Attentions a0 ≡ 0, a1 ≡ ln 3 → softmax ¼, ¾:
 * logit = (clamp(x) + 3·clamp(y)) / 4.
 */
function handCaseC(): { c: BlenderCase; want: number[] } {
  const b = new Float32Array(32);
  for (let y = 0; y < 4; y++)
    for (let x = 0; x < 4; x++) {
      b[y * 4 + x] = x;
      b[16 + y * 4 + x] = y;
    }
  const a = new Float32Array(2 * 196);
  a.fill(LN3, 196);
  const clamp = (v: number) => Math.min(Math.max(v, 0), 3);
  const want: number[] = [];
  for (let py = 0; py < 56; py++) {
    for (let px = 0; px < 56; px++) want.push((clamp(-0.5 + (px + 0.5) / 14) + 3 * clamp(-0.5 + (py + 0.5) / 14)) / 4);
  }
  const c: BlenderCase = {
    numBases: 2,
    outSize: 56,
    attnSize: 14,
    bases: { data: b, height: 4, width: 4 },
    levels: [{ data: a, height: 1, width: 1, first: 0 }],
    records: [{ box: [0, 0, 1, 1], sourceIndex: 0 }],
    capacity: 1,
    input: { width: 16, height: 16 },
  };
  return { c, want };
}

async function handCase(device: GPUDevice, make: () => { c: BlenderCase; want: number[] }) {
  const { c, want } = make();
  const { values, ms } = await runBlender(device, c);
  const err = maxAbsDiff(values, want);
  const refErr = maxAbsDiff(blenderCaseReference(c).logits, want);
  return {
    pass: err <= 1e-5 && refErr <= 1e-5,
    maxAbsError: err,
    ms,
    detail: `first row ${Array.from(values.subarray(0, Math.min(4, values.length)), (v) => v.toFixed(4)).join(',')}; reference err ${refErr.toExponential(2)}`,
  };
}

/**
 * A random BlendMask-like case: input W×H (multiple of 32, bases at stride 4), FCOS levels of
 * strides 8 and 16 (two attention buffers), `count` records with boxes of every size, some
 * over the edges or partly outside the input, each on a random location of either level.
 */
export function randomBlenderCase(seed: number, numBases: number, count: number, input = { width: 128, height: 96 }): BlenderCase {
  const r = rng(seed);
  const M = 14;
  const Hb = input.height / 4;
  const Wb = input.width / 4;
  const bases = { data: randomNormals(r, numBases * Hb * Wb, 1.5), height: Hb, width: Wb };
  const levels: BlenderCase['levels'] = [];
  let first = 0;
  for (const stride of [8, 16]) {
    const h = input.height / stride;
    const w = input.width / stride;
    levels.push({ data: randomNormals(r, numBases * M * M * h * w, 2), height: h, width: w, first });
    first += h * w;
  }
  const edges: [number, number, number, number][] = [
    [0, 0, 1, 1], // the whole input
    [-0.25, -0.1, 0.3, 0.4], // over the top-left corner
    [0.8, 0.7, 1.3, 1.05], // partly outside bottom-right
    [0.97, 0.2, 1.0, 0.26], // thin, on the right edge
    [0.5, 0.5, 0.503, 0.505], // smaller than a basis cell
  ];
  const records: RecordInit[] = [];
  for (let n = 0; n < count; n++) {
    let box = edges[n];
    if (!box) {
      const w = 0.02 + r() * 0.6;
      const h = 0.02 + r() * 0.6;
      const x = -0.1 + r() * 1.0;
      const y = -0.1 + r() * 1.0;
      box = [x, y, x + w, y + h];
    }
    records.push({ box, sourceIndex: Math.floor(r() * first), classIndex: Math.floor(r() * 80) });
  }
  return { numBases, outSize: 56, attnSize: M, bases, levels, records, capacity: count + 3, input };
}

async function randomCase(device: GPUDevice, c: BlenderCase, tol = BLENDER_TOLERANCE) {
  const { values, ms } = await runBlender(device, c);
  const { logits } = blenderCaseReference(c);
  const err = maxAbsDiff(values, logits);
  const onLevel1 = c.records.filter((rec) => rec.sourceIndex >= c.levels[1]!.first).length;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of logits) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return {
    pass: err <= tol,
    maxAbsError: err,
    ms,
    detail: `K ${c.numBases}, ${c.records.length}/${c.capacity} records (${onLevel1} on level 1), bases ${c.bases.width}x${c.bases.height}, logits in [${lo.toFixed(2)}, ${hi.toFixed(2)}]`,
  };
}

/** Blender → maskPaste (detectron2, S = 56, class-agnostic) → bits vs maskPasteReference on the reference logits. */
async function chainCase(device: GPUDevice, c: BlenderCase) {
  const image = { width: 200, height: 150 };
  const transform = stretchTransform(c.input.width, c.input.height, image.width, image.height);
  const { records, logits, ms } = await runBlender(device, c, true);
  const maskBits = createStorageBuffer(device, 'test.maskBits', maskBitsBytes(image, c.capacity), GPUBufferUsage.COPY_SRC);
  const encoder = device.createCommandEncoder({ label: 'test.blendPaste' });
  const paste = sharedKernel(device, 'maskPaste', createMaskPaste);
  paste.run(
    encoder,
    { records, maskLogits: logits, maskBits },
    { numClasses: 80, maskSize: 56, transform, image, mask: image, maxDetections: c.capacity, mode: 'detectron2', classAgnostic: true },
  );
  device.queue.submit([encoder.finish()]);
  const bits = new Uint32Array(await readBuffer(device, maskBits));
  const rec = new Uint32Array(await readBuffer(device, records));
  for (const b of [records, logits, maskBits]) b.destroy();
  const ref = maskPasteReference(
    c.records.map((r) => ({ box: r.box, classIndex: r.classIndex ?? 0 })),
    blenderCaseReference(c).logits,
    { numClasses: 80, maskSize: 56, mode: 'detectron2', classAgnostic: true },
    transform,
    image,
    image,
    true,
  );
  const wpr = wordsPerRowFor(image.width);
  let mismatches = 0;
  let excused = 0;
  for (let i = 0; i < c.records.length * image.height * wpr; i++) {
    const diff = (bits[i]! ^ ref.masks.bits[i]!) >>> 0;
    for (let b = 0; b < 32; b++) {
      if (((diff >>> b) & 1) === 0) continue;
      const row = Math.floor(i / wpr);
      const x = (i % wpr) * 32 + b;
      // The blender's logits differ from the reference's by ≤ BLENDER_TOLERANCE: a pixel may flip where the value is that close to 0.5.
      if (Math.abs(ref.soft![row * image.width + x]! - PASTE_THRESHOLD) <= 1e-5) excused++;
      else mismatches++;
    }
  }
  const areas = c.records.map((_, n) => rec[RECORD_HEADER_BYTES / 4 + n * RECORD_FLOATS + 7]!);
  const areaDiff = areas.reduce((m, a, n) => Math.max(m, Math.abs(a - ref.areas[n]!)), 0);
  const nonEmpty = ref.areas.filter((a) => a > 0).length;
  return {
    pass: mismatches === 0 && areaDiff <= excused && nonEmpty > 0,
    ms,
    detail: `${c.records.length} records → ${image.width}x${image.height}: ${mismatches} mismatched pixels, ${excused} excused; areas ${areas.join(',')}; ${nonEmpty} non-empty`,
  };
}

export async function blenderConformance(device: GPUDevice): Promise<CaseResult[]> {
  return runCases('blender', device, [
    [
      'hand: K 2, 4x4 basis, R 4, M 2, whole box → roi = basis, softmax(0, ln3·(e(y)+e(x))) written out; row past the count is 0',
      () => handCase(device, handCaseA),
    ],
    ['hand: box (1,1,3,3) on the basis → samples 0.75..2.25, equal attentions → (1 + 4y + x)/2; attention row from level 1', () => handCase(device, handCaseB)],
    ['hand: R 56, M 14, ramps x and y, attentions (0, ln3) → (clamp(x) + 3·clamp(y))/4 with the border clamps', () => handCase(device, handCaseC)],
    ['random: BlendMask K 4, 12 records, edges and outside, two levels', () => randomCase(device, randomBlenderCase(11, 4, 12))],
    ['random: B2Inst K 5 (boundary basis), 20 records, 160x128 input', () => randomCase(device, randomBlenderCase(12, 5, 20, { width: 160, height: 128 }))],
    ['random: K 8 (the most the kernel holds), 6 records', () => randomCase(device, randomBlenderCase(13, 8, 6))],
    ['random: no records (count 0) → all rows 0', () => randomCase(device, randomBlenderCase(14, 4, 0))],
    ['chain: blender K 5 → maskPaste detectron2 56 class-agnostic → bits as the references', () => chainCase(device, randomBlenderCase(15, 5, 10))],
  ]);
}
