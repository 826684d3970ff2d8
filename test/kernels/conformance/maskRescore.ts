/**
 * Conformance cases of the mask scoring (shaders/mask_rescore.wgsl): hand-computed
 * re-orderings for CenterMask ('perClass': score · maskIou of the record's class) and B2Inst
 * ('sqrtPair': score · sqrt(S_IoU · S_boundary), 'productPair': score · S_IoU · S_boundary,
 * a negative product included), ties, the display threshold, the plain score ('none'), no
 * records, the host's size check (row length K or 2), and random cases of every mode against
 * app/reference/maskRescore.ts.
 */
import { createMaskRescore } from '../../../app/gpu/kernels/maskRescore';
import { maskRescoreReference, type MaskRescoreQuality } from '../../../app/reference/maskRescore';
import { decodeRecords, type DecodedRecord } from '../../../app/gpu/layout';
import { readBuffer, uploadStorage } from '../../../app/gpu/buffers';
import { packRecords, type RecordInit } from './maskCoefficients';
import { rng, runCases, sharedKernel, type CaseResult } from './common';

interface RescoreCase {
  records: RecordInit[];
  /** [capacity, K] ('perClass') or [capacity, 2] (the pair modes) */
  maskIou: Float32Array;
  numClasses: number;
  capacity: number;
  quality: MaskRescoreQuality;
  scoreThreshold: number;
  candidateCount?: number;
}

async function runRescore(device: GPUDevice, c: RescoreCase): Promise<{ records: DecodedRecord[]; candidateCount: number; ms: number }> {
  const kernel = sharedKernel(device, 'maskRescore', createMaskRescore);
  const records = uploadStorage(device, 'test.records', new Uint8Array(packRecords(c.records, c.capacity, c.candidateCount ?? 0)));
  const maskIou = uploadStorage(device, 'test.maskIou', c.maskIou.length > 0 ? c.maskIou : new Float32Array(4));
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'test.maskRescore' });
  kernel.run(encoder, { records, maskIou }, { numClasses: c.numClasses, maxDetections: c.capacity, quality: c.quality, scoreThreshold: c.scoreThreshold });
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
  const ref = maskRescoreReference(asDecoded(c.records), c.maskIou, c.numClasses, c.quality, c.scoreThreshold);
  const refOk = !want || (ref.length === want.length && want.every(([row, score], i) => ref[i]!.sourceIndex === row && Math.abs(ref[i]!.score - score) < 1e-6));
  const gpuOk = sameRecords(records, ref) && candidateCount === (c.candidateCount ?? 0);
  return {
    pass: refOk && gpuOk,
    detail: `GPU ${summary(records)} (candidates ${candidateCount}); reference ${summary(ref)}${want ? `; want ${want.map(([r, s]) => `${r}:${s.toFixed(4)}`).join(' ')}` : ''}`,
    ms,
  };
}

const box = (i: number): [number, number, number, number] => [0.1 * i, 0.05, 0.1 * i + 0.2, 0.5];

const MODES: MaskRescoreQuality[] = ['perClass', 'sqrtPair', 'productPair', 'none'];

/**
 * 4 records of classes 3, 0, 79, 5 (ignored by the pair modes: 80 classes, but q is
 * [4, 2], which the host's size check must accept) and the B2Inst head's (S_IoU, S_boundary)
 * rows (0.25, 0.64), (0.81, 1), (1, 1), (−0.5, 0.5): a negative product, which the
 * sigmoid-ended head should never give, rescored by √max(0, ·) = 0.
 */
function pairCase(quality: MaskRescoreQuality): RescoreCase {
  const records: RecordInit[] = [
    { box: box(0), score: 0.9, classIndex: 3, sourceIndex: 50, maskArea: 3 },
    { box: box(1), score: 0.8, classIndex: 0, sourceIndex: 51 },
    { box: box(2), score: 0.7, classIndex: 79, sourceIndex: 52 },
    { box: box(3), score: 0.6, classIndex: 5, sourceIndex: 53 },
  ];
  const maskIou = new Float32Array([0.25, 0.64, 0.81, 1, 1, 1, -0.5, 0.5]);
  return { records, maskIou, numClasses: 80, capacity: 4, quality, scoreThreshold: 0, candidateCount: 9 };
}

