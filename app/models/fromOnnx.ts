/**
 * A dropped or opened ONNX file → a ModelManifest, when its outputs match a family the app
 * knows. Today: YOLACT exports with outputs named loc, conf, mask, priors, proto (the
 * public layout, MODELS.md §1) and a fixed-size `[1, 3, H, W]` input. Normalisation and
 * class names follow the public YOLACT (COCO, 80 classes; a bundled YOLACT manifest lends
 * its class list). Anything else is refused with a message naming what was found.
 */
import type { ModelManifest } from '../types';
import { configureOrt, ort } from '../pipeline/ort';
import { addModel, listModels } from './registry';
import { serializedCreate } from '../pipeline/sessions';

const YOLACT_OUTPUTS = ['loc', 'conf', 'mask', 'priors', 'proto'];

export class UnknownModelError extends Error {}

export async function manifestFromOnnx(file: File): Promise<ModelManifest> {
  configureOrt();
  const bytes = new Uint8Array(await file.arrayBuffer());
  let session: ort.InferenceSession;
  try {
    session = await serializedCreate(() => ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] }));
  } catch (err) {
    throw new UnknownModelError(`“${file.name}” is not a valid ONNX model (${(err as Error).message})`);
  }
  try {
    const outputs = session.outputNames;
    const missing = YOLACT_OUTPUTS.filter((n) => !outputs.includes(n));
    if (missing.length > 0) {
      throw new UnknownModelError(
        `the outputs of “${file.name}” (${outputs.join(', ')}) match no supported family (YOLACT needs ${YOLACT_OUTPUTS.join(', ')})`,
      );
    }
    const input = session.inputMetadata[0];
    const shape = input && input.isTensor ? input.shape : [];
    const [, channels, height, width] = shape;
    if (shape.length !== 4 || channels !== 3 || typeof height !== 'number' || typeof width !== 'number') {
      throw new UnknownModelError(`“${file.name}” needs a fixed [1, 3, H, W] input; it has [${shape.join(', ')}]`);
    }
    const template = listModels().find((m) => m.family === 'yolact');
    const classes = template?.classes ?? Array.from({ length: 80 }, (_, i) => `class ${i + 1}`);
    const id = `${file.name.replace(/\.onnx$/i, '').replace(/[^\w.-]+/g, '-')}-dropped`;
    const manifest: ModelManifest = {
      id,
      name: `${file.name} (dropped)`,
      family: 'yolact',
      url: URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' })),
      bytes: bytes.byteLength,
      input: {
        name: session.inputNames[0]!,
        width,
        height,
        resize: 'stretch',
        channels: 'rgb',
        scale: 1,
        mean: [123.68, 116.78, 103.94],
        std: [58.4, 57.12, 57.38],
      },
      outputs: Object.fromEntries(YOLACT_OUTPUTS.map((n) => [n, n])),
      classes,
      ...(template?.categoryIds ? { categoryIds: template.categoryIds } : {}),
      defaults: { confThreshold: 0.05, scoreThreshold: 0.15, topK: 200, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100 },
      notes: `Dropped file, ${(bytes.byteLength / 1e6).toFixed(1)} MB; YOLACT layout assumed from its output names.`,
    };
    addModel(manifest);
    return manifest;
  } finally {
    void session.release();
  }
}
