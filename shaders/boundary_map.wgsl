// boundaryMap — B2Inst's boundary-aware mask scoring inputs (Kim et al., WACV 2021;
// /work/shared/MODELS.md §5): per record, the predicted mask, its Laplacian boundary and the
// record's RoI features packed into the scoring head's input [maxDetections, 2 + C, R', R'].
// Reference: app/reference/boundaryMap.ts, which says why each choice below was made.
//
// Record n < count, from the blender's logits [maxDetections, R, R] (R = 56, row n = record n):
//   v(y, x) = the mask the boundary is taken of: SOURCE_BINARY 1 where logit ≥ 0
//     (probability ≥ 0.5, the paste's threshold, decided on the logit so no exp rounding can
//     flip it), else 0; SOURCE_PROBABILITY sigmoid(logit);
//   L(y, x) = 8·v(y, x) − Σ of its 8 neighbours (kernel [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]],
//     zero padding outside the R×R RoI); boundary b = 1 where max(L, 0) > boundaryThreshold
//     (0.1), else 0 (BMask R-CNN's recipe: clamp ≥ 0, binarise > 0.1), or with binarise = 0
//     b = max(L, 0) (models/blendmask's head input: soft boundary of the probability);
//   the R×R maps go to R'×R' by f×f max pooling, f = R / R' (R' = 28: f = 2; R' = 56: f = 1,
//   the maps themselves, as models/blendmask's head takes them):
//     channel 0 = max of sigmoid(logit) (the predicted mask probability),
//     channel 1 = max of b (a 1-pixel boundary stays a connected line);
//   channels 2 .. 2 + C − 1 = roiFeatures[n] [C, R', R'] (RoIAlign's output on the records).
// Rows at or past the count are 0.
// A run writes channels firstChannel .. firstChannel + outChannels − 1 of that layout into
// output [maxDetections, outChannels, R', R']: the whole tensor (0, 2 + C), or one input of a
// head that takes them apart (mask: (0, 1); boundary: (1, 1); C = 0, the features being
// RoIAlign's own buffer).
//
// Bindings: 0 params, 1 records (read; the count), 2 maskLogits [maxDetections, R, R] f32,
//   3 roiFeatures [maxDetections, C, R', R'] f32 (C = 0: any buffer), 4 output
//   [maxDetections, outChannels, R', R'] f32.
// Dispatch: one invocation per output value, maxDetections·outChannels·R'² of them in
//   workgroups of 64 folded into (x ≤ 65535, y) (common/folded_index.wgsl: the entry point).

// Params: app/gpu/kernels/boundaryMap.ts writes it by field name, laid out from this
// declaration (app/gpu/uniforms.ts; the byte offsets in the comments are checked by uniforms.test.ts).
struct Params {
  maxDetections: u32,        //  0: rows
  maskSize: u32,             //  4: R (56)
  outSize: u32,              //  8: R' (28; R % R' == 0)
  channels: u32,             // 12: C, RoI feature channels
  source: u32,               // 16: SOURCE_BINARY | SOURCE_PROBABILITY
  boundaryThreshold: f32,    // 20: 0.1
  firstChannel: u32,         // 24: first channel of the packed layout this run writes
  outChannels: u32,          // 28: channels it writes (2 + C: the whole packed tensor)
  binarise: u32,             // 32: 1 = b ∈ {0, 1} (> threshold), 0 = the clamped Laplacian itself
}

const SOURCE_BINARY: u32 = 0u;
const SOURCE_PROBABILITY: u32 = 1u;

//!include record
//!include records

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> records: Records;
@group(0) @binding(2) var<storage, read> maskLogits: array<f32>;
@group(0) @binding(3) var<storage, read> roiFeatures: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

const WORKGROUP: u32 = 64u;

fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) {
    return 1.0 / (1.0 + exp(-x));
  }
  let e = exp(x);
  return e / (1.0 + e);
}

// v at (y, x) of plane `base`; 0 outside the R×R RoI (the Laplacian's zero padding).
fn maskValue(base: u32, y: i32, x: i32) -> f32 {
  let r = i32(params.maskSize);
  if (y < 0 || x < 0 || y >= r || x >= r) {
    return 0.0;
  }
  let logit = maskLogits[base + u32(y * r + x)];
  if (params.source == SOURCE_PROBABILITY) {
    return sigmoid(logit);
  }
  return select(0.0, 1.0, logit >= 0.0);
}

fn boundaryAt(base: u32, y: i32, x: i32) -> f32 {
  var neighbours = 0.0;
  for (var dy = -1; dy <= 1; dy++) {
    for (var dx = -1; dx <= 1; dx++) {
      if (dy != 0 || dx != 0) {
        neighbours += maskValue(base, y + dy, x + dx);
      }
    }
  }
  let clamped = max(8.0 * maskValue(base, y, x) - neighbours, 0.0);
  if (params.binarise == 0u) {
    return clamped;
  }
  return select(0.0, 1.0, clamped > params.boundaryThreshold);
}

//!include folded_index

fn atIndex(index: u32) {
  let out = params.outSize;
  let planes = params.outChannels;
  if (index >= params.maxDetections * planes * out * out) {
    return;
  }
  let n = index / (planes * out * out);
  if (n >= records.count) {
    output[index] = 0.0;
    return;
  }
  let channel = params.firstChannel + (index / (out * out)) % planes;
  let oy = (index / out) % out;
  let ox = index % out;
  if (channel >= 2u) {
    output[index] = roiFeatures[((n * params.channels + channel - 2u) * out + oy) * out + ox];
    return;
  }
  let r = params.maskSize;
  let f = r / out;
  let base = n * r * r;
  var pooled = 0.0;
  for (var dy = 0u; dy < f; dy++) {
    for (var dx = 0u; dx < f; dx++) {
      let y = oy * f + dy;
      let x = ox * f + dx;
      if (channel == 0u) {
        pooled = max(pooled, sigmoid(maskLogits[base + y * r + x]));
      } else {
        pooled = max(pooled, boundaryAt(base, i32(y), i32(x)));
      }
    }
  }
  output[index] = pooled;
}
