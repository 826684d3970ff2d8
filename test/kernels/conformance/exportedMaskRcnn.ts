/**
 * Conformance cases of the two kernels of public Mask R-CNN exports (no test-framework
 * imports; runs in Node through Dawn and in the browser page kernel-tests.html):
 *   exportedRecords  vs `exportedRecordsReference` (via exportedRecordsFromOutputs) — records exact (box within f32 division)
 *   pastedMaskBits   vs `pastedMaskBitsReference` / `roiMaskBitsReference` — bit masks and
 *                    areas; a pixel may differ only where the reference's value is within
 *                    1e-5 of 0.5 (f32 rounding of the bilinear sum)
 */
import type { ModelManifest } from '../../../app/types';
import { createStorageBuffer, readBuffer, uploadStorage } from '../../../app/gpu/buffers';
import { decodeRecords, recordsBufferBytes, RECORD_FLOATS, RECORD_HEADER_BYTES, type DecodedRecord, type InputTransform } from '../../../app/gpu/layout';
import { createExportedRecords, type LabelEncoding } from '../../../app/gpu/kernels/exportedRecords';
import { createPastedMaskBits, maskBitsBytes } from '../../../app/gpu/kernels/pastedMaskBits';
import { resizeGeometry } from '../../../app/reference/preprocess';
import { wordsPerRowFor } from '../../../app/reference/maskAssembly';
import {
  COCO_CATEGORIES,
  boxInMaskPixels,
  exportedLayout,
  exportedRecordsFromOutputs,
  pastedMaskBitsReference,
  roiMaskBitsReference,
  ROI_MASK_SIDE,
  type ExportedMaskKind,
} from '../../../app/families/maskRcnn/exported';
import { packRecords, type RecordInit } from './maskCoefficients';
import { rng, runCases, sharedKernel, type CaseResult } from './common';

/** A torchvision-layout (COCO ids) or zoo-layout (contiguous labels) manifest, 80 classes. */
function exportManifest(kind: ExportedMaskKind, inputWidth = 640, inputHeight = 640): ModelManifest {
  return {
    id: `conformance-${kind}`,
    name: kind,
    family: 'maskrcnn',
    url: '',
    input: {
      name: 'image',
      width: inputWidth,
      height: inputHeight,
      resize: 'letterbox',
      channels: 'rgb',
      scale: 1 / 255,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      padValue: 114,
      layout: 'chw',
    },
    outputs: { boxes: 'boxes', labels: 'labels', scores: 'scores', [kind === 'pasted' ? 'pastedMasks' : 'roiMasks']: 'masks' },
    classes: COCO_CATEGORIES.map(([, n]) => n),
    categoryIds: COCO_CATEGORIES.map(([id]) => id),
    defaults: { confThreshold: 0.05, scoreThreshold: 0.3, topK: 100, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100 },
  };
}

interface RecordsCase {
  manifest: ModelManifest;
  boxes: Float32Array;
  labels: number[];
  scores: Float32Array;
  encoding: LabelEncoding;
  scoreThreshold: number;
  maxDetections: number;
}

function encodeLabels(labels: number[], encoding: LabelEncoding): Uint32Array {
  if (encoding === 'f32') return new Uint32Array(new Float32Array(labels).buffer);
  if (encoding === 'i32') return new Uint32Array(new Int32Array(labels).buffer);
  return new Uint32Array(BigInt64Array.from(labels.map((v) => BigInt(v))).buffer);
}

