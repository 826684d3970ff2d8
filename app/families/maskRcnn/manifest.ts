/**
 * Layout of one of our two-stage Mask R-CNNs (ModelManifest.twoStage, app/types.ts), from
 * its manifest: the FPN level sizes, the anchor count of each RPN level, the fixed RoI
 * counts R and M, and the three ONNX parts as manifests the session cache can open.
 *
 *   backbone   image [1, 3, H, W] → p2..p5 [1, C, H/s, W/s],
 *              objectness [1, A_total], rpnDeltas [1, A_total, 4]
 *   box head   box_features [R, C, boxPool, boxPool] → class_logits [R, K + 1], box_deltas [R, (K + 1)·4]
 *   mask head  mask_features [M, C, maskPool, maskPool] → mask_logits [M, K + 1, maskSize, maskSize]
 *
 * Level sides follow the backbone's stride-2 convs (k3 s2 p1: ceil halving) from the input
 * side, P6 one more halving of P5 (models/maskrcnn/model.py `level_sizes`). See
 * /work/shared/MODELS.md §3 for the maths between the parts.
 */
import type { ModelManifest, TwoStageConfig } from '../../types';
import { TWO_STAGE_OUTPUTS } from '../../models/manifestSchema';

export { TWO_STAGE_OUTPUTS };
export type TwoStageOutputName = (typeof TWO_STAGE_OUTPUTS)[number];

/** ONNX tensor names of the head parts (the contract, app/types.ts TwoStageConfig). */
export const BOX_HEAD_INPUT = 'box_features';
export const BOX_HEAD_OUTPUTS = { classLogits: 'class_logits', boxDeltas: 'box_deltas' } as const;
export const MASK_HEAD_INPUT = 'mask_features';
export const MASK_HEAD_OUTPUTS = { maskLogits: 'mask_logits' } as const;

export interface FpnLevel {
  /** FPN level number (2 = P2). */
  level: number;
  stride: number;
  width: number;
  height: number;
  anchorSize: number;
  /** Offset of this level's first anchor in objectness / rpnDeltas. */
  anchorOffset: number;
  /** width · height · anchors a location. */
  anchorCount: number;
}

export interface TwoStageLayout {
  config: TwoStageConfig;
  inputWidth: number;
  inputHeight: number;
  /** Foreground classes K (the heads have K + 1 columns, background first). */
  numClasses: number;
  /** FPN channels C. */
  channels: number;
  /** RPN levels P2..P(2 + n − 1), in the order of the objectness tensor. */
  levels: FpnLevel[];
  anchorsPerLocation: number;
  /** Σ anchors over the levels (A_total). */
  totalAnchors: number;
  /** Proposals a frame (fixed, padded): rpnPostNmsTopN. */
  numRois: number;
}

const halve = (v: number) => Math.ceil(v / 2);

/** Sides of P2..P(1 + levels) of one input side: P2 after two halvings, then one a level. */
export function levelSides(side: number, levels: number): number[] {
  const out: number[] = [];
  let s = halve(halve(side));
  for (let l = 0; l < levels; l++) {
    out.push(s);
    s = halve(s);
  }
  return out;
}

export function isTwoStage(manifest: ModelManifest): manifest is ModelManifest & { twoStage: TwoStageConfig } {
  return manifest.family === 'maskrcnn' && manifest.twoStage !== undefined;
}

export function twoStageLayout(manifest: ModelManifest): TwoStageLayout {
  if (!isTwoStage(manifest)) throw new Error(`${manifest.id}: not a two-stage Mask R-CNN (no twoStage in the manifest)`);
  const config = manifest.twoStage;
  for (const name of TWO_STAGE_OUTPUTS) {
    if (!manifest.outputs[name])
      throw new Error(`${manifest.id}: the manifest names no “${name}” output (a two-stage model needs ${TWO_STAGE_OUTPUTS.join(', ')})`);
  }
  const n = config.strides.length;
  const ws = levelSides(manifest.input.width, n);
  const hs = levelSides(manifest.input.height, n);
  const a = config.anchorRatios.length;
  const levels: FpnLevel[] = [];
  let offset = 0;
  for (let i = 0; i < n; i++) {
    // A stride that disagrees with the halving would misplace every anchor: refuse it.
    if (Math.ceil(manifest.input.width / config.strides[i]!) !== ws[i]) {
      throw new Error(`${manifest.id}: stride ${config.strides[i]} of P${i + 2} does not give a ${ws[i]}-wide level at input width ${manifest.input.width}`);
    }
    const count = ws[i]! * hs[i]! * a;
    levels.push({
      level: i + 2,
      stride: config.strides[i]!,
      width: ws[i]!,
      height: hs[i]!,
      anchorSize: config.anchorSizes[i]!,
      anchorOffset: offset,
      anchorCount: count,
    });
    offset += count;
  }
  return {
    config,
    inputWidth: manifest.input.width,
    inputHeight: manifest.input.height,
    numClasses: manifest.classes.length,
    channels: config.channels,
    levels,
    anchorsPerLocation: a,
    totalAnchors: offset,
    numRois: config.rpnPostNmsTopN,
  };
}

