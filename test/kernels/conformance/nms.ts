/**
 * Conformance cases shared by the two NMS kernels (fast_nms.wgsl, greedy_nms.wgsl): the
 * same inputs, each kernel against its own reference, plus hand cases where the two differ.
 */
import { createFastNms, keepBytes, type NmsKernel } from '../../../app/gpu/kernels/fastNms';
import { createGreedyNms } from '../../../app/gpu/kernels/greedyNms';
import { fastNmsReference } from '../../../app/reference/fastNms';
import { greedyNmsReference } from '../../../app/reference/greedyNms';
import { createStorageBuffer, readU32, uploadStorage } from '../../../app/gpu/buffers';
import { rng, runCases, sharedKernel, type CaseResult } from './common';
import { shuffled } from './yolactData';

export type NmsKind = 'fast' | 'greedy';

const REFERENCES = { fast: fastNmsReference, greedy: greedyNmsReference };
const FACTORIES: Record<NmsKind, (device: GPUDevice) => NmsKernel> = { fast: createFastNms, greedy: createGreedyNms };

/** Packs per-class index lists into [C, topK] rows + [C] counts. */
export function packTopIndices(topIndices: number[][], topK: number): { rows: Uint32Array<ArrayBuffer>; counts: Uint32Array<ArrayBuffer> } {
  const rows = new Uint32Array(topIndices.length * Math.max(1, topK));
  const counts = new Uint32Array(topIndices.length);
  topIndices.forEach((idx, c) => {
    rows.set(idx, c * topK);
    counts[c] = idx.length;
  });
  return { rows, counts };
}

export async function runNms(
  device: GPUDevice,
  kind: NmsKind,
  boxes: Float32Array,
  topIndices: number[][],
  topK: number,
  nmsIou: number,
): Promise<{ keep: boolean[][]; ms: number }> {
  const numClasses = topIndices.length;
  const packed = packTopIndices(topIndices, topK);
  const bufs = {
    boxes: uploadStorage(device, 'test.boxes', boxes),
    topIndices: uploadStorage(device, 'test.topIndices', packed.rows),
    topCounts: uploadStorage(device, 'test.topCounts', packed.counts),
    keep: createStorageBuffer(device, 'test.keep', keepBytes(numClasses, topK)),
  };
  device.queue.writeBuffer(bufs.keep, 0, new Uint32Array(numClasses * topK).fill(7));
  const kernel = sharedKernel(device, `${kind}Nms`, FACTORIES[kind]);
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: `${kind}Nms.test` });
  kernel.run(encoder, bufs, { numClasses, topK, nmsIou });
  device.queue.submit([encoder.finish()]);
  const words = await readU32(device, bufs.keep, numClasses * topK);
  const ms = performance.now() - t0;
  Object.values(bufs).forEach((b) => b.destroy());
  const keep = topIndices.map((idx, c) =>
    idx.map((_, i) => {
      const w = words[c * topK + i]!;
      if (w !== 0 && w !== 1) throw new Error(`keep[${c}, ${i}] = ${w}: not written`);
      return w === 1;
    }),
  );
  return { keep, ms };
}

export function compareKeep(got: boolean[][], want: boolean[][]): { pass: boolean; detail: string } {
  let kept = 0;
  let total = 0;
  for (let c = 0; c < want.length; c++) {
    for (let i = 0; i < want[c]!.length; i++) {
      if (got[c]![i] !== want[c]![i]) return { pass: false, detail: `class ${c} rank ${i}: got ${got[c]![i]}, want ${want[c]![i]}` };
      total++;
      if (want[c]![i]) kept++;
    }
  }
  return { pass: true, detail: `${want.length} classes, ${kept} of ${total} kept` };
}

/** Random xyxy boxes [n, 4] around a few cluster centres (lots of overlap), in [lo, hi]. */
export function clusteredBoxes(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const r = rng(seed);
  const centres = Array.from({ length: 12 }, () => [lo + (hi - lo) * r(), lo + (hi - lo) * r()] as const);
  const boxes = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const [cx, cy] = centres[Math.floor(r() * centres.length)]!;
    const x = cx + 0.05 * (r() - 0.5);
    const y = cy + 0.05 * (r() - 0.5);
    const w = 0.02 + 0.3 * r();
    const h = 0.02 + 0.3 * r();
    boxes.set([x - w / 2, y - h / 2, x + w / 2, y + h / 2], 4 * i);
  }
  return boxes;
}

/** Per class: `perClass` distinct random priors out of n, in random order (a stand-in for a sorted top-k). */
export function randomTopIndices(n: number, numClasses: number, perClass: (c: number) => number, seed: number): number[][] {
  const all = [...Array(n).keys()];
  return Array.from({ length: numClasses }, (_, c) => shuffled(all, seed + c).slice(0, perClass(c)));
}