async function runRecords(device: GPUDevice, c: RecordsCase): Promise<{ records: DecodedRecord[]; candidateCount: number; count: number }> {
  const kernel = sharedKernel(device, 'exportedRecords', createExportedRecords);
  const layout = exportedLayout(c.manifest);
  const n = c.scores.length;
  const boxes = uploadStorage(device, 'test.boxes', c.boxes);
  const labels = uploadStorage(device, 'test.labels', encodeLabels(c.labels, c.encoding));
  const scores = uploadStorage(device, 'test.scores', c.scores);
  const labelToClass = uploadStorage(device, 'test.labelToClass', new Int32Array(layout.labelToClass));
  // Sentinel-filled records: the kernel must write the header and every kept record.
  const records = uploadStorage(device, 'test.records', new Uint32Array(recordsBufferBytes(c.maxDetections) / 4).fill(0xdeadbeef));
  const encoder = device.createCommandEncoder({ label: 'test.exportedRecords' });
  kernel.run(
    encoder,
    { boxes, labels, scores, labelToClass, records },
    {
      numRows: n,
      maxDetections: c.maxDetections,
      labels: c.encoding,
      numLabels: layout.labelToClass.length,
      confThreshold: c.manifest.defaults.confThreshold,
      scoreThreshold: c.scoreThreshold,
      inputWidth: layout.inputWidth,
      inputHeight: layout.inputHeight,
    },
  );
  device.queue.submit([encoder.finish()]);
  const bytes = await readBuffer(device, records);
  for (const b of [boxes, labels, scores, labelToClass, records]) b.destroy();
  const decoded = decodeRecords(bytes);
  return { records: decoded.records, candidateCount: decoded.candidateCount, count: decoded.records.length };
}

function checkRecords(actual: { records: DecodedRecord[]; candidateCount: number }, c: RecordsCase): Omit<CaseResult, 'kernel' | 'name'> {
  const ref = exportedRecordsFromOutputs(
    {
      boxes: { data: c.boxes, dims: [c.scores.length, 4] },
      labels: { data: new Float64Array(c.labels), dims: [c.labels.length] },
      scores: { data: c.scores, dims: [c.scores.length] },
      [c.manifest.outputs.pastedMasks ? 'pastedMasks' : 'roiMasks']: { data: new Float32Array(0), dims: [0] },
    },
    c.manifest,
    { scoreThreshold: c.scoreThreshold, maxDetections: c.maxDetections },
  );
  if (actual.records.length !== ref.records.length) return { pass: false, detail: `count ${actual.records.length}, expected ${ref.records.length}` };
  if (actual.candidateCount !== ref.candidateCount) return { pass: false, detail: `candidateCount ${actual.candidateCount}, expected ${ref.candidateCount}` };
  let maxAbsError = 0;
  for (let i = 0; i < ref.records.length; i++) {
    const a = actual.records[i]!;
    const e = ref.records[i]!;
    if (a.sourceIndex !== e.sourceIndex || a.classIndex !== e.classIndex || a.score !== e.score || a.maskArea !== 0) {
      return {
        pass: false,
        detail: `record ${i}: row ${a.sourceIndex} class ${a.classIndex} score ${a.score} area ${a.maskArea}, expected row ${e.sourceIndex} class ${e.classIndex} score ${e.score}`,
      };
    }
    for (let k = 0; k < 4; k++) maxAbsError = Math.max(maxAbsError, Math.abs(a.box[k]! - e.box[k]!));
  }
  // WGSL f32 division is within 2.5 ulp; boxes are relative (≤ ~1), so 1e-6 is a few ulp.
  return {
    pass: maxAbsError <= 1e-6,
    detail: `${ref.records.length} records of ${c.scores.length} rows, ${ref.candidateCount} candidates, ${ref.droppedLabels} labels dropped`,
    maxAbsError,
  };
}

function randomRecordsCase(seed: number, n: number, encoding: LabelEncoding, kind: ExportedMaskKind, maxDetections: number): RecordsCase {
  const rand = rng(seed);
  const boxes = new Float32Array(4 * n);
  const labels: number[] = [];
  const scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = rand() * 600;
    const y = rand() * 600;
    boxes.set([x, y, x + rand() * 200, y + rand() * 200], 4 * i);
    // Quantised scores: many ties, which must be broken by row. Labels: 0..95 (gaps, 0, > 90).
    scores[i] = Math.round(rand() * 20) / 20;
    labels.push(Math.floor(rand() * 96));
  }
  return { manifest: exportManifest(kind), boxes, labels, scores, encoding, scoreThreshold: 0.3, maxDetections };
}

