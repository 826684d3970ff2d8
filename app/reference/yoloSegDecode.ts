/**
 * Reference of shaders/yolo_seg_decode.wgsl (Ultralytics `non_max_suppression` before the
 * NMS itself: xywh → xyxy, best class only, candidate if its score > conf), fp32 steps in
 * the kernel's order.
 *
 *   output0 [4 + C + K, N] channel-major: value of row r for anchor i at r·N + i.
 *   box: x1 = (cx − w·½) / inputW, y1 = (cy − h·½) / inputH, x2 = (cx + w·½) / inputW,
 *        y2 = (cy + h·½) / inputH (relative to the letterboxed input, not clipped)
 *   best class: first argmax of the C scores; candidate when best > confThreshold.
 *   bestConf [N, C + 1]: for candidates, column 0 = 0, column 1 + best = score, others
 *   NOT_BEST (−1) — the row layout the per-class top-k reads, so an anchor competes in its
 *   best class only. Rows of non-candidates stay 0 (never read).
 */

const f = Math.fround;

/** Score of an anchor in a class other than its best (below any threshold ≥ 0). */
export const NOT_BEST = -1;

export interface YoloSegDecodeResult {
  /** [N, 4] xyxy relative to the model input. */
  boxes: Float32Array;
  /** [N, C + 1]; see the file comment. */
  bestConf: Float32Array;
  /** Candidate anchor indices, ascending. */
  candidates: number[];
  /** Best class and score of each candidate (same order as `candidates`). */
  bestClass: number[];
  bestScore: number[];
}

export function yoloSegDecodeReference(
  output0: Float32Array,
  numClasses: number,
  numAnchors: number,
  confThreshold: number,
  inputWidth: number,
  inputHeight: number,
): YoloSegDecodeResult {
  const n = numAnchors;
  const boxes = new Float32Array(4 * n);
  const stride = numClasses + 1;
  const bestConf = new Float32Array(n * stride);
  const candidates: number[] = [];
  const bestClass: number[] = [];
  const bestScore: number[] = [];
  const threshold = f(confThreshold);
  const iw = f(inputWidth);
  const ih = f(inputHeight);
  for (let i = 0; i < n; i++) {
    const cx = output0[i]!;
    const cy = output0[n + i]!;
    const halfW = f(output0[2 * n + i]! * 0.5);
    const halfH = f(output0[3 * n + i]! * 0.5);
    boxes[4 * i] = f(f(cx - halfW) / iw);
    boxes[4 * i + 1] = f(f(cy - halfH) / ih);
    boxes[4 * i + 2] = f(f(cx + halfW) / iw);
    boxes[4 * i + 3] = f(f(cy + halfH) / ih);
    let best = -Infinity;
    let cls = 0;
    for (let c = 0; c < numClasses; c++) {
      const s = output0[(4 + c) * n + i]!;
      if (s > best) {
        best = s;
        cls = c;
      }
    }
    if (best > threshold) {
      const row = i * stride;
      bestConf.fill(NOT_BEST, row + 1, row + stride);
      bestConf[row + 1 + cls] = best;
      candidates.push(i);
      bestClass.push(cls);
      bestScore.push(best);
    }
  }
  return { boxes, bestConf, candidates, bestClass, bestScore };
}

/**
 * Reference of shaders/yolo_seg_trim_top_k.wgsl: each class's top-k list cut to its
 * leading entries with score ≥ 0 (drops the NOT_BEST entries of other classes' anchors).
 */
export function trimTopKReference(top: { indices: number[][]; scores: number[][] }): { indices: number[][]; scores: number[][] } {
  const counts = top.scores.map((row) => {
    const n = row.findIndex((s) => !(s >= 0));
    return n < 0 ? row.length : n;
  });
  return { indices: top.indices.map((row, c) => row.slice(0, counts[c])), scores: top.scores.map((row, c) => row.slice(0, counts[c])) };
}
