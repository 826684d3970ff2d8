/**
 * Conformance cases of the maskCoefficients kernel, runnable on any GPUDevice (Vitest +
 * Dawn in Node, or the browser page kernel-tests.html). No test-framework imports here.
 * Also exports the small helpers the other mask-kernel cases share (records packing,
 * seeded random numbers, the CaseResult shape).
 */
import { readBuffer, uploadStorage, createStorageBuffer } from '../../../app/gpu/buffers';
import { RECORD_FLOATS, RECORD_HEADER_BYTES, recordsBufferBytes, type DecodedRecord } from '../../../app/gpu/layout';
import { maskCoefficientsReference, yolactMaskSpec, yoloSegMaskSpec, type MaskAssemblySpec } from '../../../app/reference/maskAssembly';
import { createMaskCoefficients, protoMasksBytes } from '../../../app/gpu/kernels/maskCoefficients';
import { runCases, type CaseResult } from './common';
import { seededRandom } from '../../../app/util/random';

export type { CaseResult };

export type RecordInit = Pick<DecodedRecord, 'box' | 'sourceIndex'> & Partial<DecodedRecord>;

/** DetectionRecords bytes: header (count, candidateCount) + `capacity` records. */
export function packRecords(records: readonly RecordInit[], capacity: number, candidateCount = 0): ArrayBuffer {
  const bytes = new ArrayBuffer(recordsBufferBytes(Math.max(capacity, 1)));
  const u32 = new Uint32Array(bytes);
  const f32 = new Float32Array(bytes);
  u32[0] = records.length;
  u32[1] = candidateCount;
  records.forEach((r, n) => {
    const o = RECORD_HEADER_BYTES / 4 + n * RECORD_FLOATS;
    f32.set(r.box, o);
    f32[o + 4] = r.score ?? 1 - n * 0.01;
    u32[o + 5] = r.classIndex ?? 0;
    u32[o + 6] = r.sourceIndex;
    u32[o + 7] = r.maskArea ?? 0;
  });
  return bytes;
}

export { seededRandom } from '../../../app/util/random';

/** Approximately normal numbers (sum of uniforms), for prototypes and coefficients. */
export function randomNormals(rand: () => number, count: number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (rand() + rand() + rand() + rand() - 2) * 1.7 * scale;
  return out;
}

/** Max abs difference and the first index above `tolerance` (−1 when none). */
export function compareFloats(actual: Float32Array, expected: ArrayLike<number>, tolerance: number): { maxAbsError: number; firstBad: number } {
  let maxAbsError = 0;
  let firstBad = -1;
  if (actual.length < expected.length) return { maxAbsError: Infinity, firstBad: actual.length };
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i]! - expected[i]!);
    if (!(e <= maxAbsError)) maxAbsError = Number.isNaN(e) ? Infinity : e;
    if (!(e <= tolerance) && firstBad < 0) firstBad = i;
  }
  return { maxAbsError, firstBad };
}

/** Runs one case body in its own error scope (`runCases` of ./common). */
export async function runCase(device: GPUDevice, kernel: string, name: string, body: () => Promise<Omit<CaseResult, 'kernel' | 'name'>>): Promise<CaseResult> {
  return (await runCases(kernel, device, [[name, body]]))[0]!;
}

interface CoefficientsCase {
  spec: MaskAssemblySpec;
  records: RecordInit[];
  coefficients: Float32Array;
  protos: Float32Array;
  capacity?: number;
}

/** Runs the kernel once; returns proto-space masks [count, H, W] and the records' maskArea. */
export async function runMaskCoefficients(device: GPUDevice, c: CoefficientsCase, sentinel = 0): Promise<{ protoMasks: Float32Array; maskAreas: number[] }> {
  const capacity = c.capacity ?? Math.max(c.records.length, 1);
  const kernel = createMaskCoefficients(device);
  const records = uploadStorage(device, 'test.records', new Uint8Array(packRecords(c.records, capacity)));
  const coefficients = uploadStorage(device, 'test.coefficients', c.coefficients);
  const protos = uploadStorage(device, 'test.protos', c.protos);
  const outBytes = protoMasksBytes(c.spec, capacity);
  const protoMasks = createStorageBuffer(device, 'test.protoMasks', outBytes);
  device.queue.writeBuffer(protoMasks, 0, new Float32Array(outBytes / 4).fill(sentinel));
  const encoder = device.createCommandEncoder({ label: 'test.maskCoefficients' });
  kernel.run(encoder, { records, coefficients, protos, protoMasks }, { spec: c.spec, maxDetections: capacity });
  device.queue.submit([encoder.finish()]);
  const plane = c.spec.protoWidth * c.spec.protoHeight;
  const out = new Float32Array(await readBuffer(device, protoMasks, 0, Math.max(1, c.records.length) * plane * 4));
  const rec = new Uint32Array(await readBuffer(device, records));
  const maskAreas = c.records.map((_, n) => rec[RECORD_HEADER_BYTES / 4 + n * RECORD_FLOATS + 7]!);
  for (const b of [records, coefficients, protos, protoMasks]) b.destroy();
  return { protoMasks: out.subarray(0, c.records.length * plane), maskAreas };
}