export async function exportedRecordsConformance(device: GPUDevice): Promise<CaseResult[]> {
  const hand = (encoding: LabelEncoding): RecordsCase => ({
    manifest: exportManifest('pasted'),
    boxes: new Float32Array([0, 0, 64, 64, 10, 20, 30, 40, 320, 0, 640, 320, 1, 2, 3, 4, 5, 6, 7, 8, 100, 100, 200, 300]),
    labels: [18, 1, 12, encoding === 'f32' ? 91.5 : -1, 3, 90],
    scores: new Float32Array([0.6, 0.9, 0.95, 0.99, 0.6, 0.05]),
    encoding,
    scoreThreshold: 0.5,
    maxDetections: 100,
  });
  const cases: Array<[string, () => Promise<Omit<CaseResult, 'kernel' | 'name'>>]> = [];
  for (const encoding of ['f32', 'i64', 'i32'] as const) {
    cases.push([
      `hand-made 6 rows, ${encoding} labels (gap id, bad id, tie, threshold)`,
      async () => {
        const c = hand(encoding);
        const result = checkRecords(await runRecords(device, c), c);
        // Expected by hand: rows 1 (person), 0 (dog), 4 (car); the tie 0.6/0.6 goes to row 0.
        const got = (await runRecords(device, c)).records.map((r) => `${r.sourceIndex}:${r.classIndex}`).join(' ');
        return got === '1:0 0:16 4:2' ? result : { pass: false, detail: `rows ${got}, expected 1:0 0:16 4:2` };
      },
    ]);
  }
  cases.push([
    'random 300 rows, tied scores, i64 labels, cap 100',
    async () => {
      const c = randomRecordsCase(11, 300, 'i64', 'pasted', 100);
      return checkRecords(await runRecords(device, c), c);
    },
  ]);
  cases.push([
    'random 1000 rows, zoo labels (contiguous), f32, cap 7',
    async () => {
      const c = randomRecordsCase(12, 1000, 'f32', 'roi', 7);
      return checkRecords(await runRecords(device, c), c);
    },
  ]);
  cases.push([
    'no rows: count 0',
    async () => {
      const c: RecordsCase = { ...randomRecordsCase(13, 0, 'i64', 'pasted', 10), boxes: new Float32Array(4), scores: new Float32Array(0) };
      const out = await runRecords(device, c);
      return { pass: out.count === 0 && out.candidateCount === 0, detail: `count ${out.count}, candidates ${out.candidateCount}` };
    },
  ]);
  return runCases('exportedRecords', device, cases);
}

// ---------------------------------------------------------------- pastedMaskBits

interface BitsCase {
  mode: ExportedMaskKind;
  input: { width: number; height: number };
  records: RecordInit[];
  /** f32 [N, srcH, srcW] with N ≥ every sourceIndex + 1. */
  masks: Float32Array;
  transform: InputTransform;
  image: { width: number; height: number };
  mask: { width: number; height: number };
  capacity?: number;
}

async function runBits(device: GPUDevice, c: BitsCase): Promise<{ bits: Uint32Array; areas: number[] }> {
  const kernel = sharedKernel(device, 'pastedMaskBits', createPastedMaskBits);
  const capacity = c.capacity ?? Math.max(1, c.records.length);
  const records = uploadStorage(device, 'test.records', new Uint8Array(packRecords(c.records, capacity)));
  const masks = uploadStorage(device, 'test.masks', c.masks);
  const maskBits = uploadStorage(device, 'test.maskBits', new Uint32Array(maskBitsBytes(c.mask, capacity) / 4).fill(0xffffffff));
  const encoder = device.createCommandEncoder({ label: 'test.pastedMaskBits' });
  kernel.run(
    encoder,
    { records, masks, maskBits },
    { mode: c.mode, input: c.input, transform: c.transform, image: c.image, mask: c.mask, maxDetections: capacity },
  );
  device.queue.submit([encoder.finish()]);
  const bits = new Uint32Array(await readBuffer(device, maskBits));
  const rec = new Uint32Array(await readBuffer(device, records));
  for (const b of [records, masks]) b.destroy();
  maskBits.destroy();
  const areas = c.records.map((_, n) => rec[RECORD_HEADER_BYTES / 4 + n * RECORD_FLOATS + 7]!);
  return { bits: bits.subarray(0, c.records.length * c.mask.height * wordsPerRowFor(c.mask.width)), areas };
}

