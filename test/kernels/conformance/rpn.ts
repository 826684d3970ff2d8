/**
 * Conformance cases of the RPN kernels (shaders/rpn_decode.wgsl, rpn_top_n.wgsl,
 * rpn_proposal_nms.wgsl): hand-computed anchors and decodes, random and edge cases against
 * the references of app/reference/rpn*.ts. No test-runner imports (runs under Vitest + Dawn
 * and in kernel-tests.html).
 */
import { createStorageBuffer, readF32, readU32, uploadStorage } from '../../../app/gpu/buffers';
import { createRpnDecode } from '../../../app/gpu/kernels/rpnDecode';
import { createRpnTopN, rpnTopNBytes } from '../../../app/gpu/kernels/rpnTopN';
import { createRpnProposalNms, rpnRoiBytes } from '../../../app/gpu/kernels/rpnProposalNms';
import { levelOffsets, rpnAnchors, rpnDecodeReference, rpnGeometry, type RpnGeometry } from '../../../app/reference/rpnDecode';
import { rpnTopNReference, type RpnTopN } from '../../../app/reference/rpnTopN';
import { rpnProposalNmsReference, type RpnProposals } from '../../../app/reference/rpnProposalNms';
import { firstMismatch, maxAbsDiff, rng, runCases, sharedKernel, type CaseResult } from './common';
import { geometry512, INPUT_512, MASKRCNN_512_RPN, normals, syntheticRpnHeads } from './rpnData';

type Size = { width: number; height: number };

export async function runRpnDecode(device: GPUDevice, rpnDeltas: Float32Array, g: RpnGeometry, input: Size) {
  const { total } = levelOffsets(g);
  const bufs = {
    rpnDeltas: uploadStorage(device, 'test.rpnDeltas', rpnDeltas),
    proposals: createStorageBuffer(device, 'test.proposals', 16 * total),
    valid: createStorageBuffer(device, 'test.valid', 4 * total),
  };
  const kernel = sharedKernel(device, 'rpnDecode', createRpnDecode);
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'rpnDecode.test' });
  kernel.run(encoder, bufs, { geometry: g, input });
  device.queue.submit([encoder.finish()]);
  const boxes = await readF32(device, bufs.proposals, 4 * total);
  const valid = await readU32(device, bufs.valid, total);
  const ms = performance.now() - t0;
  Object.values(bufs).forEach((b) => b.destroy());
  return { boxes, valid, ms };
}

/** Boxes within `tol`, validity equal except where the reference side is at 1e-3 ± 1e-6. */
function compareDecode(
  got: { boxes: Float32Array; valid: Uint32Array },
  want: { boxes: Float32Array; valid: Uint8Array },
  tol: number,
): { pass: boolean; detail: string; maxAbsError: number } {
  const err = maxAbsDiff(got.boxes, want.boxes);
  let flips = 0;
  let excused = 0;
  for (let i = 0; i < want.valid.length; i++) {
    if (got.valid[i] === want.valid[i]) continue;
    const w = want.boxes[4 * i + 2]! - want.boxes[4 * i]!;
    const h = want.boxes[4 * i + 3]! - want.boxes[4 * i + 1]!;
    if (Math.abs(w - 1e-3) < 1e-6 || Math.abs(h - 1e-3) < 1e-6) excused++;
    else flips++;
  }
  const invalid = want.valid.reduce((s, v) => s + (v ? 0 : 1), 0);
  return {
    pass: err <= tol && flips === 0,
    maxAbsError: err,
    detail: `${want.valid.length} anchors, ${invalid} invalid; validity mismatches ${flips} (+${excused} at the 1e-3 edge)`,
  };
}

export async function runRpnTopN(device: GPUDevice, objectness: Float32Array, g: RpnGeometry, topN: number) {
  const { offsets, counts } = levelOffsets(g);
  const L = offsets.length;
  const sizes = rpnTopNBytes(L, topN);
  const bufs = {
    objectness: uploadStorage(device, 'test.objectness', objectness),
    topIndices: createStorageBuffer(device, 'test.topIndices', sizes.rows),
    topScores: createStorageBuffer(device, 'test.topScores', sizes.rows),
    topCounts: createStorageBuffer(device, 'test.topCounts', sizes.counts),
  };
  const kernel = sharedKernel(device, 'rpnTopN', createRpnTopN);
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'rpnTopN.test' });
  kernel.run(encoder, bufs, { offsets, counts, topN });
  device.queue.submit([encoder.finish()]);
  const n = await readU32(device, bufs.topCounts, L);
  const idx = await readU32(device, bufs.topIndices);
  const scr = await readF32(device, bufs.topScores);
  const ms = performance.now() - t0;
  Object.values(bufs).forEach((b) => b.destroy());
  const out: RpnTopN = { indices: [], scores: [] };
  for (let l = 0; l < L; l++) {
    out.indices.push(Array.from(idx.subarray(l * topN, l * topN + n[l]!)));
    out.scores.push(Array.from(scr.subarray(l * topN, l * topN + n[l]!)));
  }
  return { ...out, ms };
}

