// Mask R-CNN detection stage up to NMS (torchvision RoIHeads.postprocess_detections):
// per RoI softmax, per foreground class box decoding, clipping and the candidate test, then
// per class the candidates sorted by score — the per-class lists of class_topk.wgsl's format,
// which fast_nms / greedy_nms and detection_cap consume with boxClassStride = R.
// Reference: app/reference/maskRcnnBoxDecode.ts (same maths, same fp32 order).
//
// decode — one invocation per RoI r < R (rows r ≥ the valid proposal count are padding):
//   p = softmax(classLogits[r]) (max subtracted); for each foreground class c (column c + 1):
//   proposal (x1, y1, x2, y2) in input pixels, w = x2 − x1, cx = x1 + 0.5·w (y alike),
//   dx = δx / wx, dw = min(δw / ww, deltaClip) (y, h alike), px = dx·w + cx, pw = exp(dw)·w,
//   box = (px ∓ 0.5·pw, py ∓ 0.5·ph) clamped to [0, W]×[0, H];
//   boxes[c, r] = box / (W, H, W, H) (relative, as DetectionRecords hold them);
//   scores[c, r] = p[c + 1] if p[c + 1] > scoreThreshold and both sides ≥ minSize, else
//   NOT_CANDIDATE (−1; also for padding rows).
// selectClass — one workgroup per class c: the class's candidates get 64-bit keys
//   (orderable(score), ~r) that order as (score desc, r asc), are gathered into workgroup
//   memory and bitonic-sorted descending; the first min(topK, n) are written:
//   topIndices[c, i] = r, topScores[c, i], topCounts[c]; candidates[0] += n (all candidates).
//
// Bindings: 0 classLogits [R, K + 1], 1 boxDeltas [R, (K + 1)·4], 2 proposals [R, 4] (read),
//   3 proposalCount (u32, valid RoIs at word params.countWord; read), 4 boxes [K, R] vec4,
//   5 scores [K, R] f32, 6 candidates (word 0 = count; cleared by the host), 7 topIndices
//   [K, topK] u32, 8 topScores [K, topK] f32, 9 topCounts [K] u32, 10 params (uniform).
//   decode uses 0–5, selectClass 3 and 5–9: each pipeline stays within 8 storage buffers.
// Dispatch, in one pass: decode (ceil(R / 64), 1, 1), then selectClass (K, 1, 1).

// Params: app/gpu/kernels/maskRcnnBoxDecode.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  numRois: u32,         //  0: R
  numClasses: u32,      //  4: K foreground classes (logit row stride K + 1)
  topK: u32,            //  8: row stride of the per-class outputs (≤ MAX_TOP_K)
  countWord: u32,       // 12: word of proposalCount holding the valid RoI count
  inputWidth: f32,      // 16: W, input pixels
  inputHeight: f32,     // 20: H
  scoreThreshold: f32,  // 24: candidate test score > this (0.05)
  minSize: f32,         // 28: smallest kept side, input pixels (0.01)
  weights: vec4<f32>,   // 32: box coder (wx, wy, ww, wh) = (10, 10, 5, 5)
  deltaClip: f32,       // 48: log(1000 / 16)
  _pad0: u32,           // 52
  _pad1: u32,           // 56
  _pad2: u32,           // 60
}

@group(0) @binding(0) var<storage, read> classLogits: array<f32>;
@group(0) @binding(1) var<storage, read> boxDeltas: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> proposals: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> proposalCount: array<u32>;
@group(0) @binding(4) var<storage, read_write> boxes: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> scores: array<f32>;
@group(0) @binding(6) var<storage, read_write> candidates: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read_write> topIndices: array<u32>;
@group(0) @binding(8) var<storage, read_write> topScores: array<f32>;
@group(0) @binding(9) var<storage, read_write> topCounts: array<u32>;
@group(0) @binding(10) var<uniform> params: Params;

