/**
 * `npm run eval -- --set path=value`: a manifest field replaced for one run, so the paper's
 * ablations (CenterMask's level assignment, mask-IoU rescoring) run on the same weights.
 * The parser and the guard against typos by hand; then the bundled CenterMask on one demo
 * sample with rescoring off: the same boxes as with it on (rescoring only re-ranks), other
 * scores — the plain detector scores, mostly above the rescored ones. Not each: the MaskIoU
 * head is a linear regressor (L2 on the IoU, no sigmoid, as in centermask2), so a predicted
 * IoU a little above 1 raises a score (1.009 on one sample detection of the step-4279 model).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyOverrides, parseOverride, runModelEvaluation } from '../../scripts/eval';
import type { ModelManifest } from '../../app/types';

const ROOT = join(__dirname, '..', '..');
const CENTERMASK = join(ROOT, 'models', 'centermask', 'centermask-lite-512.json');
const SAMPLES = join(ROOT, 'public', 'samples');

describe('eval --set', () => {
  it('parses JSON values, and bare words as strings', () => {
    expect(parseOverride('centerMask.rescore=false')).toEqual({ path: 'centerMask.rescore', value: false });
    expect(parseOverride('centerMask.nmsIou=0.5')).toEqual({ path: 'centerMask.nmsIou', value: 0.5 });
    expect(parseOverride('centerMask.roiLevels=scale')).toEqual({ path: 'centerMask.roiLevels', value: 'scale' });
    expect(() => parseOverride('rescore')).toThrow(/path=value/);
  });

  it('sets fields on a copy, keeping the type of those the manifest has', () => {
    const manifest = JSON.parse(readFileSync(CENTERMASK, 'utf8')) as ModelManifest;
    const changed = applyOverrides(manifest, [parseOverride('centerMask.roiLevels=scale'), parseOverride('centerMask.rescore=false')]);
    expect(changed.centerMask!.roiLevels).toBe('scale');
    expect(changed.centerMask!.rescore).toBe(false);
    expect(manifest.centerMask!.roiLevels).toBe('ratio');
    expect(manifest.centerMask!.rescore).toBeUndefined();
    expect(() => applyOverrides(manifest, [parseOverride('centerMask.roiLevels=2')])).toThrow(/expected a string/);
    expect(() => applyOverrides(manifest, [parseOverride('centerMask.nmsIou=high')])).toThrow(/expected a number/);
    expect(() => applyOverrides(manifest, [parseOverride('twoStage.pooler=pool')])).toThrow(/no object at "twoStage"/);
  });

  it('CenterMask with rescoring off: same boxes, the plain scores (≥ the rescored ones)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eval-set-'));
    const run = async (tag: string, overrides: string[]) => {
      const resultsOut = join(dir, `${tag}.json`);
      const report = await runModelEvaluation({
        manifestPath: CENTERMASK,
        dataDir: SAMPLES,
        split: 'val',
        annotations: join(SAMPLES, 'annotations.json'),
        imagesDir: SAMPLES,
        limit: 1,
        iouTypes: ['bbox'],
        overrides: overrides.map(parseOverride),
        out: join(dir, `report-${tag}.json`),
        resultsOut,
        log: () => {},
      });
      const results = JSON.parse(readFileSync(resultsOut, 'utf8')) as { bbox: number[]; score: number; category_id: number }[];
      return { report, results };
    };
    const on = await run('on', []);
    const off = await run('off', ['centerMask.rescore=false']);
    expect(off.report.overrides).toEqual(['centerMask.rescore=false']);
    expect(on.report.overrides).toBeUndefined();
    expect(on.results.length).toBeGreaterThan(0);
    const key = (r: { bbox: number[]; category_id: number }) => `${r.category_id}:${r.bbox.map((v) => v.toFixed(1)).join(',')}`;
    const plain = new Map(off.results.map((r) => [key(r), r.score]));
    let matched = 0;
    let lower = 0;
    for (const r of on.results) {
      const s = plain.get(key(r));
      if (s === undefined) continue;
      matched++;
      // score · predicted IoU: never far above the plain score (an IoU is at most 1; the regressor overshoots a little).
      expect(r.score).toBeLessThanOrEqual(s * 1.1);
      if (r.score < s - 1e-4) lower++;
    }
    expect(matched).toBeGreaterThan(0);
    expect(lower).toBeGreaterThan(matched / 2);
  }, 120_000);
});
