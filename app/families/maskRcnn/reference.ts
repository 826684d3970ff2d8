/**
 * Mask R-CNN on the CPU. Two kinds of model share the family:
 *
 * - our two-stage models (`manifest.twoStage`): three ONNX parts with the RoI steps between
 *   them, here through the TypeScript references of the WGSL kernels, stage for stage
 *   (`maskRcnnTwoStageReference`: the 'wasm' path and the oracle of the GPU chain):
 *
 *     backbone outputs → rpnDecode → rpnTopN → rpnProposalNms → R RoIs            ('rpn')
 *     → RoIAlign / RoIPool 7x7 on P2..P5 → box_features [R, C, 7, 7]             ('roi')
 *     → box head (callback)                                                     ('heads')
 *     → maskRcnnBoxDecode → per-class select → NMS → cap → DetectionRecords     ('decode', 'nms')
 *     → RoIAlign / RoIPool 14x14 on the kept boxes → mask_features [n, C, 14, 14] ('roi')
 *     → mask head (callback)                                                    ('heads')
 *     → maskPaste (28x28 → bit masks at mask resolution + areas)                ('masks')
 *
 * - public single-file exports (no `twoStage`): their NMS and RoIAlign ran inside the graph;
 *   `postprocessMaskRcnnReference` hands them to ./exported.ts.
 *
 * The heads are callbacks (the runner's ORT sessions; tests may pass their own), so this
 * module never touches ORT. The CPU heads only see the kept rows of the mask batch: a mask
 * head row depends on its own features alone, so rows past the kept count (zero padding on
 * the GPU) change nothing.
 */
