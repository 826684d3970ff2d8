/**
 * Family conformance: a family's GPU post-processor against its CPU reference chain on
 * the same raw outputs. Runs under Vitest + Dawn (app/families/yolact/gpu.test.ts) and in
 * the browser page kernel-tests.html. No test-framework imports.
 *
 * Per instance the two must agree on the class, the score (1e-6), the box (IoU ≥ 0.99) and
 * the mask (IoU ≥ 0.98); proto-space masks are compared as floats (max abs error reported).
 */
import type { InstanceMasks, ModelManifest, PostprocessSettings } from '../../app/types';
import { uploadStorage } from '../../app/gpu/buffers';
import { runCases, type CaseResult } from '../kernels/conformance/common';
import { resizeGeometry } from '../../app/reference/preprocess';
import { maskCoefficientsReference, maskSizeFor, yolactMaskSpec } from '../../app/reference/maskAssembly';
import { composeOverlayReference, hiddenClassMask, defaultClassColours } from '../../app/reference/composeOverlay';
import { postprocessYolactReference, type RawOutput, type YolactReferenceResult } from '../../app/families/yolact/reference';
import { createGpuPostprocessor, type GpuReadResult, type YolactGpuPostprocessor } from '../../app/families/yolact/gpu';
import { handYolactOutputs, syntheticManifest, syntheticYolactOutputs } from '../../app/families/yolact/synthetic';
import { yolactLayoutFromDims } from '../../app/families/yolact/manifest';

export const MIN_BOX_IOU = 0.99;
export const MIN_MASK_IOU = 0.98;

export interface ParityFigures {
  instances: number;
  minBoxIou: number;
  minMaskIou: number;
  maxScoreError: number;
  maxProtoMaskError: number;
  problems: string[];
}

function boxIou(a: readonly number[], b: readonly number[]): number {
  const iw = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const ih = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = iw * ih;
  const union = (a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter;
  return union <= 0 ? (a.every((v, i) => v === b[i]) ? 1 : 0) : inter / union;
}

function popcount(v: number): number {
  let c = 0;
  for (; v; v &= v - 1) c++;
  return c;
}

/** IoU of instance n of two InstanceMasks of the same size (1 when both are empty). */
export function maskIou(a: InstanceMasks, b: InstanceMasks, n: number): number {
  const plane = a.height * a.wordsPerRow;
  let inter = 0;
  let union = 0;
  for (let i = n * plane; i < (n + 1) * plane; i++) {
    const x = a.bits[i]! >>> 0;
    const y = b.bits[i]! >>> 0;
    inter += popcount((x & y) >>> 0);
    union += popcount((x | y) >>> 0);
  }
  return union === 0 ? 1 : inter / union;
}

/** Compares a GPU result with the reference result of the same outputs. */
export function compareWithReference(
  gpu: GpuReadResult,
  gpuMasks: InstanceMasks,
  gpuProtoMasks: Float32Array,
  ref: YolactReferenceResult,
  refProtoMasks: Float32Array,
): ParityFigures {
  const problems: string[] = [];
  const n = Math.min(gpu.detections.length, ref.detections.length);
  if (gpu.detections.length !== ref.detections.length) {
    problems.push(`${gpu.detections.length} GPU detections vs ${ref.detections.length} reference`);
  }
  if (gpuMasks.width !== ref.masks.width || gpuMasks.height !== ref.masks.height) {
    problems.push(`mask size ${gpuMasks.width}x${gpuMasks.height} vs ${ref.masks.width}x${ref.masks.height}`);
  }
  let minBoxIou = 1;
  let minMaskIou = 1;
  let maxScoreError = 0;
  for (let i = 0; i < n; i++) {
    const g = gpu.detections[i]!;
    const r = ref.detections[i]!;
    if (g.classIndex !== r.classIndex) problems.push(`#${i}: class ${g.classIndex} vs ${r.classIndex}`);
    if (gpu.records[i]?.sourceIndex !== ref.records[i]?.sourceIndex) {
      problems.push(`#${i}: prior ${gpu.records[i]?.sourceIndex} vs ${ref.records[i]?.sourceIndex}`);
    }
    maxScoreError = Math.max(maxScoreError, Math.abs(g.score - r.score));
    const bi = boxIou(g.box, r.box);
    minBoxIou = Math.min(minBoxIou, bi);
    if (bi < MIN_BOX_IOU) problems.push(`#${i}: box IoU ${bi.toFixed(4)}`);
    if (gpuMasks.width === ref.masks.width && gpuMasks.height === ref.masks.height) {
      const mi = maskIou(gpuMasks, ref.masks, i);
      minMaskIou = Math.min(minMaskIou, mi);
      if (mi < MIN_MASK_IOU) problems.push(`#${i}: mask IoU ${mi.toFixed(4)}`);
    }
    if (g.maskArea !== r.maskArea && Math.abs(g.maskArea - r.maskArea) > 0.02 * Math.max(1, r.maskArea)) {
      problems.push(`#${i}: mask area ${g.maskArea} vs ${r.maskArea}`);
    }
  }
  if (maxScoreError > 1e-6) problems.push(`score error ${maxScoreError}`);
  let maxProtoMaskError = 0;
  const m = Math.min(gpuProtoMasks.length, refProtoMasks.length);
  for (let i = 0; i < m; i++) maxProtoMaskError = Math.max(maxProtoMaskError, Math.abs(gpuProtoMasks[i]! - refProtoMasks[i]!));
  if (maxProtoMaskError > 1e-4) problems.push(`proto-space mask error ${maxProtoMaskError}`);
  return { instances: n, minBoxIou, minMaskIou, maxScoreError, maxProtoMaskError, problems };
}

/** Uploads CPU outputs into labelled storage buffers (the 'wasm+gpu' path's upload). */
export function uploadOutputs(device: GPUDevice, outputs: Record<string, RawOutput>, label = 'outputs'): Record<string, GPUBuffer> {
  return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, uploadStorage(device, `${label}.${name}`, t.data)]));
}

