// maskCoefficients — proto-space instance masks from prototypes and coefficients.
//
// For each kept detection n (n < records.count) and proto pixel (r, c):
//   m[n, r, c] = act(Σ_k protos[r, c, k] · coefficients[sourceIndex_n, k])
// inside the instance's crop box (common/mask_crop.wgsl: 'yolact-padded', 'integer' or
// 'none'), 0 outside. act = sigmoid (YOLACT) or identity (YOLO-seg logits).
// Reference: app/reference/maskAssembly.ts.
// It also zeroes each record's maskArea, which maskUpsample then accumulates atomically,
// so the chain can be re-run on the same records buffer.
//
// Bindings (group 0):
//   0 params       uniform  Params (below; written by field name in app/gpu/kernels/maskCoefficients.ts)
//   1 records      storage  read_write  DetectionRecords (mirrors app/gpu/layout.ts)
//   2 coefficients storage  read  f32, element (i, k) at offset + i·indexStride + k·kStride
//   3 protos       storage  read  f32 [H, W, K] (layout 0, NHWC) or [K, H, W] (layout 1, NCHW)
//   4 protoMasks   storage  read_write  f32 [maxDetections, H, W]
// Dispatch: (ceil(W / 8), ceil(H / 8), 1); one invocation per proto pixel, looping over
// the kept detections (count is only known on the GPU). The coefficients are read straight
// from storage: no workgroup memory and no barriers, which are expensive on SwiftShader (a
// workgroup per (tile, detection) cost seconds at maxDetections 100 there; workgroup-memory
// coefficient chunks made pipeline creation slow, 6 s for 8 KiB).

struct Params {
  protoWidth: u32,
  protoHeight: u32,
  numPrototypes: u32,
  maxDetections: u32,
  protoLayout: u32,
  cropMode: u32,
  activation: u32,
  coeffOffset: u32,
  coeffIndexStride: u32,
  coeffKStride: u32,
  _pad0: u32,
  _pad1: u32,
}

//!include record
//!include records

// 8x8 = 64 invocations a workgroup, one proto pixel each.
const TILE = 8u;
const LAYOUT_NCHW = 1u;
const ACTIVATION_SIGMOID = 0u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> records: Records;
@group(0) @binding(2) var<storage, read> coefficients: array<f32>;
@group(0) @binding(3) var<storage, read> protos: array<f32>;
@group(0) @binding(4) var<storage, read_write> protoMasks: array<f32>;

//!include mask_crop

// Two-branch logistic: exp never overflows.
fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) {
    return 1.0 / (1.0 + exp(-x));
  }
  let e = exp(x);
  return e / (1.0 + e);
}

@compute @workgroup_size(TILE, TILE, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let count = min(records.count, params.maxDetections);
  let k = params.numPrototypes;
  let w = params.protoWidth;
  let h = params.protoHeight;
  let c = gid.x;
  let r = gid.y;
  if (c == 0u && r == 0u) {
    for (var n = 0u; n < count; n++) {
      records.items[n].maskArea = 0u;
    }
  }
  if (c >= w || r >= h) {
    return;
  }
  // Where this pixel's K prototype values start and how far apart they are.
  var protoBase = (r * w + c) * k;
  var protoStride = 1u;
  if (params.protoLayout == LAYOUT_NCHW) {
    protoBase = r * w + c;
    protoStride = w * h;
  }
  let fc = f32(c);
  let fr = f32(r);
  for (var n = 0u; n < count; n++) {
    // Only box and sourceIndex are read: invocation (0, 0) writes maskArea meanwhile.
    let box = records.items[n].box;
    let cols = cropRange(box.x, box.z, f32(w));
    let rows = cropRange(box.y, box.w, f32(h));
    var value = 0.0;
    if (fc >= cols.x && fc < cols.y && fr >= rows.x && fr < rows.y) {
      let coeffBase = params.coeffOffset + records.items[n].sourceIndex * params.coeffIndexStride;
      var sum = 0.0;
      for (var i = 0u; i < k; i++) {
        sum += protos[protoBase + i * protoStride] * coefficients[coeffBase + i * params.coeffKStride];
      }
      value = select(sum, sigmoid(sum), params.activation == ACTIVATION_SIGMOID);
    }
    protoMasks[(n * h + r) * w + c] = value;
  }
}
