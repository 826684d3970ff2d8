/**
 * YOLO-seg family conformance: YoloSegGpuPostprocessor against postprocessYoloSegReference
 * on the same raw outputs (classes equal, scores 1e-6, box IoU ≥ 0.99, mask IoU ≥ 0.98,
 * proto-space logits compared as floats). No test-framework imports.
 */
import type { ModelManifest, PostprocessSettings } from '../../../app/types';
import { runCases, type CaseResult } from '../../kernels/conformance/common';
import { resizeGeometry } from '../../../app/reference/preprocess';
import { maskCoefficientsReference, maskSizeFor } from '../../../app/reference/maskAssembly';
import { compareWithReference, uploadOutputs, type ParityFigures } from '../conformance';
import { createGpuPostprocessor, type GpuReadResult } from '../../../app/families/yoloSeg/gpu';
import { layoutOf, postprocessYoloSegReference, yoloSegSpecFor, type RawOutput, type YoloSegReferenceResult } from '../../../app/families/yoloSeg/reference';
import { syntheticYoloSegEndToEnd, syntheticYoloSegManifest, syntheticYoloSegOutputs } from '../../../app/families/yoloSeg/synthetic';

export async function runYoloSegParity(
  device: GPUDevice,
  outputs: Record<string, RawOutput>,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  image: { width: number; height: number },
): Promise<{ gpu: GpuReadResult; ref: YoloSegReferenceResult; figures: ParityFigures }> {
  const mask = maskSizeFor(image.width, image.height);
  const transform = resizeGeometry(image.width, image.height, manifest.input).transform;
  const post = createGpuPostprocessor(device, manifest, mask);
  const buffers = uploadOutputs(device, outputs, 'yoloSegParity');
  try {
    const encoder = device.createCommandEncoder({ label: 'yoloSegParity.postprocess' });
    post.encode(encoder, buffers, settings, transform, image);
    device.queue.submit([encoder.finish()]);
    const gpu = await post.readResult();
    const gpuMasks = await post.readMasks();
    const gpuProto = await post.readProtoMasks();
    const ref = postprocessYoloSegReference(outputs, manifest, settings, image, mask);
    const layout = layoutOf(outputs, manifest);
    const coefficients = layout.head === 'raw' ? outputs.output0!.data : outputs.detections!.data;
    const refProto = maskCoefficientsReference(gpu.records, coefficients, outputs.protos!.data, yoloSegSpecFor(layout));
    return { gpu, ref, figures: compareWithReference(gpu, gpuMasks, gpuProto, ref, refProto) };
  } finally {
    post.destroy();
    for (const b of Object.values(buffers)) b.destroy();
  }
}

function describe(f: ParityFigures): string {
  return (
    `${f.instances} instances; min box IoU ${f.minBoxIou.toFixed(4)}, min mask IoU ${f.minMaskIou.toFixed(4)}, ` +
    `max score error ${f.maxScoreError.toExponential(1)}, max proto-mask error ${f.maxProtoMaskError.toExponential(2)}` +
    (f.problems.length ? `; problems: ${f.problems.slice(0, 5).join('; ')}` : '')
  );
}

/** The YOLO-seg family suite; `heavy` adds the 80-class raw-head case (slow on software adapters). */
export function yoloSegFamilyConformance(heavy = true): (device: GPUDevice) => Promise<CaseResult[]> {
  return (device) => {
    const parity = (
      name: string,
      outputs: () => Record<string, RawOutput>,
      manifest: ModelManifest,
      settings: PostprocessSettings,
      image: { width: number; height: number },
      minInstances: number,
    ): [string, () => Promise<Omit<CaseResult, 'kernel' | 'name'>>] => [
      name,
      async () => {
        const t0 = performance.now();
        const { figures } = await runYoloSegParity(device, outputs(), manifest, settings, image);
        const enough = figures.instances >= minInstances;
        return {
          pass: figures.problems.length === 0 && enough,
          detail: describe(figures) + (enough ? '' : ` (expected ≥ ${minInstances})`),
          maxAbsError: figures.maxProtoMaskError,
          ms: performance.now() - t0,
        };
      },
    ];
    const coco = syntheticYoloSegManifest(320, 80);
    const three = syntheticYoloSegManifest(320, 3);
    const e2e = syntheticYoloSegManifest(320, 80, 'end-to-end');
    return runCases('yoloSegFamily', device, [
      ...(heavy
        ? [
            parity(
              '320, 80 classes, greedy NMS 0.7, landscape image 640x480',
              () => syntheticYoloSegOutputs(1, 320, 80, 6),
              coco,
              coco.defaults,
              { width: 640, height: 480 },
              4,
            ),
          ]
        : []),
      parity(
        '320, 3 classes, fast NMS, conf 0.25, portrait 300x500',
        () => syntheticYoloSegOutputs(2, 320, 3, 8),
        three,
        { ...three.defaults, nmsKind: 'fast' },
        { width: 300, height: 500 },
        4,
      ),
      parity(
        '320, 3 classes, topK 20, cap 5',
        () => syntheticYoloSegOutputs(3, 320, 3, 10),
        three,
        { ...three.defaults, topK: 20, maxDetections: 5 },
        { width: 320, height: 320 },
        5,
      ),
      parity(
        'end-to-end [1, 300, 38], 80 classes, image 800x600',
        () => syntheticYoloSegEndToEnd(4, 320, 80, 12),
        e2e,
        e2e.defaults,
        { width: 800, height: 600 },
        8,
      ),
    ]);
  };
}