/** Indices exactly; sigmoid scores within 1e-6 (the GPU's exp). */
function compareTopN(got: RpnTopN, want: RpnTopN): { pass: boolean; detail: string; maxAbsError: number } {
  let maxAbsError = 0;
  for (let l = 0; l < want.indices.length; l++) {
    const g = got.indices[l]!;
    const w = want.indices[l]!;
    if (g.length !== w.length) return { pass: false, maxAbsError, detail: `level ${l}: ${g.length} entries, want ${w.length}` };
    const at = firstMismatch(g, w);
    if (at >= 0) return { pass: false, maxAbsError, detail: `level ${l} rank ${at}: anchor ${g[at]}, want ${w[at]}` };
    maxAbsError = Math.max(maxAbsError, maxAbsDiff(got.scores[l]!, want.scores[l]!));
  }
  const total = want.indices.reduce((s, r) => s + r.length, 0);
  return { pass: maxAbsError <= 1e-6, maxAbsError, detail: `${want.indices.length} levels, ${total} entries, indices identical` };
}

export async function runRpnProposalNms(
  device: GPUDevice,
  proposals: Float32Array,
  valid: ArrayLike<number>,
  objectness: Float32Array,
  top: RpnTopN,
  topN: number,
  nmsIou: number,
  numRois: number,
) {
  const L = top.indices.length;
  const idx = new Uint32Array(L * Math.max(1, topN));
  top.indices.forEach((row, l) => idx.set(row, l * topN));
  const roiBytes = rpnRoiBytes(numRois);
  const bufs = {
    proposals: uploadStorage(device, 'test.proposals', proposals),
    valid: uploadStorage(device, 'test.valid', Uint32Array.from(valid)),
    objectness: uploadStorage(device, 'test.objectness', objectness),
    topIndices: uploadStorage(device, 'test.topIndices', idx),
    topCounts: uploadStorage(
      device,
      'test.topCounts',
      Uint32Array.from(top.indices, (r) => r.length),
    ),
    // Filled with garbage first: every row must be written.
    rois: uploadStorage(device, 'test.rois', new Float32Array(roiBytes.rois / 4).fill(-7)),
    roiScores: uploadStorage(device, 'test.roiScores', new Float32Array(roiBytes.scores / 4).fill(-7)),
    roiCount: uploadStorage(device, 'test.roiCount', new Uint32Array(4).fill(99)),
  };
  const kernel = sharedKernel(device, 'rpnProposalNms', createRpnProposalNms);
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'rpnProposalNms.test' });
  kernel.run(encoder, bufs, { numLevels: L, topN, numRois, nmsIou });
  device.queue.submit([encoder.finish()]);
  const rois = await readF32(device, bufs.rois, 4 * numRois);
  const scores = await readF32(device, bufs.roiScores, numRois);
  const count = await readU32(device, bufs.roiCount, 4);
  const ms = performance.now() - t0;
  Object.values(bufs).forEach((b) => b.destroy());
  return { rois, scores, count: count[0]!, keptTotal: count[1]!, pad: [count[2]!, count[3]!], ms };
}

/** RoI rows exactly (they are copies), scores within 1e-6, counts equal. */
export function compareProposals(
  got: { rois: Float32Array; scores: Float32Array; count: number; keptTotal: number },
  want: RpnProposals,
  tol = 0,
): { pass: boolean; detail: string; maxAbsError: number } {
  const maxAbsError = maxAbsDiff(got.rois, want.rois);
  const scoreErr = maxAbsDiff(got.scores, want.scores);
  const countsOk = got.count === want.count && got.keptTotal === want.keptTotal;
  let rowMismatch = -1;
  for (let r = 0; r < want.rois.length / 4 && rowMismatch < 0; r++) {
    for (let k = 0; k < 4; k++) if (Math.abs(got.rois[4 * r + k]! - want.rois[4 * r + k]!) > tol) rowMismatch = r;
  }
  const pass = countsOk && rowMismatch < 0 && scoreErr <= 1e-6;
  return {
    pass,
    maxAbsError: Math.max(maxAbsError, scoreErr),
    detail:
      `count ${got.count}/${want.count}, kept ${got.keptTotal}/${want.keptTotal}, ` +
      `per level ${want.keptRanks.map((k) => k.length).join('+')}` +
      (rowMismatch >= 0 ? `; first differing RoI row ${rowMismatch}` : '; RoI rows identical') +
      `; score err ${scoreErr.toExponential(2)}`,
  };
}