export interface ParityRun {
  gpu: GpuReadResult;
  ref: YolactReferenceResult;
  figures: ParityFigures;
  post: YolactGpuPostprocessor;
  buffers: Record<string, GPUBuffer>;
}

/**
 * Runs the GPU chain and the reference chain on the same outputs and compares them. The
 * caller destroys `post` and `buffers` (or passes `keep: false`).
 */
export async function runYolactParity(
  device: GPUDevice,
  outputs: Record<string, RawOutput>,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  image: { width: number; height: number },
  keep = false,
): Promise<ParityRun> {
  const mask = maskSizeFor(image.width, image.height);
  const transform = resizeGeometry(image.width, image.height, manifest.input).transform;
  const post = createGpuPostprocessor(device, manifest, mask);
  const buffers = uploadOutputs(device, outputs);
  const encoder = device.createCommandEncoder({ label: 'parity.postprocess' });
  post.encode(encoder, buffers, settings, transform, image);
  device.queue.submit([encoder.finish()]);
  const gpu = await post.readResult();
  const gpuMasks = await post.readMasks();
  const gpuProto = await post.readProtoMasks();
  const ref = postprocessYolactReference(outputs, manifest, settings, image, mask);
  const layout = yolactLayoutFromDims(Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.dims])));
  // Reference proto-space masks on the GPU's own records, so the float comparison isolates
  // the mask kernels from any (excused) difference upstream.
  const refProto = maskCoefficientsReference(
    gpu.records,
    outputs.mask!.data,
    outputs.proto!.data,
    yolactMaskSpec(layout.protoWidth, layout.protoHeight, layout.numPrototypes),
  );
  const figures = compareWithReference(gpu, gpuMasks, gpuProto, ref, refProto);
  if (!keep) {
    post.destroy();
    for (const b of Object.values(buffers)) b.destroy();
  }
  return { gpu, ref, figures, post, buffers };
}

function describe(f: ParityFigures): string {
  return (
    `${f.instances} instances; min box IoU ${f.minBoxIou.toFixed(4)}, min mask IoU ${f.minMaskIou.toFixed(4)}, ` +
    `max proto-mask error ${f.maxProtoMaskError.toExponential(2)}` +
    (f.problems.length ? `; problems: ${f.problems.slice(0, 5).join('; ')}` : '')
  );
}

const BASE_SETTINGS: PostprocessSettings = { scoreThreshold: 0.05, topK: 200, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100 };

