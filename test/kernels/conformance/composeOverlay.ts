/**
 * Conformance cases of the composeOverlay kernel (no test-framework imports; runs in Node
 * through Dawn and in the browser page kernel-tests.html). Bytes must match exactly.
 */
import { readBuffer, uploadStorage } from '../../../app/gpu/buffers';
import type { InstanceMasks } from '../../../app/types';
import {
  composeOverlayReference,
  defaultClassColours,
  hiddenClassMask,
  NO_HIGHLIGHT,
  packColour,
  type OverlayStyle,
} from '../../../app/reference/composeOverlay';
import { wordsPerRowFor } from '../../../app/reference/maskAssembly';
import { createComposeOverlay, createOverlayTexture, readOverlayTexture } from '../../../app/gpu/kernels/composeOverlay';
import { packRecords, runCase, seededRandom, type CaseResult } from './maskCoefficients';

interface ComposeCase {
  masks: InstanceMasks;
  classIndices: number[];
  classColours: Uint32Array;
  hidden: number[];
  numClasses: number;
  /** One overlay per highlight, composed one after another on the same kernel (recompose). */
  highlights: (number | null)[];
  style?: Partial<OverlayStyle>;
  capacity?: number;
}

/** Runs the kernel for each highlight in turn; returns the RGBA bytes of each. */
export async function runComposeOverlay(device: GPUDevice, c: ComposeCase): Promise<Uint8ClampedArray[]> {
  const capacity = c.capacity ?? Math.max(1, c.classIndices.length);
  const kernel = createComposeOverlay(device);
  const records = uploadStorage(
    device,
    'test.records',
    new Uint8Array(
      packRecords(
        c.classIndices.map((classIndex) => ({ box: [0, 0, 1, 1], sourceIndex: 0, classIndex })),
        capacity,
      ),
    ),
  );
  const planeWords = c.masks.height * c.masks.wordsPerRow;
  const bits = new Uint32Array(capacity * planeWords);
  bits.set(c.masks.bits.subarray(0, Math.min(c.masks.bits.length, bits.length)));
  const maskBits = uploadStorage(device, 'test.maskBits', bits);
  const classColours = uploadStorage(device, 'test.classColours', c.classColours);
  const hiddenWords = hiddenClassMask(c.hidden, c.numClasses);
  const hiddenClasses = uploadStorage(device, 'test.hiddenClasses', hiddenWords);
  const overlay = createOverlayTexture(device, c.masks, 'test.overlay');
  const outputs: Uint8ClampedArray[] = [];
  for (const highlight of c.highlights) {
    const encoder = device.createCommandEncoder({ label: 'test.composeOverlay' });
    kernel.run(
      encoder,
      { records, maskBits, classColours, hiddenClasses, overlay },
      {
        mask: c.masks,
        maxDetections: capacity,
        numColours: c.classColours.length,
        hiddenWords: hiddenWords.length,
        highlight,
        style: c.style,
      },
    );
    device.queue.submit([encoder.finish()]);
    outputs.push(await readOverlayTexture(device, overlay));
  }
  await readBuffer(device, records, 0, 4); // keeps the buffers alive until the last read
  for (const b of [records, maskBits, classColours, hiddenClasses]) b.destroy();
  overlay.destroy();
  return outputs;
}

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function masksFromRows(width: number, height: number, instances: ((x: number, y: number) => boolean)[]): InstanceMasks {
  const wordsPerRow = wordsPerRowFor(width);
  const bits = new Uint32Array(instances.length * height * wordsPerRow);
  instances.forEach((inside, n) => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (inside(x, y)) bits[(n * height + y) * wordsPerRow + (x >>> 5)]! |= 1 << (x & 31);
      }
    }
  });
  return { width, height, bits, wordsPerRow };
}

