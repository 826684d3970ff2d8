/**
 * The FCOS box chain on the CPU (CenterMask's and BlendMask's first steps, the oracle of
 * ./fcosBoxChain.ts), stage for stage:
 *
 *   detector outputs → fcosDecode → classTopK → fast | greedy NMS → detectionCap  ('decode', 'nms')
 */
import type { ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import type { DecodedRecord } from '../../gpu/layout';
import { fcosDecodeReference, type FcosLevel } from '../../reference/fcosDecode';
import { classTopKReference } from '../../reference/classTopK';
import { fastNmsReference } from '../../reference/fastNms';
import { greedyNmsReference } from '../../reference/greedyNms';
import { detectionCapReference } from '../../reference/detectionCap';
import { candidateThresholdOf, effectiveTopK, type FcosHeadLayout } from './fcos';

/** Raw detector outputs on the CPU by logical name (ORT's `Tensor.data`). */
export type DetectorOutputs = Readonly<Record<string, { data: Float32Array }>>;

/** Stage times a CPU step measured. */
export type FcosStepTimings = Partial<Pick<StageTimings, 'decode' | 'nms' | 'roi' | 'masks'>>;

/**
 * An FCOS family's first CPU step, on the detector's outputs: the FCOS box chain's records,
 * then the family's own references on them (`capacity(kept)` rows; default: the kept count)
 * → the frame its next step continues.
 */
export type FcosDetectionsReference<F> = (
  outputs: DetectorOutputs,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  capacity?: (kept: number) => number,
) => { frame: F; timings: FcosStepTimings };

/** Output `name` of the detector; `family` names the model in the error. */
export function detectorOutput(outputs: DetectorOutputs, name: string, family: string): Float32Array {
  const t = outputs[name];
  if (!t) throw new Error(`${family} detector output “${name}” is missing`);
  return t.data;
}

/** The FCOS levels of the detector's outputs. */
export function fcosLevelsOf(outputs: DetectorOutputs, layout: Pick<FcosHeadLayout, 'levels'>, family: string): FcosLevel[] {
  return layout.levels.map((l) => ({
    cls: detectorOutput(outputs, l.cls, family),
    box: detectorOutput(outputs, l.box, family),
    ctr: detectorOutput(outputs, l.ctr, family),
    width: l.width,
    height: l.height,
    stride: l.stride,
  }));
}

/**
 * FCOS decode → per-class top-k → NMS → cap → records (at most the pane's maxDetections),
 * with the locations that kept a pair (the records header's candidateCount) and the time of
 * each span.
 */
export function fcosRecordsReference(
  outputs: DetectorOutputs,
  layout: FcosHeadLayout,
  settings: PostprocessSettings,
  family: string,
): { records: DecodedRecord[]; candidateCount: number; timings: { decode: number; nms: number } } {
  const k = layout.numClasses;
  const threshold = Math.max(0, settings.scoreThreshold);
  const t0 = performance.now();
  const decoded = fcosDecodeReference(fcosLevelsOf(outputs, layout, family), {
    numClasses: k,
    input: { width: layout.inputWidth, height: layout.inputHeight },
    candidateThreshold: candidateThresholdOf(layout, settings),
    topN: layout.config.preNmsTopN,
  });
  const t1 = performance.now();
  const top = classTopKReference(decoded.conf, k, decoded.candidates, effectiveTopK(settings), threshold);
  const keep = (settings.nmsKind === 'greedy' ? greedyNmsReference : fastNmsReference)(decoded.boxes, top.indices, settings.nmsIou);
  const records = detectionCapReference(decoded.boxes, top.indices, top.scores, keep, Math.max(1, Math.floor(settings.maxDetections)), threshold);
  const t2 = performance.now();
  return { records, candidateCount: decoded.candidates.length, timings: { decode: t1 - t0, nms: t2 - t1 } };
}