const f = Math.fround;

export async function rpnDecodeConformance(device: GPUDevice): Promise<CaseResult[]> {
  return runCases('rpnDecode', device, [
    [
      'hand: first anchors of each level (torchvision values), zero deltas',
      async () => {
        // Cell anchors round([−w·S, −h·S, w·S, h·S] / 2), h = √r, w = 1/h, by hand:
        //   S = 16,  r = 0.5: w·S = 22.627, h·S = 11.314 → [−11, −6, 11, 6]; r = 1 → ±8; r = 2 → [−6, −11, 6, 11]
        //   S = 32:  [−23, −11, 23, 11], ±16, [−11, −23, 11, 23]
        //   S = 64:  [−45, −23, 45, 23], ±32, [−23, −45, 23, 45]
        //   S = 128: [−91, −45, 91, 45], ±64, [−45, −91, 45, 91]
        //   S = 256: [−181, −91, 181, 91], ±128, [−91, −181, 91, 181]
        // Zero deltas decode to the anchor itself: the proposal at (row 1, col 2) is the cell
        // anchor + (2s, s, 2s, s), clipped to [0, 1e6] (a huge input: only the lower clip acts).
        const hand = [
          [
            [-11, -6, 11, 6],
            [-8, -8, 8, 8],
            [-6, -11, 6, 11],
          ],
          [
            [-23, -11, 23, 11],
            [-16, -16, 16, 16],
            [-11, -23, 11, 23],
          ],
          [
            [-45, -23, 45, 23],
            [-32, -32, 32, 32],
            [-23, -45, 23, 45],
          ],
          [
            [-91, -45, 91, 45],
            [-64, -64, 64, 64],
            [-45, -91, 45, 91],
          ],
          [
            [-181, -91, 181, 91],
            [-128, -128, 128, 128],
            [-91, -181, 91, 181],
          ],
        ];
        const g = geometry512();
        const anchors = rpnAnchors(g);
        const { offsets, total } = levelOffsets(g);
        const errors: string[] = [];
        hand.forEach((cells, l) =>
          cells.forEach((want, a) => {
            const got = Array.from(anchors.subarray(4 * (offsets[l]! + a), 4 * (offsets[l]! + a) + 4));
            if (firstMismatch(got, want) >= 0) errors.push(`reference level ${l} anchor ${a}: ${got} want ${want}`);
          }),
        );
        const big = { width: 1e6, height: 1e6 };
        const out = await runRpnDecode(device, new Float32Array(4 * total), g, big);
        hand.forEach((cells, l) =>
          cells.forEach((want, a) => {
            const s = g.levels[l]!.stride;
            const i = offsets[l]! + (1 * g.levels[l]!.width + 2) * 3 + a;
            const shifted = [want[0]! + 2 * s, want[1]! + s, want[2]! + 2 * s, want[3]! + s].map((v) => Math.min(Math.max(v, 0), 1e6));
            const got = Array.from(out.boxes.subarray(4 * i, 4 * i + 4));
            if (firstMismatch(got, shifted) >= 0) errors.push(`GPU level ${l} (1, 2, ${a}): ${got} want ${shifted}`);
          }),
        );
        return { pass: errors.length === 0, detail: errors.length ? errors.slice(0, 4).join('; ') : '15 cell anchors exact (reference and GPU)', ms: out.ms };
      },
    ],
    [
      'hand: decode, clamp, clip and the small-box flag',
      async () => {
        // One level 16x16, stride 4, size 16, ratio 1 only: anchor (row 10, col 10) = [32, 32, 48, 48]
        // (w = h = 16, centre (40, 40)).
        //   d = (0.5, −0.25, ln 2, 0) → centre (48, 36), size (32, 16) → [32, 28, 64, 44]
        //   d = (0, 0, 10, 0): dw clamped to log(62.5) → width 1000 → [−460, 32, 540, 48] → clipped [0, 32, 64, 48] (input 64)
        //   d = (0, 0, 0, −20): height 16·e^−20 ≈ 3.3e−8 < 1e−3 → invalid
        const g: RpnGeometry = { levels: [{ height: 16, width: 16, stride: 4, size: 16 }], ratios: [1] };
        const deltas = new Float32Array(4 * 256);
        const put = (row: number, col: number, d: number[]) => deltas.set(d, 4 * (row * 16 + col));
        put(10, 10, [0.5, -0.25, Math.LN2, 0]);
        put(10, 11, [0, 0, 10, 0]); // anchor [36, 32, 52, 48], centre 44 → [−456, 32, 544, 48] → [0, 32, 64, 48]
        put(10, 12, [0, 0, 0, -20]);
        const input = { width: 64, height: 64 };
        const out = await runRpnDecode(device, deltas, g, input);
        const row = (i: number) => Array.from(out.boxes.subarray(4 * i, 4 * i + 4));
        const i0 = 10 * 16 + 10;
        const want = [
          [32, 28, 64, 44],
          [0, 32, 64, 48],
        ];
        const err = Math.max(maxAbsDiff(row(i0), want[0]!), maxAbsDiff(row(i0 + 1), want[1]!));
        const validOk = out.valid[i0] === 1 && out.valid[i0 + 1] === 1 && out.valid[i0 + 2] === 0 && out.valid[0] === 1;
        const ref = rpnDecodeReference(deltas, g, input);
        const refErr = maxAbsDiff(ref.boxes.subarray(4 * i0, 4 * i0 + 8), want.flat());
        return {
          pass: err <= 1e-4 && refErr <= 1e-4 && validOk && ref.valid[i0 + 2] === 0,
          maxAbsError: err,
          detail: `GPU ${row(i0)} | ${row(i0 + 1)}, valid ${out.valid[i0]},${out.valid[i0 + 1]},${out.valid[i0 + 2]}; reference err ${refErr}`,
          ms: out.ms,
        };
      },
    ],
    [
      'random: the 512 model geometry (65472 anchors), noise + objects + clamped + tiny boxes',
      async () => {
        const g = geometry512();
        const { rpnDeltas } = syntheticRpnHeads(g, 31);
        const out = await runRpnDecode(device, rpnDeltas, g, INPUT_512);
        return { ...compareDecode(out, rpnDecodeReference(rpnDeltas, g, INPUT_512), 2e-3), ms: out.ms };
      },
    ],
    [
      'random: non-square input 200x120, 4 ratios, odd level sizes',
      async () => {
        const input = { width: 200, height: 120 };
        const g = rpnGeometry(input, [4, 8, 16], [12, 24, 48], [0.25, 0.5, 1, 3]);
        const r = rng(32);
        const { total } = levelOffsets(g);
        const deltas = normals(r, 4 * total, 1);
        const out = await runRpnDecode(device, deltas, g, input);
        return { ...compareDecode(out, rpnDecodeReference(deltas, g, input), 2e-3), ms: out.ms };
      },
    ],
    [
      'large: 1344x1344 input, 451k anchors, anchor sizes 32..512',
      async () => {
        const input = { width: 1344, height: 1344 };
        const g = rpnGeometry(input, [4, 8, 16, 32, 64], [32, 64, 128, 256, 512], [0.5, 1, 2]);
        const { total } = levelOffsets(g);
        const deltas = normals(rng(33), 4 * total, 0.5);
        const out = await runRpnDecode(device, deltas, g, input);
        const cmp = compareDecode(out, rpnDecodeReference(deltas, g, input), 4e-3);
        return { ...cmp, detail: `${Math.ceil(total / 64)} workgroups; ${cmp.detail}`, ms: out.ms };
      },
    ],
  ]);
}