/** Float counts of the backbone outputs and of the head tensors, for buffer-size checks. */
export function twoStageFloats(layout: TwoStageLayout, maxDetections: number) {
  const { channels: c, numClasses: k, numRois: r, config } = layout;
  const fpn = Object.fromEntries(layout.levels.slice(0, 4).map((l) => [`p${l.level}`, c * l.width * l.height])) as Record<'p2' | 'p3' | 'p4' | 'p5', number>;
  return {
    ...fpn,
    objectness: layout.totalAnchors,
    rpnDeltas: layout.totalAnchors * 4,
    boxFeatures: r * c * config.boxPool * config.boxPool,
    classLogits: r * (k + 1),
    boxDeltas: r * (k + 1) * 4,
    maskFeatures: maxDetections * c * config.maskPool * config.maskPool,
    maskLogits: maxDetections * (k + 1) * config.maskSize * config.maskSize,
  };
}

/** Dims of the head inputs (R and M fixed: the ONNX heads are exported with them). */
export function boxFeatureDims(layout: TwoStageLayout): [number, number, number, number] {
  const p = layout.config.boxPool;
  return [layout.numRois, layout.channels, p, p];
}

export function maskFeatureDims(layout: TwoStageLayout, maxDetections: number): [number, number, number, number] {
  const p = layout.config.maskPool;
  return [maxDetections, layout.channels, p, p];
}

/**
 * The head parts as manifests of their own (same id + '#box-head' / '#mask-head'), so the
 * session cache (pipeline/sessions.ts) fetches, opens and checks them like any model.
 */
export function headManifests(manifest: ModelManifest): { boxHead: ModelManifest; maskHead: ModelManifest } {
  if (!isTwoStage(manifest)) throw new Error(`${manifest.id}: not a two-stage Mask R-CNN`);
  const t = manifest.twoStage;
  const part = (
    suffix: string,
    name: string,
    url: string,
    integrity: { bytes?: number; sha256?: string },
    input: string,
    outputs: Record<string, string>,
  ): ModelManifest => {
    const { bytes: _bytes, sha256: _sha, twoStage: _t, ...rest } = manifest;
    // Each head file is checked against its own size and digest when it is fetched.
    const checks = { ...(integrity.bytes !== undefined ? { bytes: integrity.bytes } : {}), ...(integrity.sha256 ? { sha256: integrity.sha256 } : {}) };
    return { ...rest, ...checks, id: `${manifest.id}#${suffix}`, name: `${manifest.name} (${name})`, url, input: { ...manifest.input, name: input }, outputs };
  };
  return {
    boxHead: part('box-head', 'box head', t.boxHeadUrl, { bytes: t.boxHeadBytes, sha256: t.boxHeadSha256 }, BOX_HEAD_INPUT, { ...BOX_HEAD_OUTPUTS }),
    maskHead: part('mask-head', 'mask head', t.maskHeadUrl, { bytes: t.maskHeadBytes, sha256: t.maskHeadSha256 }, MASK_HEAD_INPUT, { ...MASK_HEAD_OUTPUTS }),
  };
}

/**
 * The mask-head batch M of a frame: the pane's maxDetections (fixed for the frame, known
 * before any result: the records are padded to it, so nothing is read back to size it).
 */
export function maskBatch(settings: { maxDetections: number }): number {
  return Math.max(1, Math.floor(settings.maxDetections));
}

/** Bytes of the RoI features the 'wasm+gpu' path reads back a frame for its CPU heads. */
export function roiFeatureBytes(layout: TwoStageLayout, maxDetections: number): { box: number; mask: number } {
  const bytes = (d: readonly number[]) => d.reduce((a, b) => a * b, 1) * 4;
  return { box: bytes(boxFeatureDims(layout)), mask: bytes(maskFeatureDims(layout, maskBatch({ maxDetections }))) };
}

/**
 * The pane's note on a two-stage model's read-back: on 'wasm+gpu' the heads run on the CPU,
 * so the pooled RoI features come back from the GPU every frame; null for other paths / models.
 */
export function roiReadbackNote(manifest: ModelManifest, path: string, maxDetections: number): string | null {
  if (path !== 'wasm+gpu' || !isTwoStage(manifest)) return null;
  const { box, mask } = roiFeatureBytes(twoStageLayout(manifest), maxDetections);
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `read-back includes the RoI features for the CPU heads: ${mb(box)} box + ${mb(mask)} mask a frame (webgpu: records only)`;
}