/**
 * Hand case: 4x4 prototypes, 2 of them: proto0 = 1, proto1 = column index. Detection 0 uses
 * prior 1 with coefficients (−1, 1) → logit c − 1; box (0.5, 0.5)–(0.75, 0.75) →
 * YOLACT crop [max(2 − 1, 0), min(3 + 1, 4)) = [1, 4) on both axes.
 */
function handProtos(layout: 'nhwc' | 'nchw'): Float32Array {
  const protos = new Float32Array(4 * 4 * 2);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      if (layout === 'nhwc') {
        protos[(r * 4 + c) * 2] = 1;
        protos[(r * 4 + c) * 2 + 1] = c;
      } else {
        protos[r * 4 + c] = 1;
        protos[16 + r * 4 + c] = c;
      }
    }
  }
  return protos;
}

const HAND_COEFFICIENTS = new Float32Array([2, 0, -1, 1]); // [2 priors, 2]
const HAND_EXPECTED_LOGITS = [0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 1, 2, 0, 0, 1, 2];

export async function maskCoefficientsConformance(device: GPUDevice): Promise<CaseResult[]> {
  const K = 'maskCoefficients';
  const results: CaseResult[] = [];
  const handBox: [number, number, number, number] = [0.5, 0.5, 0.75, 0.75];

  results.push(
    await runCase(device, K, 'hand 4x4, 2 prototypes, NHWC, logit, YOLACT crop', async () => {
      const spec = { ...yolactMaskSpec(4, 4, 2), activation: 'logit' as const };
      const { protoMasks } = await runMaskCoefficients(device, {
        spec,
        records: [{ box: handBox, sourceIndex: 1 }],
        coefficients: HAND_COEFFICIENTS,
        protos: handProtos('nhwc'),
      });
      const { maxAbsError, firstBad } = compareFloats(protoMasks, HAND_EXPECTED_LOGITS, 1e-6);
      return { pass: firstBad < 0, maxAbsError, detail: `got ${Array.from(protoMasks).join(',')}` };
    }),
  );

  results.push(
    await runCase(device, K, 'hand 4x4, sigmoid: σ(0)=0.5, σ(1)=0.7310586, σ(2)=0.8807971, 0 outside', async () => {
      const spec = yolactMaskSpec(4, 4, 2);
      const { protoMasks } = await runMaskCoefficients(device, {
        spec,
        records: [{ box: handBox, sourceIndex: 1 }],
        coefficients: HAND_COEFFICIENTS,
        protos: handProtos('nhwc'),
      });
      const s0 = 0.5,
        s1 = 0.7310586,
        s2 = 0.8807971;
      const expected = [0, 0, 0, 0, 0, s0, s1, s2, 0, s0, s1, s2, 0, s0, s1, s2];
      const { maxAbsError, firstBad } = compareFloats(protoMasks, expected, 1e-6);
      return { pass: firstBad < 0, maxAbsError, detail: `got ${Array.from(protoMasks, (v) => v.toFixed(6)).join(',')}` };
    }),
  );

  results.push(
    await runCase(device, K, 'hand 4x4, NCHW, integer crop, strided coefficients, 2 detections', async () => {
      // Coefficients as YOLO-seg's output0 with nc = 1 and 2 anchors: rows cx,cy,w,h,score,k0,k1.
      const output0 = new Float32Array([9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 2, -1, 0, 1]);
      const spec = { ...yoloSegMaskSpec(4, 4, 1, 2, 2) };
      // Detection 0: anchor 1 → logit c − 1, box x 0.25–0.75 (cols 1, 2), y 0–0.5 (rows 0, 1).
      // Detection 1: anchor 0 → logit 2, box (0.6..1) → cols/rows with 2.4 ≤ c < 4 → 3.
      const { protoMasks } = await runMaskCoefficients(device, {
        spec,
        records: [
          { box: [0.25, 0, 0.75, 0.5], sourceIndex: 1 },
          { box: [0.6, 0.6, 1, 1], sourceIndex: 0 },
        ],
        coefficients: output0,
        protos: handProtos('nchw'),
      });
      const expected = [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
      // detection 0, col 1 has logit 0 (kept, value 0): indistinguishable from cropped, as intended.
      const { maxAbsError, firstBad } = compareFloats(protoMasks, expected, 1e-6);
      return { pass: firstBad < 0, maxAbsError, detail: `got ${Array.from(protoMasks).join(',')}` };
    }),
  );

  results.push(
    await runCase(device, K, 'zero detections: output untouched, no error', async () => {
      const spec = yolactMaskSpec(4, 4, 2);
      const capacity = 3;
      const kernel = createMaskCoefficients(device);
      const records = uploadStorage(device, 'test.records', new Uint8Array(packRecords([], capacity)));
      const coefficients = uploadStorage(device, 'test.coefficients', HAND_COEFFICIENTS);
      const protos = uploadStorage(device, 'test.protos', handProtos('nhwc'));
      const protoMasks = uploadStorage(device, 'test.protoMasks', new Float32Array(capacity * 16).fill(7));
      const encoder = device.createCommandEncoder({ label: 'test.zeroDetections' });
      kernel.run(encoder, { records, coefficients, protos, protoMasks }, { spec, maxDetections: capacity });
      device.queue.submit([encoder.finish()]);
      const out = new Float32Array(await readBuffer(device, protoMasks));
      const untouched = out.every((v) => v === 7);
      return { pass: untouched, detail: untouched ? 'all 48 floats still 7' : 'kernel wrote for count = 0' };
    }),
  );

  results.push(
    await runCase(device, K, 'maskArea of kept records reset to 0', async () => {
      const { maskAreas } = await runMaskCoefficients(device, {
        spec: yolactMaskSpec(4, 4, 2),
        records: [
          { box: handBox, sourceIndex: 1, maskArea: 999 },
          { box: handBox, sourceIndex: 0, maskArea: 5 },
        ],
        coefficients: HAND_COEFFICIENTS,
        protos: handProtos('nhwc'),
      });
      return { pass: maskAreas.every((a) => a === 0), detail: `maskArea after: ${maskAreas.join(',')}` };
    }),
  );

  const randomCase = async (name: string, spec: MaskAssemblySpec, numPriors: number, seed: number, tolerance: number, numBoxes = 9) =>
    runCase(device, K, name, async () => {
      const rand = seededRandom(seed);
      const { protoWidth: w, protoHeight: h, numPrototypes: k } = spec;
      const protos = randomNormals(rand, w * h * k, 0.5);
      const { offset, indexStride, kStride } = spec.coefficients;
      const coeffLength = offset + (numPriors - 1) * indexStride + (k - 1) * kStride + 1;
      const coefficients = randomNormals(rand, coeffLength, 0.4);
      const boxes: [number, number, number, number][] = [
        [0, 0, 1, 1], // full image
        [0.3, 0.4, 0.302, 0.401], // smaller than a proto pixel
        [-0.2, 0.5, 0.4, 1.3], // partly outside
        [0.8, 0.7, 0.2, 0.1], // swapped corners
        [1.1, 1.1, 1.5, 1.4], // entirely outside
      ];
      while (boxes.length < numBoxes) {
        const x = rand() * 0.9,
          y = rand() * 0.9;
        boxes.push([x, y, x + rand() * (1 - x), y + rand() * (1 - y)]);
      }
      const records = boxes.map((box) => ({ box, sourceIndex: Math.floor(rand() * numPriors) }));
      const { protoMasks } = await runMaskCoefficients(device, { spec, records, coefficients, protos, capacity: records.length + 2 }, -5);
      const expected = maskCoefficientsReference(records, coefficients, protos, spec);
      const { maxAbsError, firstBad } = compareFloats(protoMasks, expected, tolerance);
      return {
        pass: firstBad < 0,
        maxAbsError,
        detail:
          `${records.length} detections on ${w}x${h}x${k}; max abs error ${maxAbsError.toExponential(2)} (tolerance ${tolerance})` +
          (firstBad >= 0 ? `; first bad at ${firstBad}: ${protoMasks[firstBad]} vs ${expected[firstBad]}` : ''),
      };
    });

  results.push(await randomCase('random 23x17x32 NHWC, YOLACT crop, sigmoid, edge boxes', yolactMaskSpec(23, 17), 40, 1, 1e-5));
  results.push(await randomCase('random 40x40x32 NCHW, integer crop, logits, strided coefficients', yoloSegMaskSpec(40, 40, 3, 60), 60, 2, 1e-4));
  results.push(await randomCase('random 138x138x32 NHWC (YOLACT-550 protos), sigmoid', yolactMaskSpec(138, 138), 19248, 3, 1e-5));
  results.push(await randomCase('random 20x12x32, 75 detections', yolactMaskSpec(20, 12), 300, 4, 1e-5, 75));
  return results;
}
