import { describe, expect, it } from 'vitest';
import type { Detection, FrameResult, InstanceMasks } from '../types';
import { categoryIdOf, cocoImagesFile, cocoResultsJson, encodeInstanceMaskAt, frameToCocoResults, resizeInstanceMasksNearest } from './cocoExport';
import { loadCocoGroundTruth, loadCocoResults } from './dataset';
import { decodeRle, encodeInstanceMask, fromCocoRle } from './rle';

/** Bit-pack row-major 0/1 masks `[N][h·w]`. */
function pack(masks: number[][], h: number, w: number): InstanceMasks {
  const wordsPerRow = Math.ceil(w / 32);
  const bits = new Uint32Array(masks.length * h * wordsPerRow);
  masks.forEach((m, n) => {
    m.forEach((v, p) => {
      if (!v) return;
      const y = Math.floor(p / w);
      const x = p % w;
      bits[(n * h + y) * wordsPerRow + (x >>> 5)]! |= 1 << (x & 31);
    });
  });
  return { width: w, height: h, wordsPerRow, bits };
}

function unpack(masks: InstanceMasks, n: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < masks.height; y++)
    for (let x = 0; x < masks.width; x++) out.push((masks.bits[(n * masks.height + y) * masks.wordsPerRow + (x >>> 5)]! >>> (x & 31)) & 1);
  return out;
}

function frame(imageWidth: number, imageHeight: number, maskWidth: number, maskHeight: number, detections: Detection[]): FrameResult {
  return { imageWidth, imageHeight, maskWidth, maskHeight, detections, timings: { source: 'cpu' }, bytesReadBack: 0, path: 'wasm' };
}

describe('nearest-neighbour mask resize', () => {
  it('2x2 → 4x4 duplicates each pixel into a 2x2 block', () => {
    const m = pack([[1, 0, 0, 1]], 2, 2);
    const r = resizeInstanceMasksNearest(m, 4, 4);
    expect(unpack(r, 0)).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
  });

  it('3 wide → 2 wide samples source columns 0 and 2 (pixel centres aligned)', () => {
    // dst x = 0 → ⌊0.5·3/2⌋ = 0; x = 1 → ⌊1.5·3/2⌋ = 2.
    const m = pack(
      [
        [1, 0, 0],
        [0, 1, 1],
      ],
      1,
      3,
    );
    const r = resizeInstanceMasksNearest(m, 2, 1);
    expect(unpack(r, 0)).toEqual([1, 0]);
    expect(unpack(r, 1)).toEqual([0, 1]);
  });
});

