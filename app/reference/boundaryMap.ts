/**
 * Reference of shaders/boundary_map.wgsl: the input of B2Inst's boundary-aware mask scoring
 * head (Kim, Woo, Kim, Kweon, "The Devil is in the Boundary", WACV 2021; /work/shared/MODELS.md
 * §5) — per kept record, (predicted mask, predicted boundary of that mask, RoI features)
 * packed as [capacity, 2 + C, R', R']. f32 steps in the kernel's order.
 *
 * From the blender's logits [capacity, R, R] (R = 56; app/reference/blender.ts), record n:
 *
 * 1. The mask the boundary is taken of, v: by default (`source: 'binary'`) the binarised
 *    mask, 1 where logit ≥ 0 (⇔ probability ≥ 0.5, the detectron2 paste's threshold), else 0.
 *    Why the binarised mask and not the probability: the scoring head is trained to predict
 *    S_boundary = Dice of the Laplacian boundaries of the *output* mask and the ground truth,
 *    and the output mask is the thresholded one; the ground-truth boundaries (the boundary
 *    basis's targets, MODELS.md §5) are the same recipe on binary masks, so both boundaries
 *    are then computed alike; and on the probability the > 0.1 test measures the slope of the
 *    sigmoid ramp — a confident mask gives a 1-pixel line, a soft one a wide band or none, and a
 *    low plateau (p ≈ 0.3, no pixel in the mask) still gives a "boundary" — which describes the
 *    blender's confidence rather than the mask's shape. `source: 'probability'` (v =
 *    sigmoid(logit)) is kept for a model trained that way (the manifest would say which).
 *    Deciding on the logit's sign (not on sigmoid ≥ 0.5) makes the binarisation exact on every
 *    GPU; the two differ only for |logit| < 3e-8, where f32's sigmoid rounds to 0.5.
 * 2. The Laplacian L = 8·v(y, x) − Σ of the 8 neighbours (`[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]`),
 *    zero padding outside the R×R RoI (a mask touching the RoI's side has a boundary there, as
 *    the mask ends at the box); clamp ≥ 0; binarise > 0.1 → b ∈ {0, 1}. On the binary mask,
 *    b marks the mask pixels with at least one 8-neighbour outside (the inner boundary).
 * 3. R×R → R'×R' by f×f max pooling, f = R / R':
 *      channel 0 = max of sigmoid(logit), the predicted mask probability (as CenterMask's and
 *        Mask Scoring R-CNN's MaskIoU heads take their mask: max pooled);
 *      channel 1 = max of b (max keeps a 1-pixel boundary a connected line; a mean would thin it
 *        to ¼ wherever it runs diagonally between cells).
 *    R' = 28 (f = 2) by default: the boundary is what this head judges, and at 14 (f = 4) a
 *    boundary line becomes a band 4 input cells wide — on a small mask it covers most of the
 *    RoI and the head could no longer see its shape; 28 is also the mask resolution Mask
 *    R-CNN-style heads are built for. The cost is 4× the RoI features of 14 (C·28²·4 bytes a
 *    record); R' = 14 still works (any R' dividing R) if the model is exported for it.
 * 4. Channels 2 … 2 + C − 1: the record's RoI features [C, R', R'], as the RoIAlign kernel wrote
 *    them for the records (app/gpu/kernels/roiAlign.ts, `recordsRoiSource`), copied.
 *
 * The models' own choice (models/blendmask/README.md, "Scoring head", written while these
 * kernels were): the head reads three inputs at R' = R = 56 — mask_probs, mask_boundary =
 * clamp(Laplacian(p), 0) on the probability, NOT binarised, and the RoI'd bases [N, K', 56,
 * 56] as its RoI features. The kernel serves that too: `source: 'probability'`, `binarise:
 * false`, outSize 56 (f = 1, no pooling), and a run per input (`firstChannel` / `outChannels`
 * on the GPU: mask (0, 1), boundary (1, 1)); the RoI'd bases are RoIAlign's output on the
 * bases (K' channels, scale ¼, aligned, sampling 1, 56 — the blender's own step 1). The
 * defaults above stay MODELS.md's recipe (binarised, on the output mask) for a head trained
 * on it; the manifest must say which.
 *
 * Rows at or past `count` are 0.
 */
