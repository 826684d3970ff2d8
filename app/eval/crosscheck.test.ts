/**
 * Cross-check against an independent evaluator: fixtures/crosscheck.json holds a small
 * emoji-COCO val subset (some GTs marked crowd), perturbed and false-positive results
 * (shifted and dilated masks, wrong classes, tied scores, one image with > 100
 * detections), and the 12 COCO numbers per iouType computed by a separate numpy
 * implementation (full-frame masks, OpenCV erosion for boundaries, its own RLE codec).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateCoco } from './cocoEval';
import { loadCocoGroundTruth, loadCocoResults } from './dataset';

const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'crosscheck.json'), 'utf8')) as {
  gt: unknown;
  results: unknown;
  expected: Record<'segm' | 'bbox' | 'boundary', number[]>;
};

describe('COCO evaluation vs an independent implementation', () => {
  const ds = loadCocoGroundTruth(fixture.gt);
  const { dts, skipped } = loadCocoResults(fixture.results, ds);
  for (const iouType of ['segm', 'bbox', 'boundary'] as const) {
    it(`${iouType}: the 12 numbers agree to 1e-12`, () => {
      expect(skipped).toBe(0);
      const r = evaluateCoco({ images: ds.images, categories: ds.categories, gts: ds.gts, dts, iouType });
      const expected = fixture.expected[iouType];
      expect(r.stats).toHaveLength(12);
      let maxDiff = 0;
      r.stats.forEach((s, j) => (maxDiff = Math.max(maxDiff, Math.abs(s - expected[j]!))));
      console.log(`${iouType}: max |ours − independent| over the 12 numbers = ${maxDiff.toExponential(2)}`);
      expect(maxDiff).toBeLessThan(1e-12);
    });
  }
});
