/**
 * Conformance cases of the Mask R-CNN mask paste kernel (shaders/mask_paste.wgsl): hand-
 * computed pastes (a ramp mask at 1:1 scale, a box over the border, a box smaller than a
 * pixel, the class channel and record row), and random cases against
 * app/reference/maskPaste.ts. A pixel may differ from the reference only where the
 * reference's pasted probability lies within NEAR_THRESHOLD of 0.5 (f32 rounding of exp;
 * such pixels are counted as "excused" and reported).
 */
import { createStorageBuffer, readBuffer, uploadStorage, writeTyped } from '../../../app/gpu/buffers';
import { RECORD_FLOATS, RECORD_HEADER_BYTES, type InputTransform } from '../../../app/gpu/layout';
import { maskBit, wordsPerRowFor } from '../../../app/reference/maskAssembly';
import { maskPasteReference, PASTE_THRESHOLD, type PasteMode } from '../../../app/reference/maskPaste';
import { createMaskPaste } from '../../../app/gpu/kernels/maskPaste';
import { maskBitsBytes } from '../../../app/gpu/kernels/maskUpsample';
import { packRecords, randomNormals, runCase, seededRandom, type CaseResult, type RecordInit } from './maskCoefficients';
import { stretchTransform } from './maskUpsample';

const NEAR_THRESHOLD = 1e-5;

interface PasteCase {
  records: RecordInit[];
  numClasses: number;
  maskSize: number;
  /** f32 [capacity, K + 1, S, S] */
  maskLogits: Float32Array;
  transform: InputTransform;
  image: { width: number; height: number };
  mask: { width: number; height: number };
  capacity?: number;
  /** CenterMask's paste: detectron2 mode, class channel offset, mask row from sourceIndex. */
  mode?: PasteMode;
  classOffset?: number;
  rowFromSource?: boolean;
  /** BlendMask's blender logits: one mask a row [M, 1, S, S], class ignored. */
  classAgnostic?: boolean;
}

const offsetOf = (c: PasteCase) => c.classOffset ?? 1;

/** Runs the kernel once: the first `records.length` bit planes and maskAreas. */
async function runPaste(device: GPUDevice, c: PasteCase, sentinel = 0): Promise<{ bits: Uint32Array; maskAreas: number[]; ms: number }> {
  const capacity = c.capacity ?? Math.max(c.records.length, 1);
  const kernel = createMaskPaste(device);
  const records = uploadStorage(device, 'test.records', new Uint8Array(packRecords(c.records, capacity)));
  const planeFloats = (c.classAgnostic ? 1 : c.numClasses + offsetOf(c)) * c.maskSize * c.maskSize;
  const maskLogits = createStorageBuffer(device, 'test.maskLogits', Math.max(capacity * planeFloats * 4, c.maskLogits.byteLength));
  writeTyped(device, maskLogits, c.maskLogits);
  const maskBits = uploadStorage(device, 'test.maskBits', new Uint32Array(maskBitsBytes(c.mask, capacity) / 4).fill(sentinel));
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'test.maskPaste' });
  kernel.run(
    encoder,
    { records, maskLogits, maskBits },
    {
      numClasses: c.numClasses,
      maskSize: c.maskSize,
      transform: c.transform,
      image: c.image,
      mask: c.mask,
      maxDetections: capacity,
      mode: c.mode,
      classOffset: c.classOffset,
      rowFromSource: c.rowFromSource,
      classAgnostic: c.classAgnostic,
    },
  );
  device.queue.submit([encoder.finish()]);
  const bits = new Uint32Array(await readBuffer(device, maskBits));
  const ms = performance.now() - t0;
  const rec = new Uint32Array(await readBuffer(device, records));
  const maskAreas = c.records.map((_, n) => rec[RECORD_HEADER_BYTES / 4 + n * RECORD_FLOATS + 7]!);
  for (const b of [records, maskLogits, maskBits]) b.destroy();
  kernel.destroy();
  const planeWords = c.mask.height * wordsPerRowFor(c.mask.width);
  return { bits: bits.subarray(0, c.records.length * planeWords), maskAreas, ms };
}

