/**
 * The accuracy the app shows for bundled models (models/<family>/accuracy.json, written by
 * `npm run eval -- --record`) must belong to the ONNX files bundled now: a model re-exported
 * without a new record fails here, with the command that records it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelSha256 } from '../../scripts/eval';
import type { ModelManifest } from '../types';
import { isModelManifest, listModels, recordedAccuracy, type RecordedAccuracy } from './registry';

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

  it('reaches the app: recordedAccuracy() gives the same figures for bundled ids, nothing for others', () => {
    const bundled = new Set(listModels().map((m) => m.id));
    for (const r of all) {
      if (!bundled.has(r.manifest.id)) continue;
      expect(recordedAccuracy(r.manifest.id)?.maskAP).toBe(r.entry.maskAP);
    }
    expect(recordedAccuracy('no-such-model')).toBeUndefined();
  });
});
