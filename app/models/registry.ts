/**
 * The manifest registry: every `models/**\/*.json` that is a ModelManifest (bundled with
 * the app), plus manifests added at run time (`?manifest=`, dropped ONNX files saved in
 * IndexedDB: models/fromOnnx.ts). Ids are unique.
 */
import type { ModelManifest, RecordedAccuracy } from '../types';

export type { RecordedAccuracy };

const bundledModules = import.meta.glob<{ default: unknown }>(
  ['../../models/**/*.json', '!../../models/data/**', '!../../models/**/runs/**'],
  { eager: true },
);

/** Structural check: enough of ModelManifest for the pipeline to run it. */
export function isModelManifest(value: unknown): value is ModelManifest {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<ModelManifest>;
  return (
    typeof m.id === 'string' &&
    typeof m.url === 'string' &&
    typeof m.family === 'string' &&
    typeof m.input === 'object' &&
    m.input !== null &&
    typeof m.input.width === 'number' &&
    typeof m.input.height === 'number' &&
    Array.isArray(m.classes) &&
    typeof m.outputs === 'object' &&
    typeof m.defaults === 'object'
  );
}

function loadBundled(): ModelManifest[] {
  const found: ModelManifest[] = [];
  for (const mod of Object.values(bundledModules)) {
    const value = mod.default;
    if (isModelManifest(value) && !found.some((m) => m.id === value.id)) found.push(value);
  }
  // Bigger input first: the reference model of each family leads the picker.
  return found.sort((a, b) => b.input.width * b.input.height - a.input.width * a.input.height || a.id.localeCompare(b.id));
}

const manifests = new Map<string, ModelManifest>(loadBundled().map((m) => [m.id, m]));
const bundledIds = new Set(manifests.keys());

/** Bundled models' `accuracy.json` entries by model id (app/models/recordedAccuracy.test.ts keeps them in step with the ONNX files). */
const recorded = new Map<string, RecordedAccuracy>();
for (const [file, mod] of Object.entries(bundledModules)) {
  if (!file.endsWith('/accuracy.json') || typeof mod.default !== 'object' || mod.default === null) continue;
  for (const [id, entry] of Object.entries(mod.default as Record<string, RecordedAccuracy>)) recorded.set(id, entry);
}

/** The recorded accuracy of a bundled model (none for dropped or remote ones). */
export function recordedAccuracy(id: string): RecordedAccuracy | undefined {
  return bundledIds.has(id) ? recorded.get(id) : undefined;
}

export function listModels(): ModelManifest[] {
  return [...manifests.values()];
}

export function getModel(id: string): ModelManifest | undefined {
  return manifests.get(id);
}

export function addModel(manifest: ModelManifest): void {
  manifests.set(manifest.id, manifest);
}

/** Removes a run-time model (a deleted saved model); bundled ones stay. */
export function removeModel(id: string): void {
  const m = manifests.get(id);
  if (m && !bundledIds.has(id)) manifests.delete(id);
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