/** Kernel bits vs the reference; differences only where the reference value is within NEAR_THRESHOLD of 0.5. */
function compareWithReference(bits: Uint32Array, maskAreas: number[], c: PasteCase): { pass: boolean; detail: string } {
  const ref = maskPasteReference(
    c.records.map((r) => ({ box: r.box, classIndex: r.classIndex ?? 0, sourceIndex: r.sourceIndex })),
    c.maskLogits,
    {
      numClasses: c.numClasses,
      maskSize: c.maskSize,
      mode: c.mode,
      classOffset: c.classOffset,
      rowFromSource: c.rowFromSource,
      classAgnostic: c.classAgnostic,
    },
    c.transform,
    c.image,
    c.mask,
    true,
  );
  const soft = ref.soft!;
  const { width: w, height: h } = c.mask;
  const wpr = wordsPerRowFor(w);
  let mismatches = 0;
  let excused = 0;
  let first = '';
  for (let n = 0; n < c.records.length; n++) {
    for (let y = 0; y < h; y++) {
      for (let wx = 0; wx < wpr; wx++) {
        const i = (n * h + y) * wpr + wx;
        const diff = (bits[i]! ^ ref.masks.bits[i]!) >>> 0;
        for (let b = 0; b < 32; b++) {
          if (((diff >>> b) & 1) === 0) continue;
          const x = wx * 32 + b;
          const v = x < w ? soft[(n * h + y) * w + x]! : NaN;
          if (Math.abs(v - PASTE_THRESHOLD) <= NEAR_THRESHOLD) excused++;
          else {
            mismatches++;
            first ||= `record ${n} pixel (${x}, ${y}): kernel ${(bits[i]! >>> b) & 1}, reference value ${v}`;
          }
        }
      }
    }
  }
  // Areas: the kernel's atomics must equal the popcount of its own planes, and the reference's up to the excused pixels.
  const planeWords = h * wpr;
  const own = c.records.map((_, n) => popcount(bits.subarray(n * planeWords, (n + 1) * planeWords)));
  const areasOwn = own.every((a, n) => a === maskAreas[n]);
  const areaDiff = maskAreas.reduce((m, a, n) => Math.max(m, Math.abs(a - ref.areas[n]!)), 0);
  const pass = mismatches === 0 && areasOwn && areaDiff <= excused;
  return {
    pass,
    detail:
      `${c.records.length} records → ${w}x${h}: ${mismatches} mismatched pixels, ${excused} within ${NEAR_THRESHOLD} of 0.5` +
      `${first ? `; first: ${first}` : ''}; areas ${maskAreas.join(',')}${areasOwn ? '' : ` but popcounts ${own.join(',')}`}` +
      `${areaDiff > excused ? `; reference areas ${ref.areas.join(',')}` : ''}`,
  };
}

function popcount(words: Uint32Array): number {
  let total = 0;
  for (let v of words) {
    for (; v; v &= v - 1) total++;
  }
  return total;
}

/** The set pixels of plane n as "x,y" strings (for hand cases). */
function setPixels(bits: Uint32Array, mask: { width: number; height: number }, n: number): Set<string> {
  const masks = { width: mask.width, height: mask.height, wordsPerRow: wordsPerRowFor(mask.width), bits };
  const out = new Set<string>();
  for (let y = 0; y < mask.height; y++) for (let x = 0; x < mask.width; x++) if (maskBit(masks, n, x, y)) out.add(`${x},${y}`);
  return out;
}

function rectPixels(x0: number, y0: number, x1: number, y1: number): Set<string> {
  const out = new Set<string>();
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) out.add(`${x},${y}`);
  return out;
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((v) => b.has(v));
}

/** [capacity, K + 1, S, S] logits filled with `fill`, then plane (n, channel) set by `plane`. */
function logitsWith(
  capacity: number,
  numClasses: number,
  s: number,
  fill: number,
  planes: Array<[number, number, (i: number, j: number) => number]>,
): Float32Array {
  const out = new Float32Array(capacity * (numClasses + 1) * s * s).fill(fill);
  for (const [n, ch, fn] of planes) {
    const base = (n * (numClasses + 1) + ch) * s * s;
    for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) out[base + i * s + j] = fn(i, j);
  }
  return out;
}

