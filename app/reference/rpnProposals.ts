/**
 * The CPU chain of the RPN (steps 1 → 3 of app/gpu/kernels/rpnStage.ts), same maths as the
 * kernels: anchors + decode (rpnDecode), per-level top-n + sigmoid (rpnTopN), per-level NMS
 * + top R across levels (rpnProposalNms). The no-WebGPU path and the oracle of the stage.
 */
import type { TwoStageConfig } from '../types';
import { levelOffsets, rpnDecodeReference, rpnGeometry, type RpnGeometry } from './rpnDecode';
import { rpnProposalNmsReference, type RpnProposals } from './rpnProposalNms';
import { rpnTopNReference } from './rpnTopN';

export type RpnConfig = Pick<TwoStageConfig, 'strides' | 'anchorSizes' | 'anchorRatios' | 'rpnPreNmsTopN' | 'rpnPostNmsTopN' | 'rpnNmsIou'>;

/**
 * @param objectness [A_total] logits; rpnDeltas [A_total, 4] (levels P2..P6, (row, col, anchor))
 * @param levelSizes [H_l, W_l] per level; default ceil(input / stride)
 * @returns R = rpnPostNmsTopN RoIs (xyxy, input pixels), zero rows past `count`
 */
export function rpnProposalsReference(
  objectness: Float32Array,
  rpnDeltas: ArrayLike<number>,
  config: RpnConfig,
  input: { width: number; height: number },
  levelSizes?: ReadonlyArray<readonly [number, number]>,
): RpnProposals & { geometry: RpnGeometry } {
  const geometry = rpnGeometry(input, config.strides, config.anchorSizes, config.anchorRatios, levelSizes);
  const { offsets, counts, total } = levelOffsets(geometry);
  if (objectness.length !== total || rpnDeltas.length !== 4 * total) {
    throw new Error(`rpnProposals: ${objectness.length} logits / ${rpnDeltas.length / 4} deltas for ${total} anchors`);
  }
  const { boxes, valid } = rpnDecodeReference(rpnDeltas, geometry, input);
  const top = rpnTopNReference(objectness, offsets, counts, config.rpnPreNmsTopN);
  return { ...rpnProposalNmsReference(boxes, valid, objectness, top, config.rpnNmsIou, config.rpnPostNmsTopN), geometry };
}
