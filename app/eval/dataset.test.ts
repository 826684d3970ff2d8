import { describe, expect, it } from 'vitest';
import { evaluateCoco } from './cocoEval';
import { loadCocoGroundTruth, loadCocoResults } from './dataset';
import { rleArea } from './rle';

const gtJson = {
  images: [
    { id: 1, file_name: 'val/000001.jpg', width: 4, height: 3 },
    { id: 2, file_name: 'val/000002.jpg', width: 6, height: 5 },
  ],
  categories: [
    { id: 18, name: 'dog' },
    { id: 1, name: 'person' },
  ],
  annotations: [
    // compressed RLE, no bbox/area given (taken from the mask): column-major counts
    // [3, 2, 1, 1, 5] → pixels (1,0), (1,1), (2,0).
    { id: 10, image_id: 1, category_id: 18, iscrowd: 0, segmentation: { size: [3, 4], counts: '321O4' } },
    // polygon (rectangle with corners (1,1), (4,3)) → pixels x 1..3, y 1..2
    { id: 11, image_id: 2, category_id: 1, iscrowd: 0, area: 6, bbox: [1, 1, 3, 2], segmentation: [[1, 1, 4, 1, 4, 3, 1, 3]] },
    // crowd, uncompressed counts
    { id: 12, image_id: 2, category_id: 1, iscrowd: 1, area: 4, bbox: [4, 3, 2, 2], segmentation: { size: [5, 6], counts: [23, 2, 3, 2] } },
  ],
};

describe('COCO ground-truth loading', () => {
  it('reads RLE strings, polygons, plain counts, crowd flags; fills bbox and area', () => {
    const ds = loadCocoGroundTruth(gtJson);
    expect(ds.images.map((i) => i.id)).toEqual([1, 2]);
    expect(ds.imageIdByFileName.get('val/000002.jpg')).toBe(2);
    const [a, b, c] = ds.gts;
    expect(a!.bbox).toEqual([1, 0, 2, 2]);
    expect(a!.area).toBe(3);
    expect(rleArea(b!.segmentation!)).toBe(6);
    expect(c!.iscrowd).toBe(true);
    expect(rleArea(c!.segmentation!)).toBe(4);
  });

  it('rejects malformed input with a readable message', () => {
    expect(() => loadCocoGroundTruth({ images: [] })).toThrow(/COCO instances/);
    expect(() => loadCocoGroundTruth({ ...gtJson, annotations: [{ id: 1, image_id: 9, category_id: 1, segmentation: [] }] })).toThrow(/unknown image 9/);
    expect(() =>
      loadCocoGroundTruth({ ...gtJson, annotations: [{ id: 1, image_id: 1, category_id: 1, segmentation: { size: [3, 4], counts: '3' } }] }),
    ).toThrow(/sum/);
  });

  it('GT used as its own results gives AP 1 (segm and bbox); unknown images skipped', () => {
    const ds = loadCocoGroundTruth(gtJson);
    const results = gtJson.annotations
      .filter((a) => !a.iscrowd)
      .map((a) => ({ image_id: a.image_id, category_id: a.category_id, score: 0.9, segmentation: a.segmentation }));
    // Polygons are not a results format; give the polygon one as RLE via the loader's output.
    const { dts, skipped } = loadCocoResults(
      [
        { ...results[0]! },
        { image_id: 2, category_id: 1, score: 0.8, segmentation: { size: [5, 6], counts: ds.gts[1]!.segmentation!.counts } },
        { image_id: 99, category_id: 1, score: 0.5, bbox: [0, 0, 1, 1] },
      ],
      ds,
    );
    expect(skipped).toBe(1);
    for (const iouType of ['segm', 'bbox'] as const) {
      const r = evaluateCoco({ images: ds.images, categories: ds.categories, gts: ds.gts, dts, iouType });
      expect(r.summary.ap).toBeCloseTo(1, 12);
      expect(r.categoryIds).toEqual([1, 18]); // sorted by id
    }
  });
});