import { sigmoidF32 } from './fcosDecode';

const f = Math.fround;

/** BMask R-CNN's binarisation threshold of the clamped Laplacian. */
export const BOUNDARY_THRESHOLD = 0.1;
/** The scoring head's input side R' (see the file comment). */
export const BOUNDARY_SCORING_SIZE = 28;

export type BoundarySource = 'binary' | 'probability';

export interface BoundaryMapSpec {
  /** R (56). */
  maskSize: number;
  /** R' (28), dividing R. */
  outSize: number;
  /** C: RoI feature channels. */
  channels: number;
  /** Default 'binary'. */
  source?: BoundarySource;
  /** Default true: b ∈ {0, 1}; false: b = clamp(L, 0) (models/blendmask's head input). */
  binarise?: boolean;
}

/**
 * @param maskLogits [capacity, R, R]
 * @param roiFeatures [capacity, C, R', R']
 * @returns packed [capacity, 2 + C, R', R']; laplacian and boundary [count, R, R] (the
 *   unpooled maps, for tests and a boundary overlay)
 */
export function boundaryMapReference(
  maskLogits: Float32Array,
  roiFeatures: Float32Array,
  count: number,
  capacity: number,
  spec: BoundaryMapSpec,
): { packed: Float32Array; laplacian: Float32Array; boundary: Float32Array } {
  const { maskSize: R, outSize: O, channels: C } = spec;
  if (R % O !== 0) throw new Error(`boundary map: R' ${O} does not divide R ${R}`);
  const pool = R / O;
  const planes = 2 + C;
  const packed = new Float32Array(capacity * planes * O * O);
  const n0 = Math.min(count, capacity);
  const laplacian = new Float32Array(n0 * R * R);
  const boundary = new Float32Array(n0 * R * R);
  const binary = (spec.source ?? 'binary') === 'binary';
  for (let n = 0; n < n0; n++) {
    const base = n * R * R;
    const v = (y: number, x: number) => {
      if (y < 0 || x < 0 || y >= R || x >= R) return 0;
      const logit = maskLogits[base + y * R + x]!;
      return binary ? (logit >= 0 ? 1 : 0) : sigmoidF32(logit);
    };
    for (let y = 0; y < R; y++) {
      for (let x = 0; x < R; x++) {
        let neighbours = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) if (dy !== 0 || dx !== 0) neighbours = f(neighbours + v(y + dy, x + dx));
        const l = f(f(8 * v(y, x)) - neighbours);
        laplacian[base + y * R + x] = l;
        const clamped = Math.max(l, 0);
        boundary[base + y * R + x] = spec.binarise === false ? clamped : clamped > BOUNDARY_THRESHOLD ? 1 : 0;
      }
    }
    const out = n * planes * O * O;
    for (let oy = 0; oy < O; oy++) {
      for (let ox = 0; ox < O; ox++) {
        let mask = 0;
        let edge = 0;
        for (let dy = 0; dy < pool; dy++) {
          for (let dx = 0; dx < pool; dx++) {
            const i = base + (oy * pool + dy) * R + ox * pool + dx;
            mask = Math.max(mask, sigmoidF32(maskLogits[i]!));
            edge = Math.max(edge, boundary[i]!);
          }
        }
        packed[out + oy * O + ox] = mask;
        packed[out + O * O + oy * O + ox] = edge;
      }
    }
    packed.set(roiFeatures.subarray(n * C * O * O, (n + 1) * C * O * O), out + 2 * O * O);
  }
  return { packed, laplacian, boundary };
}
