/**
 * Cross-check against an independent evaluator: test/eval/fixtures/crosscheck.json holds a small
 * emoji-COCO val subset (some GTs marked crowd), perturbed and false-positive results
 * (shifted and dilated masks, wrong classes, tied scores, one image with > 100
 * detections), and the 12 COCO numbers per iouType computed by a separate numpy
 * implementation (full-frame masks, OpenCV erosion for boundaries, its own RLE codec):
 * test/eval/fixtures/crosscheck.py, which the last test runs to show that it still reproduces them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateCoco } from './cocoEval';
import { loadCocoGroundTruth, loadCocoResults } from './dataset';

const FIXTURES = join(__dirname, '..', '..', 'test', 'eval', 'fixtures');
const fixture = JSON.parse(readFileSync(join(FIXTURES, 'crosscheck.json'), 'utf8')) as {
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

/** Debian's Python with numpy and OpenCV (python3-numpy, python3-opencv: scripts/test.sh). */
const PYTHON = '/usr/bin/python3';

describe('the independent evaluator (test/eval/fixtures/crosscheck.py)', () => {
  it("recomputes the fixture's expected numbers from its gt and results", () => {
    if (!existsSync(PYTHON)) {
      throw new Error(`${PYTHON} is missing: install python3, python3-numpy and python3-opencv (scripts/test.sh does)`);
    }
    const probe = spawnSync(PYTHON, ['-c', 'import numpy, cv2'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      throw new Error(`${PYTHON} lacks numpy or cv2 (apt-get install python3-numpy python3-opencv): ${probe.stderr.trim()}`);
    }
    const script = join(FIXTURES, 'crosscheck.py');
    let out: string;
    try {
      out = execFileSync(PYTHON, [script, '--check'], { encoding: 'utf8', timeout: 100_000 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`crosscheck.py --check failed:\n${e.stdout ?? ''}${e.stderr ?? String(err)}`, { cause: err });
    }
    console.log(out.trim());
    // Its own verdict is the exit status; the summary line shows it compared all 36 numbers.
    expect(out).toMatch(/max diff over all 36 numbers: \S+ \(tolerance 1e-12\)/);
  });
});