import type { Detection, InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import type { DecodedRecord } from '../../gpu/layout';
import { resizeGeometry } from '../../reference/preprocess';
import { maskSizeFor } from '../../reference/maskAssembly';
import { rpnProposalsReference } from '../../reference/rpnProposals';
import { maskRcnnBoxDecodeReference, maskRcnnNmsCapReference } from '../../reference/maskRcnnBoxDecode';
import { maskPasteReference } from '../../reference/maskPaste';
import { MAX_TOP_K } from '../../gpu/kernels/classTopK';
import { recordsToDetections } from '../yolact/reference';
import { isTwoStage, twoStageLayout, type TwoStageLayout } from './manifest';
import { postprocessExportedReference, type ExportedRawOutput } from './exported';
import { recordRoisInPixels, roiAlignReference, type FeatureLevel } from '../../reference/roiAlign';
import { roiPoolReference } from '../../reference/roiPool';

/** A raw output on the CPU (ORT's `Tensor.data` and `dims`). */
export interface RawOutput {
  data: Float32Array;
  dims: readonly number[];
}

/** The head parts, run by whoever owns the sessions. */
export interface TwoStageHeadsCpu {
  /** box_features [R, C, boxPool, boxPool] → class_logits [R, K + 1], box_deltas [R, (K + 1)·4]. */
  boxHead(features: Float32Array): Promise<{ classLogits: Float32Array; boxDeltas: Float32Array }>;
  /** mask_features [count, C, maskPool, maskPool] → mask_logits [count, K + 1, S, S]. */
  maskHead(features: Float32Array, count: number): Promise<Float32Array>;
}

export interface TwoStageReferenceResult {
  detections: Detection[];
  masks: InstanceMasks;
  /** The kept records (boxes relative to the model input), for parity tests. */
  records: DecodedRecord[];
  /** The intermediate tensors, for parity tests of each stage. */
  stages: Omit<TwoStageCpuFrame, 'layout' | 'features' | 'records'> & { maskLogits: Float32Array };
  timings: Partial<Pick<StageTimings, 'rpn' | 'roi' | 'heads' | 'decode' | 'nms' | 'masks'>>;
}

/** Per-class candidates kept before NMS: the pane's topK, at most the kernels' limit and R. */
export function effectiveTopK(settings: Pick<PostprocessSettings, 'topK'>, layout: TwoStageLayout): number {
  return Math.max(1, Math.min(MAX_TOP_K, layout.numRois, Math.floor(settings.topK)));
}

/**
 * The candidate test of the box decode (torchvision box_score_thresh): score > the manifest's
 * confThreshold (0.05), or > the pane's score threshold when the user lowers it below that,
 * so the "score ≥" slider reaches weak detections too (a Mask R-CNN has no other threshold).
 */
export function candidateThreshold(manifest: ModelManifest, settings: Pick<PostprocessSettings, 'scoreThreshold'>): number {
  return Math.max(0, Math.min(manifest.defaults.confThreshold ?? 0.05, settings.scoreThreshold));
}

/** Steps 1–3 on the CPU: the R proposals (RoIs in input pixels, rows ≥ count zero). */
export function proposalsReference(backbone: Record<string, RawOutput>, layout: TwoStageLayout) {
  return rpnProposalsReference(
    backbone.objectness!.data,
    backbone.rpnDeltas!.data,
    layout.config,
    { width: layout.inputWidth, height: layout.inputHeight },
    layout.levels.map((l) => [l.height, l.width] as const),
  );
}

/** The FPN maps P2..P5 of the backbone outputs, NCHW [1, C, H_l, W_l]. */
export function fpnFeatures(backbone: Record<string, RawOutput>): Float32Array[] {
  return (['p2', 'p3', 'p4', 'p5'] as const).map((name) => {
    const t = backbone[name];
    if (!t) throw new Error(`two-stage backbone output “${name}” is missing`);
    return t.data;
  });
}

/**
 * RoI features [capacity, C, out, out] from the FPN maps of levels minLevel..maxLevel
 * (RoIAlign or RoIPool per the manifest's pooler); rows ≥ count are zero.
 */
export function poolRoisReference(
  features: readonly Float32Array[],
  layout: TwoStageLayout,
  rois: ArrayLike<number>,
  count: number,
  capacity: number,
  outSize: number,
): Float32Array {
  const c = layout.config;
  const levels: FeatureLevel[] = [];
  for (let level = c.minLevel; level <= c.maxLevel; level++) {
    const l = layout.levels[level - 2]!;
    levels.push({ data: features[level - 2]!, height: l.height, width: l.width, spatialScale: 1 / l.stride });
  }
  const mapping = { canonicalScale: c.canonicalScale, canonicalLevel: c.canonicalLevel, minLevel: c.minLevel, maxLevel: c.maxLevel };
  return c.pooler === 'pool'
    ? roiPoolReference(levels, layout.channels, rois, count, capacity, { ...mapping, outSize })
    : roiAlignReference(levels, layout.channels, rois, count, capacity, { ...mapping, outSize, samplingRatio: c.samplingRatio, aligned: c.aligned });
}

/** What the CPU chain keeps between its steps (one frame). */
export interface TwoStageCpuFrame {
  layout: TwoStageLayout;
  /** The FPN maps P2..P5 of the backbone. */
  features: Float32Array[];
  rois: Float32Array;
  roiCount: number;
  boxFeatures: Float32Array;
  classLogits: Float32Array;
  boxDeltas: Float32Array;
  candidateCount: number;
  records: DecodedRecord[];
  maskFeatures: Float32Array;
}

type TwoStageCpuTimings = TwoStageReferenceResult['timings'];

/**
 * Step 1 after the backbone: the R proposals, then the box head's RoI features
 * box_features [R, C, boxPool, boxPool].
 */
export function twoStageProposalsReference(
  backbone: Record<string, RawOutput>,
  layout: TwoStageLayout,
): { frame: TwoStageCpuFrame; timings: TwoStageCpuTimings } {
  const features = fpnFeatures(backbone);
  const t0 = performance.now();
  const proposals = proposalsReference(backbone, layout);
  const t1 = performance.now();
  const boxFeatures = poolRoisReference(features, layout, proposals.rois, proposals.count, layout.numRois, layout.config.boxPool);
  const t2 = performance.now();
  const frame: TwoStageCpuFrame = {
    layout,
    features,
    rois: proposals.rois,
    roiCount: proposals.count,
    boxFeatures,
    classLogits: new Float32Array(0),
    boxDeltas: new Float32Array(0),
    candidateCount: 0,
    records: [],
    maskFeatures: new Float32Array(0),
  };
  return { frame, timings: { rpn: t1 - t0, roi: t2 - t1 } };
}

/**
 * Step 2, on the box head's outputs: box decode per class, per-class NMS and the cap →
 * records; then the mask head's RoI features of the kept boxes, mask_features
 * [capacity, C, maskPool, maskPool] (capacity ≥ the kept count; rows past it are zero).
 */
export function twoStageDetectionsReference(
  frame: TwoStageCpuFrame,
  classLogits: Float32Array,
  boxDeltas: Float32Array,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  capacity: (kept: number) => number = (kept) => kept,
): TwoStageCpuTimings {
  const { layout } = frame;
  const c = layout.config;
  const k = layout.numClasses;
  if (classLogits.length !== layout.numRois * (k + 1) || boxDeltas.length !== layout.numRois * (k + 1) * 4) {
    throw new Error(
      `box head: class_logits ${classLogits.length} / box_deltas ${boxDeltas.length} values, expected [${layout.numRois}, ${k + 1}] / [${layout.numRois}, ${(k + 1) * 4}]`,
    );
  }
  const t0 = performance.now();
  const decoded = maskRcnnBoxDecodeReference(classLogits, boxDeltas, frame.rois, frame.roiCount, {
    numClasses: k,
    inputWidth: layout.inputWidth,
    inputHeight: layout.inputHeight,
    boxWeights: c.boxWeights,
    scoreThreshold: candidateThreshold(manifest, settings),
  });
  const t1 = performance.now();
  const records = maskRcnnNmsCapReference(decoded.boxes, decoded.scores, layout.numRois, k, {
    topK: effectiveTopK(settings, layout),
    nmsIou: settings.nmsIou,
    nmsKind: settings.nmsKind,
    maxDetections: Math.max(1, Math.floor(settings.maxDetections)),
    displayThreshold: settings.scoreThreshold,
  });
  const t2 = performance.now();
  // Mask RoIs: the kept boxes, relative → input pixels.
  const n = records.length;
  const boxes = recordRoisInPixels(records, { width: layout.inputWidth, height: layout.inputHeight });
  const maskFeatures = poolRoisReference(frame.features, layout, boxes, n, Math.max(n, capacity(n)), c.maskPool);
  const t3 = performance.now();
  Object.assign(frame, { classLogits, boxDeltas, candidateCount: decoded.candidateCount, records, maskFeatures });
  return { decode: t1 - t0, nms: t2 - t1, roi: t3 - t2 };
}

/**
 * Step 3, on the mask head's outputs: the predicted class's mask of each kept record pasted
 * at mask resolution (bit masks + areas) → detections in image pixels.
 */
export function twoStageMasksReference(
  frame: TwoStageCpuFrame,
  maskLogits: Float32Array,
  manifest: ModelManifest,
  imageSize: { width: number; height: number },
  mask: { width: number; height: number } = maskSizeFor(imageSize.width, imageSize.height),
): { detections: Detection[]; masks: InstanceMasks; timings: TwoStageCpuTimings } {
  const { layout, records } = frame;
  const t0 = performance.now();
  const transform = resizeGeometry(imageSize.width, imageSize.height, manifest.input).transform;
  const { masks, areas } = maskPasteReference(
    records,
    maskLogits,
    { numClasses: layout.numClasses, maskSize: layout.config.maskSize },
    transform,
    imageSize,
    mask,
  );
  records.forEach((r, i) => (r.maskArea = areas[i]!));
  return { detections: recordsToDetections(records, transform, imageSize), masks, timings: { masks: performance.now() - t0 } };
}

/**
 * The whole two-stage CPU chain after the backbone, with the heads as callbacks (tests, the
 * eval script): the three steps above. `mask` is the mask resolution (default: the image
 * size, capped at 1280 on the longer side like the GPU path). The mask head sees only the
 * kept rows, and is not called when none is kept.
 */
export async function maskRcnnTwoStageReference(
  backbone: Record<string, RawOutput>,
  heads: TwoStageHeadsCpu,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  imageSize: { width: number; height: number },
  mask: { width: number; height: number } = maskSizeFor(imageSize.width, imageSize.height),
): Promise<TwoStageReferenceResult> {
  const layout = twoStageLayout(manifest);
  const { frame, timings: t1 } = twoStageProposalsReference(backbone, layout);
  let t = performance.now();
  const { classLogits, boxDeltas } = await heads.boxHead(frame.boxFeatures);
  let headsMs = performance.now() - t;
  const t2 = twoStageDetectionsReference(frame, classLogits, boxDeltas, manifest, settings);
  const n = frame.records.length;
  t = performance.now();
  const maskLogits = n > 0 ? await heads.maskHead(frame.maskFeatures, n) : new Float32Array(0);
  headsMs += performance.now() - t;
  const out = twoStageMasksReference(frame, maskLogits, manifest, imageSize, mask);
  return {
    detections: out.detections,
    masks: out.masks,
    records: frame.records,
    stages: {
      rois: frame.rois,
      roiCount: frame.roiCount,
      boxFeatures: frame.boxFeatures,
      classLogits,
      boxDeltas,
      candidateCount: frame.candidateCount,
      maskFeatures: frame.maskFeatures,
      maskLogits,
    },
    timings: { rpn: t1.rpn, roi: (t1.roi ?? 0) + (t2.roi ?? 0), heads: headsMs, decode: t2.decode, nms: t2.nms, masks: out.timings.masks },
  };
}

/**
 * The family's CPU post-processing as the pipeline's one-session path calls it
 * (../common/oneStage.ts): public exports only. Two-stage models are a program of their
 * own (./program.ts), with these steps between their head parts.
 */
export function postprocessMaskRcnnReference(
  outputs: Record<string, RawOutput>,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  imageSize: { width: number; height: number },
  mask?: { width: number; height: number },
) {
  if (isTwoStage(manifest)) {
    throw new Error(`${manifest.id} is a two-stage model: its program runs the box and mask heads between the stages (./program.ts)`);
  }
  return postprocessExportedReference(outputs as Record<string, ExportedRawOutput>, manifest, settings, imageSize, mask);
}