// 64 invocations, as the other box kernels: barriers cost in proportion to the workgroup
// size on software adapters.
const WORKGROUP: u32 = 64u;
// Sort capacity: a class has at most R candidates; 2 × 1024 × 4 B = 8 KiB of workgroup
// memory covers torchvision's 1000 test proposals. The host rejects R above it.
const SORT_CAPACITY: u32 = 1024u;
// Softmax scores are ≥ 0, so −1 can never be a candidate's score.
const NOT_CANDIDATE: f32 = -1.0;

//!include sort_keys

var<workgroup> gathered: atomic<u32>;
// `gathered` once the gather is done, read with workgroupUniformLoad (a plain u32: the
// atomic overload of workgroupUniformLoad is not everywhere yet).
var<workgroup> gatheredCount: u32;

fn validRois() -> u32 {
  return min(proposalCount[params.countWord], params.numRois);
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn decode(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  let numRois = params.numRois;
  if (r >= numRois) {
    return;
  }
  let k = params.numClasses;
  if (r >= validRois()) {
    for (var c = 0u; c < k; c++) {
      boxes[c * numRois + r] = vec4<f32>(0.0);
      scores[c * numRois + r] = NOT_CANDIDATE;
    }
    return;
  }
  // Softmax over the K + 1 logits: max subtracted, sum in column order.
  let stride = k + 1u;
  let row = r * stride;
  var m = classLogits[row];
  for (var j = 1u; j < stride; j++) {
    m = max(m, classLogits[row + j]);
  }
  var sum = 0.0;
  for (var j = 0u; j < stride; j++) {
    sum += exp(classLogits[row + j] - m);
  }

  let proposal = proposals[r];
  let w = proposal.z - proposal.x;
  let h = proposal.w - proposal.y;
  let cx = proposal.x + 0.5 * w;
  let cy = proposal.y + 0.5 * h;
  let size = vec2<f32>(params.inputWidth, params.inputHeight);
  for (var c = 0u; c < k; c++) {
    let d = boxDeltas[row + c + 1u];
    let dx = d.x / params.weights.x;
    let dy = d.y / params.weights.y;
    let dw = min(d.z / params.weights.z, params.deltaClip);
    let dh = min(d.w / params.weights.w, params.deltaClip);
    let px = dx * w + cx;
    let py = dy * h + cy;
    let halfW = 0.5 * (exp(dw) * w);
    let halfH = 0.5 * (exp(dh) * h);
    let lo = clamp(vec2<f32>(px - halfW, py - halfH), vec2<f32>(0.0), size);
    let hi = clamp(vec2<f32>(px + halfW, py + halfH), vec2<f32>(0.0), size);
    let o = c * numRois + r;
    boxes[o] = vec4<f32>(lo / size, hi / size);
    let s = exp(classLogits[row + c + 1u] - m) / sum;
    let side = hi - lo;
    let candidate = s > params.scoreThreshold && side.x >= params.minSize && side.y >= params.minSize;
    scores[o] = select(NOT_CANDIDATE, s, candidate);
  }
}

@compute @workgroup_size(WORKGROUP, 1, 1)
fn selectClass(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let c = wid.x;
  let numRois = params.numRois;
  let valid = validRois();
  if (tid == 0u) {
    atomicStore(&gathered, 0u);
  }
  workgroupBarrier();
  // Gather the class's candidates (unordered).
  let base = c * numRois;
  for (var r = tid; r < valid; r += WORKGROUP) {
    let s = scores[base + r];
    if (s != NOT_CANDIDATE) {
      let slot = atomicAdd(&gathered, 1u);
      keyHi[slot] = orderable(s);
      keyLo[slot] = ~r;
    }
  }
  workgroupBarrier();
  if (tid == 0u) {
    gatheredCount = atomicLoad(&gathered);
  }
  let count = workgroupUniformLoad(&gatheredCount);
  // Padding keys (0, 0) sort last (every candidate's hi has its top bit set).
  sortKeysDescending(tid, count);
  let kept = min(count, params.topK);
  let row = c * params.topK;
  for (var i = tid; i < kept; i += WORKGROUP) {
    topIndices[row + i] = ~keyLo[i];
    topScores[row + i] = valueFromKey(keyHi[i]);
  }
  if (tid == 0u) {
    topCounts[c] = kept;
    atomicAdd(&candidates[0], count);
  }
}