export async function rpnTopNConformance(device: GPUDevice): Promise<CaseResult[]> {
  const g = geometry512();
  const { offsets, counts } = levelOffsets(g);
  const randomCase = async (objectness: Float32Array, topN: number, geometry = g) => {
    const lv = levelOffsets(geometry);
    const got = await runRpnTopN(device, objectness, geometry, topN);
    return { ...compareTopN(got, rpnTopNReference(objectness, lv.offsets, lv.counts, topN)), ms: got.ms };
  };
  return runCases('rpnTopN', device, [
    [
      'hand: two levels (4 and 6 anchors), topN 3, ties by lower anchor index',
      async () => {
        // level 0 logits: 0.5 −1 2 0.5 → anchors 2, 0, 3 ; level 1 (anchors 4..9): 1 1 1 −3 7 1 → 8, 4, 5
        const g2: RpnGeometry = {
          levels: [
            { height: 2, width: 2, stride: 4, size: 8 },
            { height: 2, width: 3, stride: 8, size: 16 },
          ],
          ratios: [1],
        };
        const logits = new Float32Array([0.5, -1, 2, 0.5, 1, 1, 1, -3, 7, 1]);
        const got = await runRpnTopN(device, logits, g2, 3);
        const s = (x: number) => f(1 / (1 + Math.exp(-x)));
        const want: RpnTopN = {
          indices: [
            [2, 0, 3],
            [8, 4, 5],
          ],
          scores: [
            [s(2), s(0.5), s(0.5)],
            [s(7), s(1), s(1)],
          ],
        };
        return { ...compareTopN(got, want), ms: got.ms };
      },
    ],
    ['512 geometry, N(0, 3) logits, topN 1000 (P5: 768 and P6: 192 anchors take all)', () => randomCase(normals(rng(41), levelOffsets(g).total, 3), 1000)],
    [
      '512 geometry, heavy ties (logits on 5 values), topN 1000',
      async () => {
        const r = rng(42);
        const logits = new Float32Array(levelOffsets(g).total).map(() => Math.floor(r() * 5) - 2);
        return randomCase(logits, 1000);
      },
    ],
    [
      'all logits identical: the first topN anchors of each level',
      async () => {
        const logits = new Float32Array(levelOffsets(g).total).fill(-1.5);
        const got = await runRpnTopN(device, logits, g, 1000);
        const ok = got.indices.every((row, l) => row.length === Math.min(1000, counts[l]!) && row.every((a, i) => a === offsets[l]! + i));
        return { pass: ok, detail: ok ? 'ranks = anchor order' : `level 0 starts ${got.indices[0]!.slice(0, 5)}`, ms: got.ms };
      },
    ],
    [
      'topN 1 and topN 1024 (the maximum); saturated logits ±90',
      async () => {
        const r = rng(43);
        const logits = normals(r, levelOffsets(g).total, 30).map((v) => Math.max(-90, Math.min(90, v)));
        const a = await randomCase(logits, 1);
        const b = await randomCase(logits, 1024);
        return { pass: a.pass && b.pass, detail: `1: ${a.detail}; 1024: ${b.detail}`, maxAbsError: Math.max(a.maxAbsError, b.maxAbsError), ms: a.ms + b.ms };
      },
    ],
    [
      'a level with 0 anchors and one with 1',
      async () => {
        const g3: RpnGeometry = {
          levels: [
            { height: 0, width: 4, stride: 4, size: 8 },
            { height: 1, width: 1, stride: 8, size: 16 },
            { height: 3, width: 3, stride: 16, size: 32 },
          ],
          ratios: [1],
        };
        const logits = normals(rng(44), 10, 1);
        return randomCase(logits, 5, g3);
      },
    ],
  ]);
}

