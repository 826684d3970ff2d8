/**
 * Reference of shaders/rpn_decode.wgsl: the RPN's anchors (torchvision AnchorGenerator) and
 * the decode of its deltas into proposals (BoxCoder weights (1, 1, 1, 1)), clipped to the
 * input, with the small-box flag of `remove_small_boxes(1e-3)`.
 *
 * Anchors of level l (stride s, size S, ratios r_a in the listed order):
 *   h_a = √r_a, w_a = 1 / h_a, base_a = round([−w_a·S, −h_a·S, w_a·S, h_a·S] / 2)   (round half
 *   to even, as torch.round and WGSL round), anchor (y, x, a) = base_a + (x·s, y·s, x·s, y·s),
 *   flattened (row, col, anchor); levels concatenated P2..P6.
 * Every step in f32 (Math.fround), in the kernel's order.
 */

const f = Math.fround;

/** log(1000 / 16): torchvision's cap on dw, dh before exp (no box grows past 62.5×). */
export const BBOX_XFORM_CLIP = Math.log(1000 / 16);
/** remove_small_boxes threshold of the RPN (input pixels). */
export const RPN_MIN_SIZE = 1e-3;

export interface RpnLevel {
  height: number;
  width: number;
  stride: number;
  /** Anchor size of this level (input pixels). */
  size: number;
}

export interface RpnGeometry {
  levels: RpnLevel[];
  /** Aspect ratios h / w, anchor order within a location. */
  ratios: number[];
}

/** First anchor index of each level and the total A_total. */
export function levelOffsets(g: RpnGeometry): { offsets: number[]; counts: number[]; total: number } {
  const offsets: number[] = [];
  const counts: number[] = [];
  let total = 0;
  for (const l of g.levels) {
    offsets.push(total);
    const n = l.height * l.width * g.ratios.length;
    counts.push(n);
    total += n;
  }
  return { offsets, counts, total };
}

/** Levels of a TwoStageConfig-like geometry: H_l = ceil(inputH / stride_l) (FPN on a padded input). */
export function rpnGeometry(
  input: { width: number; height: number },
  strides: readonly number[],
  anchorSizes: readonly number[],
  ratios: readonly number[],
  levelSizes?: ReadonlyArray<readonly [number, number]>,
): RpnGeometry {
  return {
    levels: strides.map((stride, l) => ({
      height: levelSizes?.[l]?.[0] ?? Math.ceil(input.height / stride),
      width: levelSizes?.[l]?.[1] ?? Math.ceil(input.width / stride),
      stride,
      size: anchorSizes[l]!,
    })),
    ratios: [...ratios],
  };
}

/** Round half to even (torch.round, WGSL round). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The cell anchors of one level: [A, 4] xyxy about (0, 0). */
export function baseAnchors(size: number, ratios: readonly number[]): number[][] {
  return ratios.map((ratio) => {
    const h = f(Math.sqrt(f(ratio)));
    const w = f(1 / h);
    const ws = f(w * f(size));
    const hs = f(h * f(size));
    return [-ws, -hs, ws, hs].map((v) => roundHalfEven(f(v / 2)));
  });
}

/** All anchors [A_total, 4] xyxy (input pixels), in the order of the RPN outputs. */
export function rpnAnchors(g: RpnGeometry): Float32Array {
  const { total } = levelOffsets(g);
  const out = new Float32Array(total * 4);
  let i = 0;
  for (const l of g.levels) {
    const base = baseAnchors(l.size, g.ratios);
    for (let y = 0; y < l.height; y++) {
      for (let x = 0; x < l.width; x++) {
        const sx = x * l.stride;
        const sy = y * l.stride;
        for (const b of base) {
          out.set([b[0]! + sx, b[1]! + sy, b[2]! + sx, b[3]! + sy], 4 * i);
          i++;
        }
      }
    }
  }
  return out;
}

export interface RpnDecoded {
  /** [A_total, 4] xyxy proposals in input pixels, clipped to [0, W] × [0, H]. */
  boxes: Float32Array;
  /** [A_total] 1 when both sides ≥ 1e-3 (remove_small_boxes keeps it), else 0. */
  valid: Uint8Array;
}

/** BoxCoder.decode_single with weights 1 and the clamp, on one anchor (f32 steps). */
export function decodeBox(anchor: ArrayLike<number>, d: ArrayLike<number>, clip = BBOX_XFORM_CLIP): [number, number, number, number] {
  const w = f(anchor[2]! - anchor[0]!);
  const h = f(anchor[3]! - anchor[1]!);
  const cx = f(anchor[0]! + f(0.5 * w));
  const cy = f(anchor[1]! + f(0.5 * h));
  const dw = Math.min(f(d[2]!), f(clip));
  const dh = Math.min(f(d[3]!), f(clip));
  const pcx = f(f(d[0]! * w) + cx);
  const pcy = f(f(d[1]! * h) + cy);
  const halfW = f(0.5 * f(f(Math.exp(dw)) * w));
  const halfH = f(0.5 * f(f(Math.exp(dh)) * h));
  return [f(pcx - halfW), f(pcy - halfH), f(pcx + halfW), f(pcy + halfH)];
}

/**
 * @param rpnDeltas [A_total, 4] (dx, dy, dw, dh)
 * @param input the model input size: proposals are clipped to it
 */
export function rpnDecodeReference(rpnDeltas: ArrayLike<number>, g: RpnGeometry, input: { width: number; height: number }): RpnDecoded {
  const anchors = rpnAnchors(g);
  const n = anchors.length / 4;
  const boxes = new Float32Array(n * 4);
  const valid = new Uint8Array(n);
  const W = f(input.width);
  const H = f(input.height);
  const minSize = f(RPN_MIN_SIZE);
  const d = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 4; k++) d[k] = rpnDeltas[4 * i + k]!;
    const b = decodeBox(anchors.subarray(4 * i, 4 * i + 4), d);
    const x1 = Math.min(Math.max(b[0], 0), W);
    const y1 = Math.min(Math.max(b[1], 0), H);
    const x2 = Math.min(Math.max(b[2], 0), W);
    const y2 = Math.min(Math.max(b[3], 0), H);
    boxes.set([x1, y1, x2, y2], 4 * i);
    valid[i] = f(x2 - x1) >= minSize && f(y2 - y1) >= minSize ? 1 : 0;
  }
  return { boxes, valid };
}
