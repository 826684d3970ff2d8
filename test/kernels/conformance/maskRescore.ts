/**
 * Conformance cases of CenterMask's mask scoring (shaders/mask_rescore.wgsl): hand-computed
 * re-orderings (score · maskIou of the record's class), ties, the display threshold, the
 * plain-score switch, no records, and random cases against app/reference/maskRescore.ts.
 */
import { createMaskRescore } from '../../../app/gpu/kernels/maskRescore';
import { maskRescoreReference } from '../../../app/reference/maskRescore';
import { decodeRecords, type DecodedRecord } from '../../../app/gpu/layout';
import { readBuffer, uploadStorage } from '../../../app/gpu/buffers';
import { packRecords, type RecordInit } from './maskCoefficients';
import { rng, runCases, sharedKernel, type CaseResult } from './common';

interface RescoreCase {
  records: RecordInit[];
  /** [capacity, K] */
  maskIou: Float32Array;
  numClasses: number;
  capacity: number;
  useMaskIou: boolean;
  scoreThreshold: number;
  candidateCount?: number;
}

async function runRescore(device: GPUDevice, c: RescoreCase): Promise<{ records: DecodedRecord[]; candidateCount: number; ms: number }> {
  const kernel = sharedKernel(device, 'maskRescore', createMaskRescore);
  const records = uploadStorage(device, 'test.records', new Uint8Array(packRecords(c.records, c.capacity, c.candidateCount ?? 0)));
  const maskIou = uploadStorage(device, 'test.maskIou', c.maskIou.length > 0 ? c.maskIou : new Float32Array(4));
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'test.maskRescore' });
  kernel.run(
    encoder,
    { records, maskIou },
    { numClasses: c.numClasses, maxDetections: c.capacity, useMaskIou: c.useMaskIou, scoreThreshold: c.scoreThreshold },
  );
  device.queue.submit([encoder.finish()]);
  const out = decodeRecords(await readBuffer(device, records));
  const ms = performance.now() - t0;
  records.destroy();
  maskIou.destroy();
  return { ...out, ms };
}

function asDecoded(records: RecordInit[]): DecodedRecord[] {
  return records.map((r, n) => ({
    box: r.box.map((v) => Math.fround(v)) as [number, number, number, number],
    score: Math.fround(r.score ?? 1 - n * 0.01),
    classIndex: r.classIndex ?? 0,
    sourceIndex: r.sourceIndex,
    maskArea: r.maskArea ?? 0,
  }));
}

const summary = (records: DecodedRecord[]) => records.map((r) => `${r.sourceIndex}:${r.score.toFixed(4)}`).join(' ');

function sameRecords(a: DecodedRecord[], b: DecodedRecord[]): boolean {
  return (
    a.length === b.length &&
    a.every((r, i) => {
      const s = b[i]!;
      return (
        r.score === s.score &&
        r.classIndex === s.classIndex &&
        r.sourceIndex === s.sourceIndex &&
        r.maskArea === s.maskArea &&
        r.box.every((v, k) => v === s.box[k])
      );
    })
  );
}

async function check(device: GPUDevice, c: RescoreCase, want?: Array<[number, number]>) {
  const { records, candidateCount, ms } = await runRescore(device, c);
  const ref = maskRescoreReference(asDecoded(c.records), c.maskIou, c.numClasses, c.useMaskIou, c.scoreThreshold);
  const refOk = !want || (ref.length === want.length && want.every(([row, score], i) => ref[i]!.sourceIndex === row && Math.abs(ref[i]!.score - score) < 1e-6));
  const gpuOk = sameRecords(records, ref) && candidateCount === (c.candidateCount ?? 0);
  return {
    pass: refOk && gpuOk,
    detail: `GPU ${summary(records)} (candidates ${candidateCount}); reference ${summary(ref)}${want ? `; want ${want.map(([r, s]) => `${r}:${s.toFixed(4)}`).join(' ')}` : ''}`,
    ms,
  };
}

const box = (i: number): [number, number, number, number] => [0.1 * i, 0.05, 0.1 * i + 0.2, 0.5];