/** The YOLACT family suite: GPU chain vs reference chain. `heavy` adds a 550-sized case. */
export function yolactFamilyConformance(heavy = true): (device: GPUDevice) => Promise<CaseResult[]> {
  return (device) => {
    const parityCase = (
      name: string,
      outputs: () => Record<string, RawOutput>,
      manifest: ModelManifest,
      settings: PostprocessSettings,
      image: { width: number; height: number },
      minInstances = 1,
    ): [string, () => Promise<Omit<CaseResult, 'kernel' | 'name'>>] => [
      name,
      async () => {
        const t0 = performance.now();
        const { figures } = await runYolactParity(device, outputs(), manifest, settings, image);
        return {
          pass: figures.problems.length === 0 && figures.instances >= minInstances,
          detail: describe(figures) + (figures.instances < minInstances ? ` (expected ≥ ${minInstances})` : ''),
          maxAbsError: figures.maxProtoMaskError,
          ms: performance.now() - t0,
        };
      },
    ];
    const hand = handYolactOutputs([
      { prior: 10, cls: 2, score: 0.9, box: [0.25, 0.25, 0.5, 0.5] },
      { prior: 20, cls: 2, score: 0.8, box: [0.26, 0.25, 0.51, 0.5] },
      { prior: 30, cls: 0, score: 0.7, box: [0.5, 0.5, 1, 1] },
    ]);
    const cases: Array<[string, () => Promise<Omit<CaseResult, 'kernel' | 'name'>>]> = [
      [
        'hand outputs: 2 detections, boxes and areas by hand',
        async () => {
          const { gpu, figures } = await runYolactParity(device, hand, syntheticManifest(64, 3), BASE_SETTINGS, { width: 64, height: 64 });
          const got = gpu.detections.map((d) => `${d.classIndex}:${d.box.join(',')}:${d.maskArea}`).join(' ');
          const want = '2:16,16,32,32:572 0:32,32,64,64:1295';
          return { pass: got === want && figures.problems.length === 0, detail: `got ${got}, want ${want}; ${describe(figures)}` };
        },
      ],
      parityCase(
        'synthetic 96 input, 6 classes, Fast NMS, image 160x120',
        () => syntheticYolactOutputs(7, 96, 6, 5),
        syntheticManifest(96, 6),
        BASE_SETTINGS,
        { width: 160, height: 120 },
        3,
      ),
      parityCase(
        'synthetic, greedy NMS, score ≥ 0.3, at most 5',
        () => syntheticYolactOutputs(8, 96, 6, 6),
        syntheticManifest(96, 6),
        { ...BASE_SETTINGS, nmsKind: 'greedy', scoreThreshold: 0.3, maxDetections: 5 },
        { width: 97, height: 203 },
        1,
      ),
      parityCase('no candidates: zero detections', () => handYolactOutputs([]), syntheticManifest(64, 3), BASE_SETTINGS, { width: 50, height: 40 }, 0),
      [
        'recompose: highlight and hidden classes vs compose reference',
        async () => {
          const outputs = syntheticYolactOutputs(9, 96, 6, 5);
          const manifest = syntheticManifest(96, 6);
          const run = await runYolactParity(device, outputs, manifest, BASE_SETTINGS, { width: 120, height: 90 }, true);
          const masks = await run.post.readMasks();
          const classIndices = run.gpu.detections.map((d) => d.classIndex);
          const hidden = classIndices.length > 1 ? [classIndices[1]!] : [];
          const failures: string[] = [];
          for (const highlight of [null, 0, 2]) {
            run.post.recompose(highlight, hidden);
            const got = await run.post.readOverlayRaw();
            const want = composeOverlayReference({
              masks,
              classIndices,
              classColours: defaultClassColours(manifest.classes.length),
              hiddenClasses: hiddenClassMask(hidden, manifest.classes.length),
              highlight,
              style: { premultiplied: true },
            });
            let bad = -1;
            for (let i = 0; i < want.length && bad < 0; i++) if (got[i] !== want[i]) bad = i;
            if (bad >= 0 || got.length !== want.length) failures.push(`highlight ${highlight}: byte ${bad} differs`);
          }
          run.post.destroy();
          for (const b of Object.values(run.buffers)) b.destroy();
          return {
            pass: failures.length === 0 && classIndices.length > 1,
            detail: failures.length ? failures.join('; ') : `${classIndices.length} instances, 3 overlays byte-equal`,
          };
        },
      ],
    ];
    cases.push([
      'one post-processor, settings change between frames (buffers grow, NMS kind switches)',
      async () => {
        const outputs = syntheticYolactOutputs(11, 96, 6, 6);
        const manifest = syntheticManifest(96, 6);
        const image = { width: 150, height: 100 };
        const mask = maskSizeFor(image.width, image.height);
        const transform = resizeGeometry(image.width, image.height, manifest.input).transform;
        const post = createGpuPostprocessor(device, manifest, mask);
        const buffers = uploadOutputs(device, outputs);
        const frames: PostprocessSettings[] = [
          { ...BASE_SETTINGS, topK: 20, maxDetections: 3 },
          { ...BASE_SETTINGS, topK: 200, maxDetections: 40, nmsKind: 'greedy' },
          { ...BASE_SETTINGS, topK: 50, maxDetections: 10, scoreThreshold: 0.3 },
        ];
        const notes: string[] = [];
        let pass = true;
        for (const settings of frames) {
          const encoder = device.createCommandEncoder({ label: 'parity.frame' });
          post.encode(encoder, buffers, settings, transform);
          device.queue.submit([encoder.finish()]);
          const gpu = await post.readResult();
          const masks = await post.readMasks();
          const ref = postprocessYolactReference(outputs, manifest, settings, image, mask);
          const f = compareWithReference(gpu, masks, new Float32Array(0), ref, new Float32Array(0));
          const recordsBytes = 16 + 32 * settings.maxDetections;
          if (f.problems.length || gpu.bytesReadBack < recordsBytes) pass = false;
          notes.push(
            `topK ${settings.topK}/max ${settings.maxDetections}: ${f.instances} instances, ${gpu.bytesReadBack} B read back` +
              (f.problems.length ? ` (${f.problems.slice(0, 3).join('; ')})` : ''),
          );
        }
        post.destroy();
        for (const b of Object.values(buffers)) b.destroy();
        return { pass, detail: notes.join('; ') };
      },
    ]);
    if (heavy) {
      cases.push(
        parityCase(
          'synthetic YOLACT-550 shapes (19248 priors, 80 classes), image 320x240',
          () => syntheticYolactOutputs(10, 550, 80, 8),
          syntheticManifest(550, 80),
          BASE_SETTINGS,
          { width: 320, height: 240 },
          3,
        ),
      );
    }
    return runCases('yolactFamily', device, cases);
  };
}
