/**
 * A dropped ONNX file → a ModelManifest the pickers can run, saved for later visits.
 *
 * 1. The family and layout are recognised from the file's own interface by
 *    app/families/detect.ts (YOLACT, YOLO-seg raw head, YOLO-seg end-to-end, torchvision and
 *    ONNX-zoo Mask R-CNN exports, whose COCO class names need no dialog); a file that
 *    is none of them is refused with what was expected.
 * 2. The bytes are opened once with ORT (wasm) so a truncated or corrupt file is refused
 *    here, before any pane switches to it.
 * 3. The file and its manifest are stored in IndexedDB (app/models/userModels.ts; the
 *    manifest's url becomes `user-model:<id>`, which pipeline/sessions.ts resolves), so
 *    the model is in the pickers after a reload. Without IndexedDB (or when it fails) the
 *    model lives for this visit only, behind a blob URL.
 *
 * Class names the file does not carry are borrowed from a bundled model of the same family
 * and class count (YOLACT exports of our own training); otherwise `missing` still lists
 * 'classes' and the UI asks the user (ui/ClassNamesDialog.tsx).
 */
import type { ModelManifest } from '../types';
import { checkOnnxSize, manifestFromOnnx as detectFromOnnx, UnrecognisedModelError, type DetectedModel } from '../families/detect';
import { configureOrt, ort } from '../pipeline/ort';
import { serializedCreate } from '../pipeline/ortQueue';
import { listModels } from './registry';
import { modelBlobUrl } from './blobUrls';
import { indexedDbStore, UserModels } from './userModels';

export class UnknownModelError extends Error {}

/** What a refused file is told it should have been. */
const EXPECTED_MODELS =
  'Expected an ONNX export with one image input [1, 3, H, W] and the outputs of YOLACT (loc, conf, mask, priors, proto) or of YOLO-seg (output0 + protos, or end-to-end output0 [1, 300, 38]), or a Mask R-CNN export (input [3, H, W]; boxes, labels, scores, masks)';

/** The browser's store of dropped models (null without IndexedDB). */
export const userModels: UserModels | null = typeof indexedDB !== 'undefined' ? new UserModels(indexedDbStore()) : null;

export interface ImportedModel {
  manifest: ModelManifest;
  missing: DetectedModel['missing'];
  /** Stored in IndexedDB (listed after a reload). */
  saved: boolean;
  /** Why it was not saved, when it was not. */
  notSaved?: string;
}

export async function importOnnx(file: File): Promise<ImportedModel> {
  try {
    checkOnnxSize(file.size); // before reading: arrayBuffer() holds the whole file in memory
  } catch (err) {
    throw new UnknownModelError(`“${file.name}”: ${(err as Error).message}`);
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  let detected: DetectedModel;
  try {
    detected = detectFromOnnx(bytes, { fileName: file.name, url: '' });
  } catch (err) {
    const why = err instanceof UnrecognisedModelError ? err.message : `not a valid ONNX model (${(err as Error).message})`;
    throw new UnknownModelError(`“${file.name}”: ${why}${/expected/i.test(why) ? '' : `. ${EXPECTED_MODELS}`}`);
  }

  configureOrt();
  try {
    const session = await serializedCreate(() => ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] }));
    void session.release();
  } catch (err) {
    throw new UnknownModelError(`“${file.name}” is not a valid ONNX model (${(err as Error).message})`);
  }

  // Names borrowed from a bundled model of the same family and class count.
  let borrowed: string[] | undefined;
  if (detected.missing.includes('classes') && detected.manifest.classes.length > 0) {
    borrowed = listModels().find(
      (m) => m.family === detected.manifest.family && m.classes.length === detected.manifest.classes.length && !m.url.startsWith('user-model:'),
    )?.classes;
  }

  if (userModels) {
    try {
      const entry = await userModels.add(file.name, bytes, borrowed);
      return { manifest: entry.manifest, missing: entry.missing, saved: true };
    } catch (err) {
      const url = modelBlobUrl(bytes);
      return { ...unsaved(detected, url, borrowed), notSaved: (err as Error).message };
    }
  }
  const url = modelBlobUrl(bytes);
  return { ...unsaved(detected, url, borrowed), notSaved: 'this browser has no IndexedDB' };
}

function unsaved(detected: DetectedModel, url: string, borrowed: string[] | undefined): ImportedModel {
  const taken = new Set(listModels().map((m) => m.id));
  let id = detected.manifest.id;
  for (let n = 2; taken.has(id); n++) id = `${detected.manifest.id}-${n}`;
  return {
    manifest: { ...detected.manifest, id, url, ...(borrowed ? { classes: borrowed } : {}) },
    missing: borrowed ? detected.missing.filter((m) => m !== 'classes') : detected.missing,
    saved: false,
  };
}