function checkBits(actual: { bits: Uint32Array; areas: number[] }, c: BitsCase): Omit<CaseResult, 'kernel' | 'name'> {
  const ref =
    c.mode === 'pasted'
      ? pastedMaskBitsReference(c.records, c.masks, c.input, c.transform, c.image, c.mask, true)
      : roiMaskBitsReference(c.records, c.masks, c.transform, c.image, c.mask, ROI_MASK_SIDE, true);
  const soft = ref.soft!;
  const { width: w, height: h } = c.mask;
  const wpr = wordsPerRowFor(w);
  let mismatches = 0;
  let excused = 0;
  let first = '';
  let excusedAreaSlack = 0;
  for (let n = 0; n < c.records.length; n++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (n * h + y) * wpr + (x >>> 5);
        const a = ((actual.bits[i]! >>> (x & 31)) & 1) === 1;
        const e = ((ref.masks.bits[i]! >>> (x & 31)) & 1) === 1;
        if (a === e) continue;
        if (Math.abs(soft[(n * h + y) * w + x]! - 0.5) < 1e-5) {
          excused++;
          excusedAreaSlack++;
        } else {
          mismatches++;
          first ||= `instance ${n} pixel (${x}, ${y}): kernel ${a}, reference ${e} (value ${soft[(n * h + y) * w + x]})`;
        }
      }
    }
  }
  const areaErrors = actual.areas.map((a, n) => Math.abs(a - ref.areas[n]!));
  const areaOk = areaErrors.reduce((s, v) => s + v, 0) <= excusedAreaSlack;
  const total = ref.areas.reduce((s, v) => s + v, 0);
  return {
    pass: mismatches === 0 && areaOk,
    detail: mismatches
      ? `${mismatches} mismatched pixels; first ${first}`
      : `${c.records.length} masks ${w}x${h}, ${total} pixels set, ${excused} excused at 0.5${areaOk ? '' : `; areas ${actual.areas} vs ${ref.areas}`}`,
  };
}

/** Random smooth probability planes [N, h, w]: a few Gaussian blobs each, values in [0, 1]. */
function blobPlanes(rand: () => number, count: number, w: number, h: number): Float32Array {
  const out = new Float32Array(count * w * h);
  for (let n = 0; n < count; n++) {
    const blobs = Array.from({ length: 3 }, () => ({ x: rand() * w, y: rand() * h, r: 2 + rand() * Math.max(w, h) * 0.3 }));
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let v = 0;
        for (const b of blobs) v = Math.max(v, Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.r * b.r)));
        out[(n * h + y) * w + x] = v;
      }
    }
  }
  return out;
}

/** Random boxes (relative to the input) whose paste-box edges are not within 1e-3 of an integer. */
function roiRecords(rand: () => number, count: number, numPlanes: number, c: Pick<BitsCase, 'transform' | 'image' | 'mask'>): RecordInit[] {
  const out: RecordInit[] = [];
  const scale = (ROI_MASK_SIDE + 2) / ROI_MASK_SIDE;
  while (out.length < count) {
    const x = rand() * 1.1 - 0.1;
    const y = rand() * 1.1 - 0.1;
    const tiny = out.length === 0;
    const box: [number, number, number, number] = [x, y, x + (tiny ? 0.004 : 0.05 + rand() * 0.5), y + (tiny ? 0.003 : 0.05 + rand() * 0.5)];
    const [bx1, by1, bx2, by2] = boxInMaskPixels(box, c.transform, c.image, c.mask);
    const edges = [
      (bx1 + bx2) / 2 - ((bx2 - bx1) / 2) * scale,
      (bx1 + bx2) / 2 + ((bx2 - bx1) / 2) * scale,
      (by1 + by2) / 2 - ((by2 - by1) / 2) * scale,
      (by1 + by2) / 2 + ((by2 - by1) / 2) * scale,
    ];
    if (edges.some((e) => Math.abs(e - Math.round(e)) < 1e-3)) continue;
    out.push({ box, sourceIndex: numPlanes - 1 - out.length });
  }
  return out;
}

const letterbox = (iw: number, ih: number, w: number, h: number): InputTransform =>
  resizeGeometry(w, h, { name: 'x', width: iw, height: ih, resize: 'letterbox', channels: 'rgb', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] }).transform;

