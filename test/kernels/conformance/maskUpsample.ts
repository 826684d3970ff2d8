/**
 * Conformance cases of the maskUpsample kernel (no test-framework imports; runs in Node
 * through Dawn and in the browser page kernel-tests.html).
 */
import { createStorageBuffer, readBuffer, uploadStorage, writeTyped } from '../../../app/gpu/buffers';
import { RECORD_FLOATS, RECORD_HEADER_BYTES, type InputTransform } from '../../../app/gpu/layout';
import {
  maskCoefficientsReference,
  maskThreshold,
  maskUpsampleReference,
  upsampleMapping,
  wordsPerRowFor,
  yolactMaskSpec,
  type MaskAssemblySpec,
} from '../../../app/reference/maskAssembly';
import { createMaskUpsample, maskBitsBytes } from '../../../app/gpu/kernels/maskUpsample';
import { packRecords, randomNormals, runCase, seededRandom, type CaseResult, type RecordInit } from './maskCoefficients';

type UpsampleSpec = Pick<MaskAssemblySpec, 'protoWidth' | 'protoHeight' | 'cropMode' | 'activation'>;

interface UpsampleCase {
  spec: UpsampleSpec;
  records: RecordInit[];
  /** f32 [records.length, protoH, protoW] */
  protoMasks: Float32Array;
  transform: InputTransform;
  image: { width: number; height: number };
  mask: { width: number; height: number };
  capacity?: number;
}

export function stretchTransform(inputWidth: number, inputHeight: number, imageWidth: number, imageHeight: number): InputTransform {
  return { inputWidth, inputHeight, gainX: inputWidth / imageWidth, gainY: inputHeight / imageHeight, offsetX: 0, offsetY: 0 };
}

/** Runs the kernel once: the first `records.length` bit planes and maskAreas. */
export async function runMaskUpsample(device: GPUDevice, c: UpsampleCase, sentinel = 0): Promise<{ bits: Uint32Array; maskAreas: number[] }> {
  const capacity = c.capacity ?? Math.max(c.records.length, 1);
  const kernel = createMaskUpsample(device);
  const records = uploadStorage(device, 'test.records', new Uint8Array(packRecords(c.records, capacity)));
  const protoBytes = Math.max(capacity * c.spec.protoWidth * c.spec.protoHeight * 4, c.protoMasks.byteLength);
  const protoMasks = createStorageBuffer(device, 'test.protoMasks', protoBytes);
  if (c.protoMasks.byteLength) writeTyped(device, protoMasks, c.protoMasks);
  const bitsBytes = maskBitsBytes(c.mask, capacity);
  const maskBits = uploadStorage(device, 'test.maskBits', new Uint32Array(bitsBytes / 4).fill(sentinel));
  const encoder = device.createCommandEncoder({ label: 'test.maskUpsample' });
  kernel.run(encoder, { records, protoMasks, maskBits }, { spec: c.spec, transform: c.transform, image: c.image, mask: c.mask, maxDetections: capacity });
  device.queue.submit([encoder.finish()]);
  const bits = new Uint32Array(await readBuffer(device, maskBits));
  const rec = new Uint32Array(await readBuffer(device, records));
  const maskAreas = c.records.map((_, n) => rec[RECORD_HEADER_BYTES / 4 + n * RECORD_FLOATS + 7]!);
  for (const b of [records, protoMasks, maskBits]) b.destroy();
  const planeWords = c.mask.height * wordsPerRowFor(c.mask.width);
  return { bits: bits.subarray(0, c.records.length * planeWords), maskAreas };
}

/**
 * Compares kernel bits with the reference. A pixel may differ only where the reference's
 * soft value is within `nearThreshold` of the threshold (f32 rounding of the sums).
 */
export function compareBits(
  actual: Uint32Array,
  c: UpsampleCase,
  nearThreshold = 1e-5,
): { mismatches: number; excused: number; detail: string; referenceAreas: number[] } {
  const mapping = upsampleMapping(c.transform, c.image, c.mask, { width: c.spec.protoWidth, height: c.spec.protoHeight });
  const ref = maskUpsampleReference(c.protoMasks, c.records.length, c.spec, mapping, c.mask, true);
  const soft = ref.soft!;
  const { width: w, height: h } = c.mask;
  const wpr = wordsPerRowFor(w);
  const threshold = maskThreshold(c.spec.activation);
  let mismatches = 0;
  let excused = 0;
  let first = '';
  for (let n = 0; n < c.records.length; n++) {
    for (let y = 0; y < h; y++) {
      for (let wx = 0; wx < wpr; wx++) {
        const i = (n * h + y) * wpr + wx;
        const diff = (actual[i]! ^ ref.masks.bits[i]!) >>> 0;
        if (diff === 0) continue;
        for (let b = 0; b < 32; b++) {
          if (((diff >>> b) & 1) === 0) continue;
          const x = wx * 32 + b;
          if (x >= w) {
            mismatches++;
            first ||= `instance ${n} row ${y}: bit set beyond the width (x = ${x})`;
            continue;
          }
          const v = soft[(n * h + y) * w + x]!;
          if (Math.abs(v - threshold) <= nearThreshold) excused++;
          else {
            mismatches++;
            first ||= `instance ${n} pixel (${x}, ${y}): reference value ${v}`;
          }
        }
      }
    }
  }
  return {
    mismatches,
    excused,
    referenceAreas: ref.areas,
    detail: `${mismatches} mismatched pixels, ${excused} within ${nearThreshold} of the threshold${first ? `; first: ${first}` : ''}`,
  };
}

