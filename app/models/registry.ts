/**
 * The manifest registry: every `models/**\/*.json` that is a ModelManifest (bundled with
 * the app), plus manifests added at run time (`?manifest=`, dropped ONNX files saved in
 * IndexedDB: models/fromOnnx.ts). Ids are unique; bundled ones cannot be replaced.
 */
import { revokeModelBlobUrl } from './blobUrls';
import type { ModelManifest, RecordedAccuracy } from '../types';
import { validateManifest, type TwoStageIntegrity } from './manifestSchema';

export type { RecordedAccuracy };

const bundledModules = import.meta.glob<{ default: unknown }>(['../../models/**/*.json', '!../../models/data/**', '!../../models/**/runs/**'], { eager: true });

/** A ModelManifest that passes the full schema (manifestSchema.ts): every field the pipeline reads, within bounds. */
export function isModelManifest(value: unknown): value is ModelManifest {
  return validateManifest(value).ok;
}

/** JSON under models/ that means to be a manifest (accuracy.json, test fixtures and the remote catalogue do not). */
function looksLikeManifest(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'id' in value && 'family' in value && 'url' in value;
}

function loadBundled(): ModelManifest[] {
  const found: ModelManifest[] = [];
  for (const [file, mod] of Object.entries(bundledModules)) {
    const value = mod.default;
    if (!looksLikeManifest(value)) continue;
    const check = validateManifest(value);
    // A broken bundled manifest is left out (the others still run); manifestSchema.test.ts fails on it.
    if (!check.ok) console.error(`${file} is left out: ${check.errors.join('; ')}`);
    else if (!found.some((m) => m.id === check.manifest.id)) found.push(check.manifest);
  }
  // Bigger input first: the reference model of each family leads the picker.
  return found.sort((a, b) => b.input.width * b.input.height - a.input.width * a.input.height || a.id.localeCompare(b.id));
}

const manifests = new Map<string, ModelManifest>(loadBundled().map((m) => [m.id, m]));
const bundledIds = new Set(manifests.keys());

/** Whether `id` is a model shipped with the app (those cannot be replaced or removed). */
export function isBundled(id: string): boolean {
  return bundledIds.has(id);
}

/** Every `accuracy.json` entry of the bundled models (app/models/recordedAccuracy.test.ts keeps them in step with the ONNX files). */
const recorded: RecordedAccuracy[] = [];
for (const [file, mod] of Object.entries(bundledModules)) {
  if (!file.endsWith('/accuracy.json') || typeof mod.default !== 'object' || mod.default === null) continue;
  recorded.push(...Object.values(mod.default as Record<string, RecordedAccuracy>));
}

/**
 * The recorded accuracy of the ONNX bytes a manifest names, keyed by their sha256 (never by
 * id: a manifest that borrows a bundled id gets nothing, one that names the same bytes gets
 * their figures). One file: `sha256` = the record's `onnxSha256`. Two-stage: the backbone's
 * `sha256` and the heads' `twoStage.boxHeadSha256` / `maskHeadSha256` = the record's parts,
 * in that order; CenterMask: the detector's and `centerMask.maskHeadSha256`; B2Inst: the detector's and `blendMask.scoringHeadSha256`. The digests are checked against the bytes when the model loads.
 */
export function recordedAccuracy(manifest: ModelManifest): RecordedAccuracy | undefined {
  const sha = manifest.sha256?.toLowerCase();
  if (!sha) return undefined;
  const heads = manifest.twoStage as TwoStageIntegrity | undefined;
  const parts = heads
    ? [sha, heads.boxHeadSha256?.toLowerCase(), heads.maskHeadSha256?.toLowerCase()]
    : manifest.centerMask
      ? [sha, manifest.centerMask.maskHeadSha256?.toLowerCase()]
      : manifest.blendMask?.scoringHeadUrl
        ? [sha, manifest.blendMask.scoringHeadSha256?.toLowerCase()]
        : null;
  if (!parts) return recorded.find((r) => !r.partsSha256 && r.onnxSha256 === sha);
  return recorded.find((r) => {
    const got = Object.values(r.partsSha256 ?? {});
    return got.length === parts.length && got.every((d, i) => d === parts[i]);
  });
}

export function listModels(): ModelManifest[] {
  return [...manifests.values()];
}

export function getModel(id: string): ModelManifest | undefined {
  return manifests.get(id);
}

/** Adds a run-time model; a bundled model's id is refused (it would take its place and its record). */
export function addModel(manifest: ModelManifest): void {
  if (bundledIds.has(manifest.id)) throw new Error(`the id “${manifest.id}” belongs to a bundled model`);
  const old = manifests.get(manifest.id);
  // A replaced unsaved model's bytes behind a blob URL are no longer reachable.
  if (old && old.url !== manifest.url) revokeModelBlobUrl(old.url);
  manifests.set(manifest.id, manifest);
}

/** Removes a run-time model (a deleted saved model); bundled ones stay. */
export function removeModel(id: string): void {
  const m = manifests.get(id);
  if (m && !bundledIds.has(id)) {
    manifests.delete(id);
    revokeModelBlobUrl(m.url); // only URLs app/models/blobUrls.ts made; others are left alone
  }
}

/** The model a new pane gets: `preferred` when known, else the first bundled one. */
export function defaultModelId(preferred?: string | null): string | undefined {
  if (preferred && manifests.has(preferred)) return preferred;
  return manifests.keys().next().value;
}

/** Absolute URL of a manifest's ONNX file (manifest urls are relative to the app root). */
export function modelUrl(manifest: ModelManifest): string {
  if (/^[a-z]+:/i.test(manifest.url)) return manifest.url;
  return `${import.meta.env.BASE_URL}${manifest.url.replace(/^\//, '')}`;
}