export async function maskRescoreConformance(device: GPUDevice): Promise<CaseResult[]> {
  return runCases('maskRescore', device, [
    [
      'hand: 3 records, 2 classes: 0.9·0.5, 0.8·0.9, 0.7·1 = 0.45, 0.72, 0.70 → rows 1, 2, 0',
      () => {
        // record 0 class 1 iou 0.5 → 0.45; record 1 class 0 iou 0.9 → 0.72; record 2 class 1 iou 1 → 0.70.
        const records: RecordInit[] = [
          { box: box(0), score: 0.9, classIndex: 1, sourceIndex: 40, maskArea: 7 },
          { box: box(1), score: 0.8, classIndex: 0, sourceIndex: 41 },
          { box: box(2), score: 0.7, classIndex: 1, sourceIndex: 42 },
        ];
        const maskIou = new Float32Array([0.1, 0.5, 0.9, 0.2, 0.3, 1.0, 0, 0]);
        return check(device, { records, maskIou, numClasses: 2, capacity: 4, useMaskIou: true, scoreThreshold: 0, candidateCount: 17 }, [
          [1, 0.72],
          [2, 0.7],
          [0, 0.45],
        ]);
      },
    ],
    [
      'hand: the display threshold 0.5 drops the record that falls below it after rescoring',
      () => {
        const records: RecordInit[] = [
          { box: box(0), score: 0.9, classIndex: 0, sourceIndex: 0 },
          { box: box(1), score: 0.6, classIndex: 0, sourceIndex: 1 },
        ];
        return check(device, { records, maskIou: new Float32Array([0.4, 0.9]), numClasses: 1, capacity: 2, useMaskIou: true, scoreThreshold: 0.5 }, [
          [1, 0.54],
        ]);
      },
    ],
    [
      'hand: ties keep the earlier record first',
      () => {
        const records: RecordInit[] = [0, 1, 2].map((i) => ({ box: box(i), score: 0.5, classIndex: 0, sourceIndex: i }));
        return check(device, { records, maskIou: new Float32Array([0.5, 1, 0.5]), numClasses: 1, capacity: 3, useMaskIou: true, scoreThreshold: 0 }, [
          [1, 0.5],
          [0, 0.25],
          [2, 0.25],
        ]);
      },
    ],
    [
      'hand: useMaskIou off → scores and order unchanged, rows kept in sourceIndex',
      () => {
        const records: RecordInit[] = [
          { box: box(0), score: 0.9, classIndex: 0, sourceIndex: 9 },
          { box: box(1), score: 0.3, classIndex: 0, sourceIndex: 8 },
        ];
        return check(device, { records, maskIou: new Float32Array([0.01, 1]), numClasses: 1, capacity: 2, useMaskIou: false, scoreThreshold: 0 }, [
          [0, 0.9],
          [1, 0.3],
        ]);
      },
    ],
    [
      'no records: count 0, candidate count kept',
      () =>
        check(device, { records: [], maskIou: new Float32Array(4), numClasses: 2, capacity: 2, useMaskIou: true, scoreThreshold: 0, candidateCount: 5 }, []),
    ],
    [
      'random: 300 records (MAX_DETECTIONS), 80 classes, threshold 0.3',
      () => {
        const r = rng(91);
        const n = 300;
        const records: RecordInit[] = Array.from({ length: n }, (_, i) => ({
          box: box(i % 7),
          score: 1 - i / n,
          classIndex: Math.floor(r() * 80),
          sourceIndex: 1000 + i,
        }));
        const maskIou = Float32Array.from({ length: n * 80 }, () => r() * 1.1 - 0.05);
        return check(device, { records, maskIou, numClasses: 80, capacity: n, useMaskIou: true, scoreThreshold: 0.3, candidateCount: 1234 });
      },
    ],
    [
      'random: 37 of 50 records, 3 classes, coarse IoUs (many ties)',
      () => {
        const r = rng(92);
        const records: RecordInit[] = Array.from({ length: 37 }, (_, i) => ({
          box: box(i % 5),
          score: Math.round(r() * 4) / 4,
          classIndex: Math.floor(r() * 3),
          sourceIndex: i,
        }));
        records.sort((a, b) => b.score! - a.score!);
        const maskIou = Float32Array.from({ length: 50 * 3 }, () => Math.round(r() * 4) / 4);
        return check(device, { records, maskIou, numClasses: 3, capacity: 50, useMaskIou: true, scoreThreshold: 0 });
      },
    ],
  ]);
}