export function nmsConformance(kind: NmsKind): (device: GPUDevice) => Promise<CaseResult[]> {
  const reference = REFERENCES[kind];
  const vsReference = async (device: GPUDevice, boxes: Float32Array, topIndices: number[][], topK: number, nmsIou: number) => {
    const got = await runNms(device, kind, boxes, topIndices, topK, nmsIou);
    return { ...compareKeep(got.keep, reference(boxes, topIndices, nmsIou)), ms: got.ms };
  };
  const hand = async (device: GPUDevice, boxes: number[], want: boolean[], nmsIou = 0.5) => {
    const idx = [...Array(boxes.length / 4).keys()];
    const b = new Float32Array(boxes);
    const got = await runNms(device, kind, b, [idx], idx.length, nmsIou);
    const r = compareKeep(got.keep, [want]);
    const ref = compareKeep(reference(b, [idx], nmsIou), [want]);
    return { pass: r.pass && ref.pass, detail: `kernel: ${r.detail}; reference: ${ref.detail}`, ms: got.ms };
  };
  return (device) =>
    runCases(`${kind}Nms`, device, [
      [
        'hand: chain A–B–C where Fast and greedy NMS differ',
        () => {
          // A (0,0,1,1), B (0.3,0,1.3,1), C (0.6,0,1.6,1):
          // IoU(A,B) = 0.7/1.3 = 0.538, IoU(A,C) = 0.4/1.6 = 0.25, IoU(B,C) = 0.538.
          // Fast: B suppressed by A, C by B (suppressed or not) → [1, 0, 0].
          // Greedy: B suppressed by A; C only meets kept A (0.25) → [1, 0, 1].
          const boxes = [0, 0, 1, 1, 0.3, 0, 1.3, 1, 0.6, 0, 1.6, 1];
          return hand(device, boxes, kind === 'fast' ? [true, false, false] : [true, false, true]);
        },
      ],
      [
        'hand: IoU exactly 0.5 is kept (suppress only above)',
        () =>
          // (0,0,2,1) and (0,0,1,1): inter 1, union 2 → 0.5, exact in fp32.
          hand(device, [0, 0, 2, 1, 0, 0, 1, 1], [true, true]),
      ],
      [
        'hand: five identical boxes → only the best kept',
        () => hand(device, Array.from({ length: 5 }, () => [0.2, 0.3, 0.6, 0.9]).flat(), [true, false, false, false, false]),
      ],
      ['hand: one box', () => hand(device, [0.1, 0.1, 0.2, 0.2], [true])],
      [
        'hand: zero-area boxes (union 0 → IoU 0) are all kept',
        () => hand(device, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.5, 0.6, 0.5], [true, true, true]),
      ],
      [
        'hand: full-image box, a tiny box inside it, boxes outside the image',
        () =>
          // full (0,0,1,1); tiny 1e-4² inside: IoU 1e-8 → kept; (−0.5,−0.5,0.5,0.5) vs full:
          // 0.25/1.75 → kept; (1.2,1.2,1.8,1.8) outside, disjoint → kept; (−0.5,−0.5,0.6,0.6)
          // vs (−0.5,−0.5,0.5,0.5): 1/1.21 = 0.83 → suppressed.
          hand(device, [0, 0, 1, 1, 0.5, 0.5, 0.5001, 0.5001, -0.5, -0.5, 0.5, 0.5, 1.2, 1.2, 1.8, 1.8, -0.5, -0.5, 0.6, 0.6], [true, true, true, true, false]),
      ],
      [
        'classes with 0, 1 and 200 entries',
        async () => {
          const boxes = clusteredBoxes(1000, 31);
          const top = randomTopIndices(1000, 3, (c) => [0, 1, 200][c]!, 32);
          return vsReference(device, boxes, top, 200, 0.5);
        },
      ],
      [
        'random: 80 classes × 200 clustered boxes, IoU 0.5',
        async () => {
          const boxes = clusteredBoxes(19248, 33);
          return vsReference(
            device,
            boxes,
            randomTopIndices(19248, 80, () => 200, 34),
            200,
            0.5,
          );
        },
      ],
      [
        'random: boxes partly outside the image, IoU 0.3 and 0.7',
        async () => {
          const boxes = clusteredBoxes(5000, 35, -0.3, 1.3);
          const top = randomTopIndices(5000, 10, () => 150, 36);
          const a = await vsReference(device, boxes, top, 150, 0.3);
          const b = await vsReference(device, boxes, top, 150, 0.7);
          return { pass: a.pass && b.pass, detail: `0.3: ${a.detail}; 0.7: ${b.detail}`, ms: a.ms + b.ms };
        },
      ],
      [
        'k = 512 (the maximum), one class',
        async () => {
          const boxes = clusteredBoxes(2000, 37);
          return vsReference(
            device,
            boxes,
            randomTopIndices(2000, 1, () => 512, 38),
            512,
            0.5,
          );
        },
      ],
    ]);
}