/** Box in image pixels → relative to a stretch input of the image's size. */
function rel(box: [number, number, number, number], image: { width: number; height: number }): [number, number, number, number] {
  return [box[0] / image.width, box[1] / image.height, box[2] / image.width, box[3] / image.height];
}

export async function maskPasteConformance(device: GPUDevice): Promise<CaseResult[]> {
  const K = 'maskPaste';
  const S = 28;
  const results: CaseResult[] = [];
  const logit = (p: number) => Math.log(p / (1 - p));

  results.push(
    await runCase(device, K, 'hand: ramp mask at 1:1 (expanded box 0..29, truncation toward zero), class channel, record row', async () => {
      // Image = input 32x32. Record 0 = background-only junk; record 1, class 1, box (0.6, 0.6,
      // 28.6, 28.6): w_half = 14·30/28 = 15, centre 14.6 → (−0.4, 29.6) → truncated (0, 29): w = h
      // = 30 = P, so the resize is the identity: pixel (x, y) = padded (y, x). Padded row 0 and 29
      // are zero; column x holds p = (x − 1 + 0.5) / 28 for 1 ≤ x ≤ 28, > 0.5 from x = 15.
      // → pixels x 15..28, y 1..28 (392). Channels 0 (background) and 1 (class 0) of record 1
      // and all of record 0 hold +10 (a wrong channel or row would fill the box).
      const image = { width: 32, height: 32 };
      const box = rel([0.6, 0.6, 28.6, 28.6], image);
      const c: PasteCase = {
        records: [
          { box, sourceIndex: 9, classIndex: 1 },
          { box, sourceIndex: 3, classIndex: 1 },
        ],
        numClasses: 2,
        maskSize: S,
        maskLogits: logitsWith(2, 2, S, 10, [[1, 2, (_i, j) => logit((j + 0.5) / S)]]),
        transform: stretchTransform(32, 32, 32, 32),
        image,
        mask: image,
      };
      const { bits, maskAreas, ms } = await runPaste(device, c, 0xdeadbeef);
      const got = setPixels(bits, image, 1);
      const want = rectPixels(15, 1, 28, 28);
      const ref = compareWithReference(bits, maskAreas, c);
      const ok = sameSet(got, want) && maskAreas[1] === 392;
      return { pass: ok && ref.pass, ms, detail: `record 1: ${got.size} pixels, area ${maskAreas[1]} (want 392, x 15..28, y 1..28); reference: ${ref.detail}` };
    }),
  );

  results.push(
    await runCase(device, K, 'hand: box over the top-left border, constant mask → 10x10 at the corner', async () => {
      // Image 20x20 (= input). Box (−5, −5, 10, 10): w_half = 7.5·30/28 = 8.036, centre 2.5 →
      // (−5.536, 10.536) → (−5, 10), w = 16. Output column j = x + 5: src = (j + 0.5)·30/16 − 0.5;
      // j = 0 → 0.4375 between the zero border and 1 → 0.4375 (off); j = 15 → 28.5625 → 0.4375
      // (off); j = 1..14 on → x = −4..9, clipped to 0..9. Same rows → 100 pixels.
      const image = { width: 20, height: 20 };
      const c: PasteCase = {
        records: [{ box: rel([-5, -5, 10, 10], image), sourceIndex: 0, classIndex: 0 }],
        numClasses: 1,
        maskSize: S,
        maskLogits: logitsWith(1, 1, S, 12, []),
        transform: stretchTransform(20, 20, 20, 20),
        image,
        mask: image,
      };
      const { bits, maskAreas, ms } = await runPaste(device, c, 0xffffffff);
      const got = setPixels(bits, image, 0);
      const ref = compareWithReference(bits, maskAreas, c);
      const ok = sameSet(got, rectPixels(0, 0, 9, 9)) && maskAreas[0] === 100;
      return { pass: ok && ref.pass, ms, detail: `${got.size} pixels, area ${maskAreas[0]}; reference: ${ref.detail}` };
    }),
  );

  results.push(
    await runCase(device, K, 'hand: box smaller than a pixel → the one pixel (10, 10)', async () => {
      // Box (10.2, 10.3, 10.4, 10.5) → expanded (10.19, 10.29, 10.41, 10.51) → (10, 10, 10, 10),
      // w = h = 1: src = 0.5·30 − 0.5 = 14.5 → the mean of padded (14..15, 14..15) = 1 → set.
      const image = { width: 40, height: 24 };
      const c: PasteCase = {
        records: [{ box: rel([10.2, 10.3, 10.4, 10.5], image), sourceIndex: 0, classIndex: 0 }],
        numClasses: 1,
        maskSize: S,
        maskLogits: logitsWith(1, 1, S, 12, []),
        transform: stretchTransform(40, 24, 40, 24),
        image,
        mask: image,
      };
      const { bits, maskAreas, ms } = await runPaste(device, c);
      const got = setPixels(bits, image, 0);
      return { pass: sameSet(got, new Set(['10,10'])) && maskAreas[0] === 1, ms, detail: `pixels ${[...got].join(' ')}, area ${maskAreas[0]}` };
    }),
  );

  results.push(
    await runCase(device, K, 'hand: stretch 512 input → 64x32 image: box mapped through the transform', async () => {
      // Input 512x512, image 64x32: relative box (0.25, 0.25, 0.75, 0.75) → image (16, 8, 48, 24):
      // w_half = 16·30/28 = 17.14, centre 32 → (14.86, 49.14) → (14, 49); h_half = 8.57, centre
      // 16 → (7.43, 24.57) → (7, 24). Constant mask: column j of w = 36: j = 0 → src −0.08 →
      // clamped 0: the zero border (off), j = 35 → 29.08 → border (off), j = 1 → 0.75 (on),
      // j = 34 → 28.25 → 0.75 (on) → x 15..48; rows h = 18: i = 0 → 0.333 (off),
      // i = 17 → 28.67 (off) → y 8..23. 34 × 16 = 544 pixels.
      const image = { width: 64, height: 32 };
      const c: PasteCase = {
        records: [{ box: [0.25, 0.25, 0.75, 0.75], sourceIndex: 0, classIndex: 0 }],
        numClasses: 1,
        maskSize: S,
        maskLogits: logitsWith(1, 1, S, 12, []),
        transform: stretchTransform(512, 512, 64, 32),
        image,
        mask: image,
      };
      const { bits, maskAreas, ms } = await runPaste(device, c);
      const got = setPixels(bits, image, 0);
      const ref = compareWithReference(bits, maskAreas, c);
      return {
        pass: sameSet(got, rectPixels(15, 8, 48, 23)) && maskAreas[0] === 544 && ref.pass,
        ms,
        detail: `${got.size} pixels, area ${maskAreas[0]}; reference: ${ref.detail}`,
      };
    }),
  );

  results.push(
    await runCase(device, K, 'run twice on the same records (stale areas): areas not added up', async () => {
      const image = { width: 20, height: 20 };
      const kernel = createMaskPaste(device);
      const init = [{ box: rel([-5, -5, 10, 10], image), sourceIndex: 0, classIndex: 0, maskArea: 12345 }];
      const records = uploadStorage(device, 'test.records', new Uint8Array(packRecords(init, 1)));
      const maskLogits = uploadStorage(device, 'test.maskLogits', new Float32Array(2 * S * S).fill(12));
      const maskBits = createStorageBuffer(device, 'test.maskBits', maskBitsBytes(image, 1));
      const params = { numClasses: 1, maskSize: S, transform: stretchTransform(20, 20, 20, 20), image, mask: image, maxDetections: 1 };
      for (let run = 0; run < 2; run++) {
        const encoder = device.createCommandEncoder({ label: 'test.maskPaste.twice' });
        kernel.run(encoder, { records, maskLogits, maskBits }, params);
        device.queue.submit([encoder.finish()]);
      }
      const area = new Uint32Array(await readBuffer(device, records))[RECORD_HEADER_BYTES / 4 + 7]!;
      for (const b of [records, maskLogits, maskBits]) b.destroy();
      kernel.destroy();
      return { pass: area === 100, detail: `area ${area} after two runs (want 100, the 10x10 corner)` };
    }),
  );

  results.push(
    await runCase(device, K, 'zero records: bits untouched', async () => {
      const image = { width: 40, height: 3 };
      const kernel = createMaskPaste(device);
      const records = uploadStorage(device, 'test.records', new Uint8Array(packRecords([], 2)));
      const maskLogits = uploadStorage(device, 'test.maskLogits', new Float32Array(2 * 2 * S * S).fill(5));
      const maskBits = uploadStorage(device, 'test.maskBits', new Uint32Array(maskBitsBytes(image, 2) / 4).fill(7));
      const encoder = device.createCommandEncoder({ label: 'test.maskPaste.zero' });
      kernel.run(
        encoder,
        { records, maskLogits, maskBits },
        { numClasses: 1, maskSize: S, transform: stretchTransform(40, 3, 40, 3), image, mask: image, maxDetections: 2 },
      );
      device.queue.submit([encoder.finish()]);
      const out = new Uint32Array(await readBuffer(device, maskBits));
      for (const b of [records, maskLogits, maskBits]) b.destroy();
      kernel.destroy();
      const untouched = out.every((v) => v === 7);
      return { pass: untouched, detail: untouched ? `${out.length} words still 7` : 'kernel wrote for count = 0' };
    }),
  );

  // Random cases: smooth blobs + noise as the mask head makes them, K classes, boxes
  // anywhere (also outside, tiny, inverted), records fewer than the capacity.
  const randomCase = async (
    name: string,
    seed: number,
    numClasses: number,
    count: number,
    transform: InputTransform,
    image: { width: number; height: number },
    mask: { width: number; height: number },
  ) =>
    runCase(device, K, name, async () => {
      const rand = seededRandom(seed);
      const boxes: [number, number, number, number][] = [
        [0, 0, 1, 1],
        [-0.3, 0.6, 0.35, 1.4],
        [0.41, 0.52, 0.4101, 0.5202],
        [0.95, 0.9, 1.2, 1.01],
      ];
      while (boxes.length < count) {
        const x = rand() * 0.95,
          y = rand() * 0.95;
        boxes.push([x, y, x + rand() * (1 - x), y + rand() * (1 - y)]);
      }
      const records: RecordInit[] = boxes.map((box, n) => ({ box, sourceIndex: n, classIndex: Math.floor(rand() * numClasses) }));
      const capacity = count + 3;
      const noise = randomNormals(rand, capacity * (numClasses + 1) * S * S, 0.4);
      const maskLogits = new Float32Array(noise.length);
      for (let n = 0; n < capacity; n++) {
        for (let ch = 0; ch <= numClasses; ch++) {
          const cx = rand() * S,
            cy = rand() * S,
            r = 5 + rand() * 12;
          const base = (n * (numClasses + 1) + ch) * S * S;
          for (let i = 0; i < S; i++)
            for (let j = 0; j < S; j++) {
              maskLogits[base + i * S + j] = (r - Math.hypot(j - cx, i - cy)) / 3 + noise[base + i * S + j]!;
            }
        }
      }
      const c: PasteCase = { records, numClasses, maskSize: S, maskLogits, transform, image, mask, capacity };
      const { bits, maskAreas, ms } = await runPaste(device, c, 0xa5a5a5a5);
      return { ...compareWithReference(bits, maskAreas, c), ms };
    });

  // CenterMask: detectron2's paste (clipped box, zero-padded grid_sample, ≥ 0.5), mask-head
  // rows [M, K, S, S] without a background channel, the row of a record from its sourceIndex.
  const d2 = { mode: 'detectron2' as const, classOffset: 0, rowFromSource: true };
  /** [rows, K, S, S] logits filled with `fill`, plane (row, class) set by `fn`. */
  const d2Logits = (rows: number, numClasses: number, fill: number, planes: Array<[number, number, (i: number, j: number) => number]>) => {
    const out = new Float32Array(rows * numClasses * S * S).fill(fill);
    for (const [row, ch, fn] of planes) {
      const base = (row * numClasses + ch) * S * S;
      for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) out[base + i * S + j] = fn(i, j);
    }
    return out;
  };

  results.push(
    await runCase(device, K, 'detectron2 hand: constant mask in box (2, 3, 12, 9) → pixels x 2..11, y 3..8', async () => {
      // sx = (x + 0.5 − 2)/10·28 − 0.5: x = 1 → −1.9 (off), x = 2 → 0.9, x = 11 → 26.1 (on), x = 12 → 28.9 (off);
      // sy = (y + 0.5 − 3)/6·28 − 0.5: y = 2 → −2.8, y = 3 → 1.8, y = 8 → 25.2, y = 9 → 29.8 → 10 × 6 = 60.
      const image = { width: 20, height: 20 };
      const c: PasteCase = {
        records: [{ box: rel([2, 3, 12, 9], image), sourceIndex: 0, classIndex: 0 }],
        numClasses: 1,
        maskSize: S,
        maskLogits: d2Logits(1, 1, 12, []),
        transform: stretchTransform(20, 20, 20, 20),
        image,
        mask: image,
        ...d2,
      };
      const { bits, maskAreas, ms } = await runPaste(device, c, 0xffffffff);
      const got = setPixels(bits, image, 0);
      const ref = compareWithReference(bits, maskAreas, c);
      return {
        pass: sameSet(got, rectPixels(2, 3, 11, 8)) && maskAreas[0] === 60 && ref.pass,
        ms,
        detail: `${got.size} pixels, area ${maskAreas[0]}; reference: ${ref.detail}`,
      };
    }),
  );

  results.push(
    await runCase(device, K, 'detectron2 hand: value exactly 0.5 on the border is set (≥), the corners (0.25) are not', async () => {
      // Mask of ones (sigmoid(20) = 1 in f32), box (0.5, 0.5, 32.5, 32.5): sx = x/32·28 − 0.5, so
      // x = 0 → −0.5 (half of cell 0: 0.5, set), x = 32 → 27.5 (half of cell 27: 0.5, set),
      // x = 33 → 28.375 (0). Rows alike; the four corners are 0.5 · 0.5 = 0.25 → 33² − 4 = 1085.
      const image = { width: 40, height: 40 };
      const c: PasteCase = {
        records: [{ box: rel([0.5, 0.5, 32.5, 32.5], image), sourceIndex: 0, classIndex: 0 }],
        numClasses: 1,
        maskSize: S,
        maskLogits: d2Logits(1, 1, 20, []),
        transform: stretchTransform(40, 40, 40, 40),
        image,
        mask: image,
        ...d2,
      };
      const { bits, maskAreas, ms } = await runPaste(device, c);
      const got = setPixels(bits, image, 0);
      const want = rectPixels(0, 0, 32, 32);
      for (const corner of ['0,0', '32,0', '0,32', '32,32']) want.delete(corner);
      const ref = compareWithReference(bits, maskAreas, c);
      return {
        pass: sameSet(got, want) && maskAreas[0] === 1085 && ref.pass,
        ms,
        detail: `${got.size} pixels, area ${maskAreas[0]} (want 1085); reference: ${ref.detail}`,
      };
    }),
  );

  results.push(
    await runCase(device, K, 'detectron2 hand: box over the left border is clipped first, the mask maps into (0, 5, 10, 15)', async () => {
      // Ramp: columns j < 14 off (−12), j ≥ 14 on (+12). Clipped box (0, 5, 10, 15): sx = (x + 0.5)·2.8 − 0.5,
      // x = 4 → 12.1 (off), x = 5 → 14.9 (on), x = 9 → 26.1 (on), x = 10 → 28.9 (off); rows 5..14.
      // Unclipped (−10 … 10) it would set x 0..9 (100 pixels).
      const image = { width: 20, height: 20 };
      const c: PasteCase = {
        records: [{ box: rel([-10, 5, 10, 15], image), sourceIndex: 0, classIndex: 0 }],
        numClasses: 1,
        maskSize: S,
        maskLogits: d2Logits(1, 1, 0, [[0, 0, (_i, j) => (j < 14 ? -12 : 12)]]),
        transform: stretchTransform(20, 20, 20, 20),
        image,
        mask: image,
        ...d2,
      };
      const { bits, maskAreas, ms } = await runPaste(device, c);
      const got = setPixels(bits, image, 0);
      const ref = compareWithReference(bits, maskAreas, c);
      return {
        pass: sameSet(got, rectPixels(5, 5, 9, 14)) && maskAreas[0] === 50 && ref.pass,
        ms,
        detail: `${got.size} pixels, area ${maskAreas[0]}; reference: ${ref.detail}`,
      };
    }),
  );

  results.push(
    await runCase(device, K, 'detectron2 hand: [M, K, S, S] rows read at sourceIndex, channel = class (no background); empty box → nothing', async () => {
      // Rows 0..2 × 3 classes, all −12 except (row 2, class 1) and (row 0, class 2): record 0 reads
      // row 2 class 1, record 1 row 0 class 2 → both boxes full; record 2 (row 1) has a zero-width box.
      const image = { width: 20, height: 20 };
      const box = rel([2, 3, 12, 9], image);
      const c: PasteCase = {
        records: [
          { box, sourceIndex: 2, classIndex: 1 },
          { box, sourceIndex: 0, classIndex: 2 },
          { box: rel([5, 5, 5, 15], image), sourceIndex: 1, classIndex: 0 },
        ],
        numClasses: 3,
        maskSize: S,
        maskLogits: d2Logits(3, 3, -12, [
          [2, 1, () => 12],
          [0, 2, () => 12],
          [1, 0, () => 12],
        ]),
        transform: stretchTransform(20, 20, 20, 20),
        image,
        mask: image,
        ...d2,
      };
      const { bits, maskAreas, ms } = await runPaste(device, c, 0xffffffff);
      const want = rectPixels(2, 3, 11, 8);
      const ok = sameSet(setPixels(bits, image, 0), want) && sameSet(setPixels(bits, image, 1), want) && setPixels(bits, image, 2).size === 0;
      const ref = compareWithReference(bits, maskAreas, c);
      return { pass: ok && ref.pass, ms, detail: `areas ${maskAreas.join(',')} (want 60,60,0); reference: ${ref.detail}` };
    }),
  );

  const d2Random = async (
    name: string,
    seed: number,
    numClasses: number,
    count: number,
    transform: InputTransform,
    image: { width: number; height: number },
    mask: { width: number; height: number },
  ) =>
    runCase(device, K, name, async () => {
      const rand = seededRandom(seed);
      const boxes: [number, number, number, number][] = [
        [0, 0, 1, 1],
        [-0.3, 0.6, 0.35, 1.4],
        [0.41, 0.52, 0.4101, 0.5202],
        [0.95, 0.9, 1.2, 1.01],
        [0.5, 0.5, 0.5, 0.7],
      ];
      while (boxes.length < count) {
        const x = rand() * 0.95,
          y = rand() * 0.95;
        boxes.push([x, y, x + rand() * (1 - x), y + rand() * (1 - y)]);
      }
      const capacity = count + 2;
      // Rows in a shuffled order, as the rescoring leaves them.
      const rows = Array.from({ length: capacity }, (_, i) => i).sort(() => rand() - 0.5);
      const records: RecordInit[] = boxes.map((box, n) => ({ box, sourceIndex: rows[n]!, classIndex: Math.floor(rand() * numClasses) }));
      const noise = randomNormals(rand, capacity * numClasses * S * S, 0.4);
      const maskLogits = new Float32Array(noise.length);
      for (let plane = 0; plane < capacity * numClasses; plane++) {
        const cx = rand() * S,
          cy = rand() * S,
          r = 5 + rand() * 12;
        for (let i = 0; i < S; i++)
          for (let j = 0; j < S; j++) {
            maskLogits[plane * S * S + i * S + j] = (r - Math.hypot(j - cx, i - cy)) / 3 + noise[plane * S * S + i * S + j]!;
          }
      }
      const c: PasteCase = { records, numClasses, maskSize: S, maskLogits, transform, image, mask, capacity, ...d2 };
      const { bits, maskAreas, ms } = await runPaste(device, c, 0xa5a5a5a5);
      return { ...compareWithReference(bits, maskAreas, c), ms };
    });
  results.push(
    await d2Random(
      'detectron2 random: 80 classes, 24 records, stretch 512 → 75x53',
      81,
      80,
      24,
      stretchTransform(512, 512, 75, 53),
      { width: 75, height: 53 },
      { width: 75, height: 53 },
    ),
  );
  results.push(
    await d2Random(
      'detectron2 random: 5 classes, 30 records, stretch 512 → 640x480',
      82,
      5,
      30,
      stretchTransform(512, 512, 640, 480),
      { width: 640, height: 480 },
      { width: 640, height: 480 },
    ),
  );
  results.push(
    await d2Random(
      'detectron2 random: capped mask, image 1600x1200 → mask 400x300',
      83,
      3,
      12,
      stretchTransform(512, 512, 1600, 1200),
      { width: 1600, height: 1200 },
      { width: 400, height: 300 },
    ),
  );
  results.push(
    await randomCase(
      'random: 80 classes, 24 records, stretch 512 → 75x53 (not word-aligned)',
      71,
      80,
      24,
      stretchTransform(512, 512, 75, 53),
      { width: 75, height: 53 },
      { width: 75, height: 53 },
    ),
  );
  results.push(
    await randomCase(
      'random: 5 classes, 40 records, stretch 512 → 640x480',
      72,
      5,
      40,
      stretchTransform(512, 512, 640, 480),
      { width: 640, height: 480 },
      { width: 640, height: 480 },
    ),
  );
  results.push(
    await randomCase(
      'random: capped mask, image 1600x1200 → mask 400x300',
      73,
      3,
      12,
      stretchTransform(512, 512, 1600, 1200),
      { width: 1600, height: 1200 },
      { width: 400, height: 300 },
    ),
  );
  results.push(
    await randomCase(
      'random: letterbox 512 input, image 300x200 (pad 85 top), 1-class',
      74,
      1,
      10,
      { inputWidth: 512, inputHeight: 512, gainX: 512 / 300, gainY: 512 / 300, offsetX: 0, offsetY: 85 },
      { width: 300, height: 200 },
      { width: 300, height: 200 },
    ),
  );
  // BlendMask / B2Inst: the blender's [M, 1, 56, 56] logits, one mask a row whatever the class.
  results.push(
    await runCase(device, K, 'detectron2 class-agnostic: [M, 1, 56, 56] rows (BlendMask blender), classes 0..79 ignored', async () => {
      const rand = seededRandom(84);
      const S56 = 56;
      const count = 12;
      const capacity = count + 1;
      const boxes: [number, number, number, number][] = [
        [0, 0, 1, 1],
        [-0.2, 0.7, 0.3, 1.3],
      ];
      while (boxes.length < count) {
        const x = rand() * 0.9,
          y = rand() * 0.9;
        boxes.push([x, y, x + 0.02 + rand() * (1 - x), y + 0.02 + rand() * (1 - y)]);
      }
      const records: RecordInit[] = boxes.map((box, n) => ({ box, sourceIndex: n, classIndex: 1 + Math.floor(rand() * 79) }));
      const maskLogits = randomNormals(rand, capacity * S56 * S56, 0.4);
      for (let n = 0; n < capacity; n++) {
        const cx = rand() * S56,
          cy = rand() * S56,
          r = 8 + rand() * 20;
        for (let i = 0; i < S56; i++) for (let j = 0; j < S56; j++) maskLogits[(n * S56 + i) * S56 + j]! += (r - Math.hypot(j - cx, i - cy)) / 4;
      }
      const c: PasteCase = {
        records,
        numClasses: 80,
        maskSize: S56,
        maskLogits,
        transform: stretchTransform(512, 512, 160, 120),
        image: { width: 160, height: 120 },
        mask: { width: 160, height: 120 },
        capacity,
        mode: 'detectron2',
        classAgnostic: true,
      };
      const { bits, maskAreas, ms } = await runPaste(device, c, 0xa5a5a5a5);
      const ref = compareWithReference(bits, maskAreas, c);
      const nonEmpty = maskAreas.filter((a) => a > 0).length;
      return { pass: ref.pass && nonEmpty >= count / 2, ms, detail: `${nonEmpty} non-empty masks; ${ref.detail}` };
    }),
  );
  return results;
}
