/**
 * A dropped ONNX file → a ModelManifest the pickers can run. The family and layout are
 * recognised from the file's own interface by app/families/detect.ts (YOLACT, YOLO-seg,
 * YOLO-seg end-to-end); the bytes are then opened once with ORT (wasm) so that a truncated
 * or corrupt file is refused here, before any pane switches to it. Class names the file
 * does not carry are borrowed from a bundled model of the same family and class count.
 */
import type { ModelManifest } from '../types';
import { manifestFromOnnx as detectFromOnnx, UnrecognisedModelError } from '../families/detect';
import { configureOrt, ort } from '../pipeline/ort';
import { serializedCreate } from '../pipeline/sessions';
import { addModel, listModels } from './registry';

export class UnknownModelError extends Error {}

export async function manifestFromOnnx(file: File): Promise<ModelManifest> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let manifest: ModelManifest;
  let missing: string[];
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  try {
    const detected = detectFromOnnx(bytes, { fileName: file.name, url });
    manifest = detected.manifest;
    missing = detected.missing;
  } catch (err) {
    URL.revokeObjectURL(url);
    if (err instanceof UnrecognisedModelError) throw new UnknownModelError(`“${file.name}”: ${err.message}`);
    throw new UnknownModelError(`“${file.name}” is not a valid ONNX model (${(err as Error).message})`);
  }

  configureOrt();
  try {
    const session = await serializedCreate(() => ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] }));
    void session.release();
  } catch (err) {
    URL.revokeObjectURL(url);
    throw new UnknownModelError(`“${file.name}” is not a valid ONNX model (${(err as Error).message})`);
  }

  if (missing.includes('classes')) {
    const template = listModels().find((m) => m.family === manifest.family && m.classes.length === manifest.classes.length);
    if (template) {
      manifest = { ...manifest, classes: template.classes, ...(template.categoryIds ? { categoryIds: template.categoryIds } : {}) };
    }
  }
  manifest = { ...manifest, id: `${manifest.id}${listModels().some((m) => m.id === manifest.id) ? '-dropped' : ''}` };
  addModel(manifest);
  return manifest;
}