describe('COCO results export', () => {
  const manifest = { categoryIds: [1, 18, 64] };
  const dets: Detection[] = [
    { box: [1, 0, 3, 2], score: 0.9, classIndex: 1, maskArea: 3 },
    { box: [0.25, 1.5, 4, 3], score: 0.4, classIndex: 2, maskArea: 2 },
  ];
  // 3x4 image, masks at image resolution.
  const masks = pack(
    [
      [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0],
    ],
    3,
    4,
  );

  it('writes category ids, xywh boxes, scores and compressed RLE', () => {
    const out = frameToCocoResults(frame(4, 3, 4, 3, dets), masks, manifest, { fileName: 'a.jpg', imageId: 7 });
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ file_name: 'a.jpg', image_id: 7, category_id: 18, bbox: [1, 0, 2, 2], score: 0.9 });
    expect(out[1]).toMatchObject({ category_id: 64, bbox: [0.25, 1.5, 3.75, 1.5], score: 0.4 });
    // Mask 0 column-major (h = 3): col0 0 0 0 | col1 1 1 0 | col2 1 0 0 | col3 0 0 0
    // → counts [3, 2, 1, 1, 5] → '3' '2' '1' then 1−2 = −1 → 'O', 5−1 = 4 → '4'.
    expect(out[0]!.segmentation).toEqual({ size: [3, 4], counts: '321O4' });
    expect([...decodeRle(fromCocoRle(out[1]!.segmentation))]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0]);
  });

  it('defaults to index + 1 without categoryIds, and always writes the image_id', () => {
    expect(categoryIdOf({}, 0)).toBe(1);
    expect(categoryIdOf({}, 79)).toBe(80);
    const out = frameToCocoResults(frame(4, 3, 4, 3, dets), masks, {}, { fileName: 'b.png', imageId: 3 });
    expect(out[0]!.category_id).toBe(2);
    expect(out.map((e) => e.image_id)).toEqual([3, 3]);
  });

  it('writes boxes and masks in the original pixels when the app ran on a downscaled copy', () => {
    // A 4x3 working frame of an 8x6 original: everything doubles.
    const out = frameToCocoResults(frame(4, 3, 4, 3, dets), masks, manifest, { fileName: 'big.jpg', imageId: 1, original: { width: 8, height: 6 } });
    expect(out[0]!.bbox).toEqual([2, 0, 4, 4]);
    expect(out[1]!.bbox).toEqual([0.5, 3, 7.5, 3]);
    expect(out[0]!.segmentation.size).toEqual([6, 8]);
    const big = decodeRle(fromCocoRle(out[0]!.segmentation));
    // Mask 0 has (1, 0), (2, 0), (1, 1): each becomes a 2x2 block.
    const expected = new Uint8Array(48);
    for (const [x, y] of [
      [1, 0],
      [2, 0],
      [1, 1],
    ] as const) {
      for (let k = 0; k < 4; k++) expected[(2 * y + (k >> 1)) * 8 + 2 * x + (k & 1)] = 1;
    }
    expect([...big]).toEqual([...expected]);
  });

  it('encodes a resized mask as the resize then the encoding would (random masks, up and down)', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let trial = 0; trial < 40; trial++) {
      const w = 1 + Math.floor(rand() * 70);
      const h = 1 + Math.floor(rand() * 40);
      // A blob somewhere (or nothing), so that the extent logic is exercised.
      const density = trial % 5 === 0 ? 0 : rand();
      const planes = [0, 1].map(() => Array.from({ length: w * h }, () => (rand() < density ? 1 : 0)));
      const m = pack(planes, h, w);
      const W = 1 + Math.floor(rand() * 100);
      const H = 1 + Math.floor(rand() * 60);
      const reference = resizeInstanceMasksNearest(m, W, H);
      for (const n of [0, 1]) expect(encodeInstanceMaskAt(m, n, W, H), `trial ${trial}: ${w}x${h} → ${W}x${H}`).toEqual(encodeInstanceMask(reference, n));
    }
  });

  it('resizes masks held at another resolution to the image size', () => {
    // 2x2 masks for an 4x4 image.
    const small = pack([[1, 0, 0, 0]], 2, 2);
    const out = frameToCocoResults(frame(4, 4, 2, 2, [dets[0]!]), small, manifest, { fileName: 'c.jpg', imageId: 1 });
    expect(out[0]!.segmentation.size).toEqual([4, 4]);
    expect([...decodeRle(fromCocoRle(out[0]!.segmentation))]).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('reads back with the images file beside it: every entry finds its image by id', () => {
    const image = { fileName: 'webcam-frame-12.png', imageId: 12, width: 4, height: 3 };
    const entries = frameToCocoResults(frame(4, 3, 4, 3, dets), masks, manifest, image);
    const names = { categoryIds: [1, 18, 64], classes: ['person', 'dog', 'mouse'] };
    const imagesFile = JSON.parse(JSON.stringify(cocoImagesFile(image, names))) as unknown;
    expect(imagesFile).toEqual({
      images: [{ id: 12, file_name: 'webcam-frame-12.png', width: 4, height: 3 }],
      categories: [
        { id: 1, name: 'person' },
        { id: 18, name: 'dog' },
        { id: 64, name: 'mouse' },
      ],
      annotations: [],
    });
    // Found by image_id: a file name the images file does not know changes nothing.
    const renamed = entries.map((e) => ({ ...e, file_name: 'elsewhere.png' }));
    const { dts, skipped } = loadCocoResults(JSON.parse(cocoResultsJson(renamed)), loadCocoGroundTruth(imagesFile));
    expect(skipped).toBe(0);
    expect(dts.map((d) => [d.imageId, d.categoryId])).toEqual([
      [12, 18],
      [12, 64],
    ]);
    // A downscaled image is listed at its original size, the size of its masks.
    const big = cocoImagesFile({ ...image, original: { width: 8, height: 6 } }, names);
    expect(big.images[0]).toMatchObject({ width: 8, height: 6 });
    const bigEntries = frameToCocoResults(frame(4, 3, 4, 3, dets), masks, manifest, { ...image, original: { width: 8, height: 6 } });
    expect(loadCocoResults(JSON.parse(cocoResultsJson(bigEntries)), loadCocoGroundTruth(big)).dts).toHaveLength(2);
  });

  it('round-trips through JSON and the results loader; an empty frame gives []', () => {
    const entries = frameToCocoResults(frame(4, 3, 4, 3, dets), masks, manifest, { fileName: 'a.jpg', imageId: 5 });
    const json = JSON.parse(cocoResultsJson(entries)) as unknown;
    const dataset = loadCocoGroundTruth({
      images: [{ id: 5, file_name: 'a.jpg', width: 4, height: 3 }],
      annotations: [],
      categories: [{ id: 18, name: 'dog' }],
    });
    const { dts, skipped } = loadCocoResults(json, dataset);
    expect(skipped).toBe(0);
    expect(dts).toHaveLength(2);
    expect(dts[0]!.imageId).toBe(5);
    expect(dts[0]!.segmentation!.counts).toEqual([3, 2, 1, 1, 5]);
    expect(JSON.parse(cocoResultsJson([]))).toEqual([]);
  });
});