/** Two random cases of a mode against the reference (q row length K or 2; some negative q, many ties). */
function randomCases(device: GPUDevice, quality: MaskRescoreQuality, seed: number): Array<[string, () => Promise<Omit<CaseResult, 'kernel' | 'name'>>]> {
  const row = (numClasses: number) => (quality === 'perClass' ? numClasses : 2);
  return [
    [
      `random '${quality}': 300 records (MAX_DETECTIONS), 80 classes, threshold 0.3`,
      () => {
        const r = rng(91 + seed);
        const n = 300;
        const records: RecordInit[] = Array.from({ length: n }, (_, i) => ({
          box: box(i % 7),
          score: 1 - i / n,
          classIndex: Math.floor(r() * 80),
          sourceIndex: 1000 + i,
        }));
        const maskIou = Float32Array.from({ length: n * row(80) }, () => r() * 1.1 - 0.05);
        return check(device, { records, maskIou, numClasses: 80, capacity: n, quality, scoreThreshold: 0.3, candidateCount: 1234 });
      },
    ],
    [
      `random '${quality}': 37 of 50 records, 3 classes, coarse scores and q (many ties)`,
      () => {
        const r = rng(92 + seed);
        const records: RecordInit[] = Array.from({ length: 37 }, (_, i) => ({
          box: box(i % 5),
          score: Math.round(r() * 4) / 4,
          classIndex: Math.floor(r() * 3),
          sourceIndex: i,
        }));
        records.sort((a, b) => b.score! - a.score!);
        const maskIou = Float32Array.from({ length: 50 * row(3) }, () => Math.round(r() * 4) / 4);
        return check(device, { records, maskIou, numClasses: 3, capacity: 50, quality, scoreThreshold: 0 });
      },
    ],
  ];
}

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
        return check(device, { records, maskIou, numClasses: 2, capacity: 4, quality: 'perClass', scoreThreshold: 0, candidateCount: 17 }, [
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
        return check(device, { records, maskIou: new Float32Array([0.4, 0.9]), numClasses: 1, capacity: 2, quality: 'perClass', scoreThreshold: 0.5 }, [
          [1, 0.54],
        ]);
      },
    ],
    [
      'hand: ties keep the earlier record first',
      () => {
        const records: RecordInit[] = [0, 1, 2].map((i) => ({ box: box(i), score: 0.5, classIndex: 0, sourceIndex: i }));
        return check(device, { records, maskIou: new Float32Array([0.5, 1, 0.5]), numClasses: 1, capacity: 3, quality: 'perClass', scoreThreshold: 0 }, [
          [1, 0.5],
          [0, 0.25],
          [2, 0.25],
        ]);
      },
    ],
    [
      'hand: quality none → scores and order unchanged, rows kept in sourceIndex',
      () => {
        const records: RecordInit[] = [
          { box: box(0), score: 0.9, classIndex: 0, sourceIndex: 9 },
          { box: box(1), score: 0.3, classIndex: 0, sourceIndex: 8 },
        ];
        return check(device, { records, maskIou: new Float32Array([0.01, 1]), numClasses: 1, capacity: 2, quality: 'none', scoreThreshold: 0 }, [
          [0, 0.9],
          [1, 0.3],
        ]);
      },
    ],
    [
      'no records: count 0, candidate count kept',
      () =>
        check(device, { records: [], maskIou: new Float32Array(4), numClasses: 2, capacity: 2, quality: 'perClass', scoreThreshold: 0, candidateCount: 5 }, []),
    ],
    [
      "hand (B2Inst): 'sqrtPair', q = (S_IoU, S_boundary): 0.9·√(0.25·0.64), 0.8·√(0.81·1), 0.7·√1, 0.6·√max(0, −0.25) = 0.36, 0.72, 0.70, 0 → rows 1, 2, 0, 3",
      () =>
        check(device, pairCase('sqrtPair'), [
          [1, 0.72],
          [2, 0.7],
          [0, 0.36],
          [3, 0],
        ]),
    ],
    [
      "hand (B2Inst): 'productPair', the same q: 0.9·0.25·0.64, 0.8·0.81·1, 0.7·1·1, 0.6·(−0.25) = 0.144, 0.648, 0.70, −0.15 → rows 2, 1, 0 (row 3 below 0)",
      () =>
        check(device, pairCase('productPair'), [
          [2, 0.7],
          [1, 0.648],
          [0, 0.144],
        ]),
    ],
    [
      "hand: 'productPair' with the display threshold 0.5 keeps rows 2, 1",
      () =>
        check(device, { ...pairCase('productPair'), scoreThreshold: 0.5 }, [
          [2, 0.7],
          [1, 0.648],
        ]),
    ],
    [
      'host: the size check reads rows of K for perClass, of 2 for the pair modes',
      async () => {
        const kernel = sharedKernel(device, 'maskRescore', createMaskRescore);
        const records = uploadStorage(device, 'test.records', new Uint8Array(packRecords([], 4, 0)));
        const q = uploadStorage(device, 'test.maskIou', new Float32Array(8)); // [4, 2]
        const short = uploadStorage(device, 'test.maskIou.short', new Float32Array(6));
        const attempt = (maskIou: GPUBuffer, quality: MaskRescoreQuality): string => {
          const encoder = device.createCommandEncoder({ label: 'test.maskRescore.size' });
          try {
            kernel.run(encoder, { records, maskIou }, { numClasses: 80, maxDetections: 4, quality, scoreThreshold: 0 });
            return 'ok';
          } catch (e) {
            return e instanceof Error ? e.message : String(e);
          } finally {
            encoder.finish();
          }
        };
        const got = [attempt(q, 'sqrtPair'), attempt(q, 'productPair'), attempt(q, 'none'), attempt(q, 'perClass'), attempt(short, 'sqrtPair')];
        records.destroy();
        q.destroy();
        short.destroy();
        const pass = got[0] === 'ok' && got[1] === 'ok' && got[2] === 'ok' && /\[4, 80\]/.test(got[3]!) && /\[4, 2\]/.test(got[4]!);
        return { pass, detail: got.join(' | ') };
      },
    ],
    ...MODES.flatMap((quality, m) => randomCases(device, quality, 10 * m)),
  ]);
}