function popcount(words: Uint32Array): number {
  let total = 0;
  for (let v of words) {
    for (; v; v &= v - 1) total++;
  }
  return total;
}

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export async function maskUpsampleConformance(device: GPUDevice): Promise<CaseResult[]> {
  const K = 'maskUpsample';
  const results: CaseResult[] = [];
  const noCrop: UpsampleSpec = { protoWidth: 2, protoHeight: 2, cropMode: 'none', activation: 'sigmoid' };
  const fullBox: [number, number, number, number] = [0, 0, 1, 1];

  results.push(
    await runCase(device, K, 'hand 2x2 → 4x4 stretch: columns 2, 3 set (values 0.75, 1)', async () => {
      // proto [[0, 1], [0, 1]]: src x = (x + 0.5)/2 − 0.5 → 0 (clamped), 0.25, 0.75, 1.25 → values 0, 0.25, 0.75, 1.
      const c: UpsampleCase = {
        spec: noCrop,
        records: [{ box: fullBox, sourceIndex: 0 }],
        protoMasks: new Float32Array([0, 1, 0, 1]),
        transform: stretchTransform(550, 550, 4, 4),
        image: { width: 4, height: 4 },
        mask: { width: 4, height: 4 },
      };
      const { bits, maskAreas } = await runMaskUpsample(device, c, 0xdeadbeef);
      const passed = sameArray(bits, [0b1100, 0b1100, 0b1100, 0b1100]) && maskAreas[0] === 8;
      return { pass: passed, detail: `words ${Array.from(bits).join(',')}, area ${maskAreas[0]} (expected 12,12,12,12 and 8)` };
    }),
  );

  results.push(
    await runCase(device, K, 'hand 2x1 → 70x2: 3 words a row, x ≥ 35 set, area 70', async () => {
      // value = clamp((x + 0.5)·2/70 − 0.5, 0, 1) > 0.5  ⇔  x ≥ 35.
      const c: UpsampleCase = {
        spec: { ...noCrop, protoHeight: 1 },
        records: [{ box: fullBox, sourceIndex: 0 }],
        protoMasks: new Float32Array([0, 1]),
        transform: stretchTransform(64, 64, 70, 2),
        image: { width: 70, height: 2 },
        mask: { width: 70, height: 2 },
      };
      const { bits, maskAreas } = await runMaskUpsample(device, c, 0xffffffff);
      const row = [0, 0xfffffff8, 0x3f];
      const passed = sameArray(bits, [...row, ...row]) && maskAreas[0] === 70;
      return { pass: passed, detail: `words ${Array.from(bits, (v) => v.toString(16)).join(',')}, area ${maskAreas[0]}` };
    }),
  );

  results.push(
    await runCase(device, K, 'hand letterbox 8x8 input, 8x4 image (pad 2 top/bottom): rows 2, 3 set', async () => {
      // proto 4x4 rows [0, 0, 1, 1]; image row y → input y + 2 → src (y + 2.5)/2 − 0.5 = 0.75, 1.25, 1.75, 2.25
      // → values 0, 0.25, 0.75, 1.
      const protoMasks = new Float32Array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
      const c: UpsampleCase = {
        spec: { ...noCrop, protoWidth: 4, protoHeight: 4 },
        records: [{ box: fullBox, sourceIndex: 0 }],
        protoMasks,
        transform: { inputWidth: 8, inputHeight: 8, gainX: 1, gainY: 1, offsetX: 0, offsetY: 2 },
        image: { width: 8, height: 4 },
        mask: { width: 8, height: 4 },
      };
      const { bits, maskAreas } = await runMaskUpsample(device, c, 0xffffffff);
      const passed = sameArray(bits, [0, 0, 0xff, 0xff]) && maskAreas[0] === 16;
      return { pass: passed, detail: `words ${Array.from(bits, (v) => v.toString(16)).join(',')}, area ${maskAreas[0]}` };
    }),
  );

  results.push(
    await runCase(device, K, 'zero detections: bits untouched', async () => {
      const c: UpsampleCase = {
        spec: noCrop,
        records: [],
        protoMasks: new Float32Array(8).fill(1),
        transform: stretchTransform(4, 4, 40, 3),
        image: { width: 40, height: 3 },
        mask: { width: 40, height: 3 },
        capacity: 2,
      };
      const kernel = createMaskUpsample(device);
      const records = uploadStorage(device, 'test.records', new Uint8Array(packRecords([], 2)));
      const protoMasks = uploadStorage(device, 'test.protoMasks', c.protoMasks);
      const maskBits = uploadStorage(device, 'test.maskBits', new Uint32Array(maskBitsBytes(c.mask, 2) / 4).fill(7));
      const encoder = device.createCommandEncoder({ label: 'test.zeroDetections' });
      kernel.run(encoder, { records, protoMasks, maskBits }, { ...c, maxDetections: 2 });
      device.queue.submit([encoder.finish()]);
      const out = new Uint32Array(await readBuffer(device, maskBits));
      const untouched = out.every((v) => v === 7);
      return { pass: untouched, detail: untouched ? `${out.length} words still 7` : 'kernel wrote for count = 0' };
    }),
  );

  // Random cases: proto-space masks made by the reference maskCoefficients from random
  // prototypes (smooth, cropped), so the crop early-out of the kernel is exercised too.
  const randomCase = async (
    name: string,
    seed: number,
    proto: number,
    transform: InputTransform,
    image: { width: number; height: number },
    mask: { width: number; height: number },
    activation: 'sigmoid' | 'logit' = 'sigmoid',
    cropMode: MaskAssemblySpec['cropMode'] = 'yolact-padded',
  ) =>
    runCase(device, K, name, async () => {
      const rand = seededRandom(seed);
      const spec: MaskAssemblySpec = { ...yolactMaskSpec(proto, proto, 8), activation, cropMode };
      const protos = randomNormals(rand, proto * proto * 8, 0.6);
      const boxes: [number, number, number, number][] = [
        [0, 0, 1, 1],
        [0.41, 0.52, 0.412, 0.523],
        [-0.3, 0.6, 0.35, 1.4],
        [0.9, 0.8, 0.3, 0.05],
      ];
      while (boxes.length < 8) {
        const x = rand() * 0.9,
          y = rand() * 0.9;
        boxes.push([x, y, x + rand() * (1 - x), y + rand() * (1 - y)]);
      }
      const records = boxes.map((box, i) => ({ box, sourceIndex: i }));
      const coefficients = randomNormals(rand, records.length * 8, 1);
      const protoMasks = maskCoefficientsReference(records, coefficients, protos, spec);
      const c: UpsampleCase = { spec, records, protoMasks, transform, image, mask, capacity: records.length + 3 };
      const { bits, maskAreas } = await runMaskUpsample(device, c, 0xa5a5a5a5);
      const cmp = compareBits(bits, c);
      // Areas: the kernel's atomics must equal the popcount of its own bits.
      const planeWords = mask.height * wordsPerRowFor(mask.width);
      const ownAreas = records.map((_, n) => popcount(bits.subarray(n * planeWords, (n + 1) * planeWords)));
      const areasOk = sameArray(maskAreas, ownAreas);
      const areaDiff = Math.max(...maskAreas.map((a, n) => Math.abs(a - cmp.referenceAreas[n]!)));
      return {
        pass: cmp.mismatches === 0 && areasOk && areaDiff <= cmp.excused,
        detail:
          `${records.length} instances ${proto}² → ${mask.width}x${mask.height}: ${cmp.detail}; areas ${maskAreas.join(',')}` +
          (areasOk ? '' : ` but popcounts ${ownAreas.join(',')}`),
      };
    });

  results.push(
    await randomCase(
      'random stretch 24² → 75x53 (not word-aligned), YOLACT crop',
      11,
      24,
      stretchTransform(96, 96, 75, 53),
      { width: 75, height: 53 },
      { width: 75, height: 53 },
    ),
  );
  results.push(
    await randomCase(
      'random stretch 138² → 320x240 (YOLACT-550 protos)',
      12,
      138,
      stretchTransform(550, 550, 320, 240),
      { width: 320, height: 240 },
      { width: 320, height: 240 },
    ),
  );
  results.push(
    await randomCase(
      'random capped mask: image 600x400 → mask 150x100',
      13,
      32,
      stretchTransform(128, 128, 600, 400),
      { width: 600, height: 400 },
      { width: 150, height: 100 },
    ),
  );
  results.push(
    await randomCase(
      'random letterbox 640 input, image 300x200, logits, integer crop',
      14,
      40,
      { inputWidth: 640, inputHeight: 640, gainX: 640 / 300, gainY: 640 / 300, offsetX: 0, offsetY: 107 },
      { width: 300, height: 200 },
      { width: 300, height: 200 },
      'logit',
      'integer',
    ),
  );
  results.push(
    await randomCase(
      'random, no crop, 1-pixel-wide mask',
      15,
      16,
      stretchTransform(64, 64, 1, 37),
      { width: 1, height: 37 },
      { width: 1, height: 37 },
      'sigmoid',
      'none',
    ),
  );
  return results;
}