export async function pastedMaskBitsConformance(device: GPUDevice): Promise<CaseResult[]> {
  const cases: Array<[string, () => Promise<Omit<CaseResult, 'kernel' | 'name'>>]> = [];
  const pasted = (
    name: string,
    seed: number,
    input: { width: number; height: number },
    image: { width: number; height: number },
    mask: { width: number; height: number },
    count: number,
  ) =>
    cases.push([
      name,
      async () => {
        const rand = rng(seed);
        const planes = count + 2;
        const masks = blobPlanes(rand, planes, input.width, input.height);
        // Records use planes in reverse order: the kernel must read plane sourceIndex, not n.
        const records: RecordInit[] = Array.from({ length: count }, (_, n) => ({ box: [0, 0, 1, 1], sourceIndex: planes - 1 - n }));
        const c: BitsCase = { mode: 'pasted', input, records, masks, transform: letterbox(input.width, input.height, image.width, image.height), image, mask };
        return checkBits(await runBits(device, c), c);
      },
    ]);
  pasted(
    'pasted: letterbox 64x64 ← 100x60 image, mask = image, 3 instances',
    21,
    { width: 64, height: 64 },
    { width: 100, height: 60 },
    { width: 100, height: 60 },
    3,
  );
  pasted(
    'pasted: portrait 48x80 ← 33x97 image, mask = image, 2 instances',
    22,
    { width: 48, height: 80 },
    { width: 33, height: 97 },
    { width: 33, height: 97 },
    2,
  );
  pasted('pasted: capped mask 70x35 of a 140x70 image', 23, { width: 64, height: 64 }, { width: 140, height: 70 }, { width: 70, height: 35 }, 2);

  const roi = (
    name: string,
    seed: number,
    input: { width: number; height: number },
    image: { width: number; height: number },
    mask: { width: number; height: number },
    count: number,
  ) =>
    cases.push([
      name,
      async () => {
        const rand = rng(seed);
        const planes = count + 1;
        const masks = new Float32Array(planes * ROI_MASK_SIDE * ROI_MASK_SIDE).map(() => rand());
        const transform = letterbox(input.width, input.height, image.width, image.height);
        const geometry = { transform, image, mask };
        const c: BitsCase = { mode: 'roi', input, records: roiRecords(rand, count, planes, geometry), masks, ...geometry };
        return checkBits(await runBits(device, c), c);
      },
    ]);
  roi(
    'roi: 28x28 random, stretch-free square 64 ← 64, border and tiny boxes, 6 instances',
    31,
    { width: 64, height: 64 },
    { width: 64, height: 64 },
    { width: 64, height: 64 },
    6,
  );
  roi(
    'roi: letterbox 96x96 ← 150x90 image, mask = image, 5 instances',
    32,
    { width: 96, height: 96 },
    { width: 150, height: 90 },
    { width: 150, height: 90 },
    5,
  );
  roi('roi: capped mask 60x40 of a 120x80 image, 4 instances', 33, { width: 64, height: 64 }, { width: 120, height: 80 }, { width: 60, height: 40 }, 4);
  cases.push([
    'no records: nothing written',
    async () => {
      const c: BitsCase = {
        mode: 'roi',
        input: { width: 32, height: 32 },
        records: [],
        masks: new Float32Array(784),
        transform: letterbox(32, 32, 32, 32),
        image: { width: 32, height: 32 },
        mask: { width: 32, height: 32 },
        capacity: 2,
      };
      const kernel = sharedKernel(device, 'pastedMaskBits', createPastedMaskBits);
      const records = uploadStorage(device, 'test.records', new Uint8Array(packRecords([], 2)));
      const masks = uploadStorage(device, 'test.masks', c.masks);
      const maskBits = createStorageBuffer(device, 'test.maskBits', maskBitsBytes(c.mask, 2));
      const encoder = device.createCommandEncoder({ label: 'test.pastedMaskBits.empty' });
      kernel.run(
        encoder,
        { records, masks, maskBits },
        { mode: 'roi', input: c.input, transform: c.transform, image: c.image, mask: c.mask, maxDetections: 2 },
      );
      device.queue.submit([encoder.finish()]);
      const bits = new Uint32Array(await readBuffer(device, maskBits));
      for (const b of [records, masks, maskBits]) b.destroy();
      return { pass: bits.every((v) => v === 0), detail: `${bits.length} words untouched` };
    },
  ]);
  return runCases('pastedMaskBits', device, cases);
}