export async function rpnProposalNmsConformance(device: GPUDevice): Promise<CaseResult[]> {
  const c = MASKRCNN_512_RPN;
  /** Reference decode + top-n as the kernel's input, so this case tests the NMS alone. */
  const nmsCase = async (
    g: RpnGeometry,
    objectness: Float32Array,
    rpnDeltas: Float32Array,
    topN: number,
    nmsIou: number,
    numRois: number,
    input = INPUT_512,
  ) => {
    const { offsets, counts } = levelOffsets(g);
    const { boxes, valid } = rpnDecodeReference(rpnDeltas, g, input);
    const top = rpnTopNReference(objectness, offsets, counts, topN);
    const want = rpnProposalNmsReference(boxes, valid, objectness, top, nmsIou, numRois);
    const got = await runRpnProposalNms(device, boxes, valid, objectness, top, topN, nmsIou, numRois);
    const cmp = compareProposals(got, want);
    const padOk = got.pad[0] === 0 && got.pad[1] === 0;
    return { ...cmp, pass: cmp.pass && padOk, ms: got.ms };
  };
  return runCases('rpnProposalNms', device, [
    [
      'hand: one level, 4 boxes, IoU 0.7; an invalid box neither kept nor suppressing',
      async () => {
        // Boxes by rank (logits 4, 3, 2, 1):
        //   0 [0, 0, 10, 10]          kept
        //   1 [0, 0, 10, 9]   IoU 0.9 with 0 → suppressed
        //   2 [0, 0, 10, 0]   height 0 → invalid (dropped before the NMS)
        //   3 [5, 0, 15, 10]  IoU 50/150 = 0.33 → kept
        // R = 4 → rows 0, 3 then two zero rows; count 2.
        const proposals = new Float32Array([0, 0, 10, 10, 0, 0, 10, 9, 0, 0, 10, 0, 5, 0, 15, 10]);
        const valid = [1, 1, 0, 1];
        const objectness = new Float32Array([4, 3, 2, 1]);
        const top: RpnTopN = { indices: [[0, 1, 2, 3]], scores: [[0, 0, 0, 0]] };
        const got = await runRpnProposalNms(device, proposals, valid, objectness, top, 4, 0.7, 4);
        const s = (x: number) => f(1 / (1 + Math.exp(-x)));
        const wantRois = [0, 0, 10, 10, 5, 0, 15, 10, 0, 0, 0, 0, 0, 0, 0, 0];
        const ok = got.count === 2 && got.keptTotal === 2 && firstMismatch(got.rois, wantRois) < 0 && maxAbsDiff(got.scores, [s(4), s(1), 0, 0]) <= 1e-6;
        return { pass: ok, detail: `count ${got.count}, rois ${Array.from(got.rois)}`, ms: got.ms };
      },
    ],
    [
      'hand: two levels interleave by logit; level NMS does not cross levels; R cuts',
      async () => {
        // level 0: anchors 0, 1 (logits 5, 1), level 1: anchors 2, 3 (logits 3, 0.5); all the same
        // box → within each level the second is suppressed, across levels not: kept 0 (5), 2 (3).
        // R = 1 → only anchor 0; count 1, kept 2.
        const box = [1, 1, 20, 20];
        const proposals = new Float32Array([...box, ...box, ...box, ...box]);
        const objectness = new Float32Array([5, 1, 3, 0.5]);
        const top: RpnTopN = {
          indices: [
            [0, 1],
            [2, 3],
          ],
          scores: [
            [0, 0],
            [0, 0],
          ],
        };
        const a = await runRpnProposalNms(device, proposals, [1, 1, 1, 1], objectness, top, 2, 0.7, 1);
        const b = await runRpnProposalNms(device, proposals, [1, 1, 1, 1], objectness, top, 2, 0.7, 3);
        const ok =
          a.count === 1 &&
          a.keptTotal === 2 &&
          b.count === 2 &&
          firstMismatch(b.rois, [...box, ...box, 0, 0, 0, 0]) < 0 &&
          maxAbsDiff(b.scores, [f(1 / (1 + Math.exp(-5))), f(1 / (1 + Math.exp(-3))), 0]) <= 1e-6;
        return { pass: ok, detail: `R=1: count ${a.count} kept ${a.keptTotal}; R=3: count ${b.count}, scores ${Array.from(b.scores)}`, ms: a.ms + b.ms };
      },
    ],
    [
      '512 geometry, synthetic heads (6 objects), topN 1000, R 500',
      () => {
        const g = geometry512();
        const { objectness, rpnDeltas } = syntheticRpnHeads(g, 51);
        return nmsCase(g, objectness, rpnDeltas, c.rpnPreNmsTopN, c.rpnNmsIou, c.rpnPostNmsTopN);
      },
    ],
    [
      '512 geometry, 20 objects, R 1000 (torchvision test value), IoU 0.5',
      () => {
        const g = geometry512();
        const { objectness, rpnDeltas } = syntheticRpnHeads(g, 52, 20);
        return nmsCase(g, objectness, rpnDeltas, 1000, 0.5, 1000);
      },
    ],
    [
      'fewer proposals than R: small geometry, everything kept padded',
      () => {
        const input = { width: 64, height: 64 };
        const g = rpnGeometry(input, [8, 16], [16, 32], [1]);
        const total = levelOffsets(g).total;
        const r = rng(53);
        return nmsCase(g, normals(r, total, 1), normals(r, 4 * total, 0.2), 1000, 0.7, 500, input);
      },
    ],
    [
      'all proposals invalid: count 0, all rows zero',
      async () => {
        const g: RpnGeometry = { levels: [{ height: 4, width: 4, stride: 4, size: 8 }], ratios: [1] };
        const deltas = new Float32Array(64);
        for (let i = 0; i < 16; i++) deltas[4 * i + 2] = -30;
        return nmsCase(g, normals(rng(54), 16, 1), deltas, 10, 0.7, 8, { width: 16, height: 16 });
      },
    ],
  ]);
}
