/**
 * The accuracy the app shows for bundled models (models/<family>/accuracy.json, written by
 * `npm run eval -- --record`) must belong to the ONNX files bundled now: a model re-exported
 * without a new record fails here, with the command that records it. The app finds a record
 * by the manifest's sha256 (and the heads' for a two-stage model), so every bundled manifest
 * must carry the digests of the files it names.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelSha256 } from '../../scripts/eval';
import type { ModelManifest } from '../types';
import type { TwoStageIntegrity } from './manifestSchema';
import { addModel, getModel, isBundled, isModelManifest, listModels, recordedAccuracy, type RecordedAccuracy } from './registry';

const MODELS = join(__dirname, '..', '..', 'models');

function manifestsBesideRecords(): { dir: string; manifestPath: string; manifest: ModelManifest; entry: RecordedAccuracy }[] {
  const out = [];
  for (const family of readdirSync(MODELS)) {
    const dir = join(MODELS, family);
    let records: Record<string, RecordedAccuracy>;
    try {
      records = JSON.parse(readFileSync(join(dir, 'accuracy.json'), 'utf8')) as Record<string, RecordedAccuracy>;
    } catch {
      continue; // no accuracy.json in this folder
    }
    for (const [id, entry] of Object.entries(records)) {
      const manifestPath = join(dir, `${id}.json`);
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as unknown;
      if (!isModelManifest(manifest)) throw new Error(`${manifestPath} is not a model manifest`);
      out.push({ dir, manifestPath, manifest, entry });
    }
  }
  return out;
}

describe('recorded accuracy of the bundled models', () => {
  const all = manifestsBesideRecords();

  it('exists for the YOLACT, YOLO-seg and Mask R-CNN models', () => {
    const ids = all.map((r) => r.manifest.id);
    for (const id of ['yolact-550', 'yolact-384', 'yoloseg-416', 'maskrcnn-512', 'maskrcnn-512-roipool']) expect(ids).toContain(id);
  });

  it.each(all.map((r) => [r.manifest.id, r] as const))('%s: the record is of the ONNX bytes bundled now', (_id, r) => {
    const { sha256 } = modelSha256(r.manifest, r.manifestPath);
    expect(sha256, `stale record: npm run eval -- --model ${r.manifestPath} --limit ${r.entry.images} --record`).toBe(r.entry.onnxSha256);
    expect(r.entry.maskAP).toBeGreaterThanOrEqual(0);
    expect(r.entry.maskAP50).toBeGreaterThanOrEqual(r.entry.maskAP);
  });

  it.each(all.map((r) => [r.manifest.id, r] as const))('%s: the manifest carries the sha256 of each file it names', (_id, r) => {
    const { parts } = modelSha256(r.manifest, r.manifestPath);
    const fix = `the digests of ${r.manifestPath} are stale: sha256sum the ONNX files it names`;
    expect(r.manifest.sha256, fix).toBe(parts[r.manifest.url]);
    if (r.manifest.twoStage) {
      const t = r.manifest.twoStage as typeof r.manifest.twoStage & TwoStageIntegrity;
      expect(t.boxHeadSha256, fix).toBe(parts[t.boxHeadUrl]);
      expect(t.maskHeadSha256, fix).toBe(parts[t.maskHeadUrl]);
    }
    if (r.manifest.centerMask) expect(r.manifest.centerMask.maskHeadSha256, fix).toBe(parts[r.manifest.centerMask.maskHeadUrl]);
    const scoring = r.manifest.blendMask?.scoringHeadUrl;
    if (scoring) expect(r.manifest.blendMask!.scoringHeadSha256, fix).toBe(parts[scoring]);
  });

  it('reaches the app: recordedAccuracy(manifest) gives each bundled model its own figures', () => {
    const bundled = new Set(listModels().map((m) => m.id));
    for (const r of all) {
      expect(bundled.has(r.manifest.id), `${r.manifestPath} is not in the registry`).toBe(true);
      expect(recordedAccuracy(getModel(r.manifest.id)!)).toEqual(r.entry);
    }
  });

  it('keys records by the ONNX bytes, never by id', () => {
    const byId = (id: string) => all.find((r) => r.manifest.id === id)!;
    const y550 = byId('yolact-550');
    // Another model under the bundled id: no figures.
    expect(recordedAccuracy({ ...y550.manifest, sha256: 'f'.repeat(64) })).toBeUndefined();
    const { sha256: _sha, ...unhashed } = y550.manifest;
    expect(recordedAccuracy(unhashed)).toBeUndefined();
    // The same bytes under another id (a remote copy): the same figures.
    expect(recordedAccuracy({ ...y550.manifest, id: 'mirror', url: 'https://x/y.onnx' })).toEqual(y550.entry);
    // Two-stage: the backbone is shared, the heads tell RoIAlign from RoIPool.
    const align = byId('maskrcnn-512');
    const pool = byId('maskrcnn-512-roipool');
    expect(align.manifest.sha256).toBe(pool.manifest.sha256);
    expect(recordedAccuracy(align.manifest)).toEqual(align.entry);
    expect(recordedAccuracy(pool.manifest)).toEqual(pool.entry);
    const mixed = { ...pool.manifest, twoStage: { ...pool.manifest.twoStage!, maskHeadSha256: (align.manifest.twoStage as TwoStageIntegrity).maskHeadSha256 } };
    expect(recordedAccuracy(mixed)).toBeUndefined();
  });

  it('refuses to let a run-time model take a bundled id', () => {
    const y550 = getModel('yolact-550')!;
    expect(isBundled('yolact-550')).toBe(true);
    expect(isBundled('user-tiny')).toBe(false);
    expect(() => addModel({ ...y550, name: 'impostor', sha256: 'f'.repeat(64) })).toThrow('the id “yolact-550” belongs to a bundled model');
    expect(getModel('yolact-550')!.name).toBe(y550.name);
  });
});