export async function composeOverlayConformance(device: GPUDevice): Promise<CaseResult[]> {
  const K = 'composeOverlay';
  const results: CaseResult[] = [];

  // Hand case, 4x3: instance 0 (class 1, blue) covers columns 0–1, instance 1 (class 0,
  // orange) columns 1–3; instance 0 has the higher score, so it wins column 1.
  const handMasks = masksFromRows(4, 3, [(x) => x <= 1, (x) => x >= 1]);
  const hand: ComposeCase = {
    masks: handMasks,
    classIndices: [1, 0],
    classColours: new Uint32Array([packColour(200, 100, 0), packColour(0, 50, 250)]),
    hidden: [],
    numClasses: 2,
    highlights: [null],
  };
  const expectRows = (row: number[]) => [...row, ...row, ...row];
  const handCases: [string, Partial<ComposeCase>, number[]][] = [
    ['hand 4x3: earlier instance on top, edge at its right border', {}, expectRows([0, 50, 250, 110, 0, 50, 250, 230, 200, 100, 0, 110, 200, 100, 0, 110])],
    [
      'hand 4x3: instance 1 highlighted (lightened, edge opaque), instance 0 dimmed',
      { highlights: [1] },
      expectRows([0, 50, 250, 38, 219, 154, 89, 255, 219, 154, 89, 170, 219, 154, 89, 170]),
    ],
    ['hand 4x3: class 1 hidden → instance 0 not drawn', { hidden: [1] }, expectRows([0, 0, 0, 0, 200, 100, 0, 230, 200, 100, 0, 110, 200, 100, 0, 110])],
    ['hand 4x3: premultiplied alpha', { style: { premultiplied: true } }, expectRows([0, 22, 108, 110, 0, 45, 225, 230, 86, 43, 0, 110, 86, 43, 0, 110])],
    [
      'hand 4x3: highlight index ≥ count = no highlight',
      { highlights: [5] },
      expectRows([0, 50, 250, 110, 0, 50, 250, 230, 200, 100, 0, 110, 200, 100, 0, 110]),
    ],
  ];
  for (const [name, patch, expected] of handCases) {
    results.push(
      await runCase(device, K, name, async () => {
        const [got] = await runComposeOverlay(device, { ...hand, ...patch });
        const bad = firstDifference(got!, expected);
        return { pass: bad < 0, detail: bad < 0 ? '48 bytes equal' : `byte ${bad}: got ${Array.from(got!).join(',')}` };
      }),
    );
  }

  results.push(
    await runCase(device, K, 'random 97x61, 12 instances, hidden classes, recompose with 3 highlights', async () => {
      const rand = seededRandom(21);
      const w = 97,
        h = 61,
        count = 12,
        numClasses = 40;
      const ellipses = Array.from({ length: count }, () => ({
        cx: rand() * w,
        cy: rand() * h,
        rx: 2 + rand() * 30,
        ry: 1 + rand() * 25,
      }));
      const masks = masksFromRows(
        w,
        h,
        ellipses.map((e) => (x: number, y: number) => ((x + 0.5 - e.cx) / e.rx) ** 2 + ((y + 0.5 - e.cy) / e.ry) ** 2 <= 1),
      );
      const classIndices = Array.from({ length: count }, () => Math.floor(rand() * numClasses));
      const c: ComposeCase = {
        masks,
        classIndices,
        classColours: defaultClassColours(numClasses),
        hidden: [classIndices[2]!, 39],
        numClasses,
        highlights: [null, 3, 0, NO_HIGHLIGHT],
        capacity: count + 5,
      };
      const got = await runComposeOverlay(device, c);
      const failures: string[] = [];
      let covered = 0;
      c.highlights.forEach((highlight, i) => {
        const expected = composeOverlayReference({
          masks,
          classIndices,
          classColours: c.classColours,
          hiddenClasses: hiddenClassMask(c.hidden, numClasses),
          highlight,
        });
        const bad = firstDifference(got[i]!, expected);
        if (bad >= 0) failures.push(`highlight ${highlight}: byte ${bad} got ${got[i]![bad]} expected ${expected[bad]}`);
        if (i === 0) for (let p = 3; p < expected.length; p += 4) covered += expected[p]! > 0 ? 1 : 0;
      });
      return {
        pass: failures.length === 0 && covered > 0,
        detail: failures.length ? failures.join('; ') : `${c.highlights.length} overlays byte-equal, ${covered} covered pixels`,
      };
    }),
  );

  results.push(
    await runCase(device, K, 'more instances than the tile list tracks (1030 on 16x8)', async () => {
      const count = 1030;
      const masks = masksFromRows(
        16,
        8,
        Array.from({ length: count }, (_, n) =>
          n === 500
            ? (x: number, y: number) => x < 6 && y < 5
            : n === 1027
              ? (x: number) => x >= 4
              : n === 1029
                ? (x: number, y: number) => y === 7
                : () => false,
        ),
      );
      const classIndices = Array.from({ length: count }, (_, n) => n % 7);
      const c: ComposeCase = { masks, classIndices, classColours: defaultClassColours(7), hidden: [], numClasses: 7, highlights: [null, 1029] };
      const got = await runComposeOverlay(device, c);
      const failures: string[] = [];
      c.highlights.forEach((highlight, i) => {
        const want = composeOverlayReference({ masks, classIndices, classColours: c.classColours, hiddenClasses: hiddenClassMask([], 7), highlight });
        const bad = firstDifference(got[i]!, want);
        if (bad >= 0) failures.push(`highlight ${highlight}: byte ${bad} got ${got[i]![bad]} expected ${want[bad]}`);
      });
      return { pass: failures.length === 0, detail: failures.length ? failures.join('; ') : '2 overlays byte-equal' };
    }),
  );

  results.push(
    await runCase(device, K, 'zero detections: overlay fully transparent', async () => {
      const masks = masksFromRows(40, 9, [() => true]);
      const got = await runComposeOverlay(device, {
        masks,
        classIndices: [],
        classColours: defaultClassColours(3),
        hidden: [],
        numClasses: 3,
        highlights: [null, 0],
        capacity: 2,
      });
      const clear = got.every((o) => o.every((v) => v === 0));
      return { pass: clear, detail: clear ? 'all bytes 0' : 'something was drawn' };
    }),
  );
  return results;
}
