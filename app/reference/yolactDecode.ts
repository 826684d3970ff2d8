/**
 * Reference of shaders/yolact_decode.wgsl (dbolya/yolact `decode` + the candidate test of
 * `Detect`), in fp32 steps in the kernel's order.
 *
 *   loc [N, 4] deltas (dx, dy, dw, dh), priors [N, 4] (cx, cy, w, h), variances (0.1, 0.2):
 *     cx = p_cx + dx·0.1·p_w        cy = p_cy + dy·0.1·p_h
 *     w  = p_w·exp(dw·0.2)          h  = p_h·exp(dh·0.2)
 *     x1 = cx − w/2, y1 = cy − h/2, x2 = x1 + w, y2 = y1 + h   (relative, not clipped)
 *   conf [N, C + 1] (softmax applied by the model, column 0 = background):
 *     prior i is a candidate if max_{c ≥ 1} conf[i, c] > confThreshold.
 */

const f = Math.fround;

/** YOLACT's box variances: centre offsets ×0.1·prior size, log-size ×0.2. */
export const YOLACT_VARIANCES: readonly [number, number] = [0.1, 0.2];

export interface YolactDecodeResult {
  /** [N, 4] xyxy relative to the model input. */
  boxes: Float32Array;
  /** Candidate prior indices, ascending. */
  candidates: number[];
}

/**
 * @param loc [N, 4]
 * @param conf [N, numClasses + 1]
 * @param priors [N, 4]
 * @param numClasses foreground classes C
 */
export function yolactDecodeReference(
  loc: Float32Array,
  conf: Float32Array,
  priors: Float32Array,
  numClasses: number,
  confThreshold: number,
): YolactDecodeResult {
  const n = priors.length / 4;
  const boxes = new Float32Array(4 * n);
  const candidates: number[] = [];
  const [v0, v1] = YOLACT_VARIANCES;
  const threshold = f(confThreshold);
  const stride = numClasses + 1;
  for (let i = 0; i < n; i++) {
    const pcx = priors[4 * i]!;
    const pcy = priors[4 * i + 1]!;
    const pw = priors[4 * i + 2]!;
    const ph = priors[4 * i + 3]!;
    const cx = f(pcx + f(f(loc[4 * i]! * f(v0)) * pw));
    const cy = f(pcy + f(f(loc[4 * i + 1]! * f(v0)) * ph));
    const w = f(pw * f(Math.exp(f(loc[4 * i + 2]! * f(v1)))));
    const h = f(ph * f(Math.exp(f(loc[4 * i + 3]! * f(v1)))));
    const x1 = f(cx - f(w * 0.5));
    const y1 = f(cy - f(h * 0.5));
    boxes[4 * i] = x1;
    boxes[4 * i + 1] = y1;
    boxes[4 * i + 2] = f(x1 + w);
    boxes[4 * i + 3] = f(y1 + h);

    let best = -Infinity;
    for (let c = 1; c <= numClasses; c++) best = Math.max(best, conf[i * stride + c]!);
    if (best > threshold) candidates.push(i);
  }
  return { boxes, candidates };
}
