// rpnDecode — anchors generated in place + RPN box decoding (torchvision AnchorGenerator +
// BoxCoder(1, 1, 1, 1)), one invocation per anchor (reference: app/reference/rpnDecode.ts).
//
// Anchor i lies in the level l whose [first, first + H·W·A) holds it; within the level,
// i − first = (row · W + col) · A + a (the order of the RPN head's outputs). Its cell anchor is
// h = √ratio_a, w = 1 / h, round([−w·S, −h·S, w·S, h·S] / 2) (S = the level's anchor size,
// round half to even as torch.round), shifted by (col · stride, row · stride).
// Decode: widths/centres of the anchor, dw, dh ≤ clip = log(1000/16), centre + d·size,
// size · exp(d), then clip x to [0, inputWidth], y to [0, inputHeight]. valid = both sides
// ≥ minSize (1e-3; remove_small_boxes): invalid proposals still take part in the per-level
// top-n (as in torchvision, which filters after it) and are dropped by the NMS kernel.
//
// Bindings: 0 params (uniform), 1 rpnDeltas [A_total, 4] f32 (read), 2 proposals [A_total]
//   vec4 xyxy f32 (write), 3 valid [A_total] u32 (write).
// Dispatch: ceil(A_total / 64) workgroups folded into (x ≤ 65535, y) (common/folded_index.wgsl:
//   the entry point).

// Params: app/gpu/kernels/rpnDecode.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  numLevels: u32,                     //   0
  numRatios: u32,                     //   4: A anchors per location
  numAnchors: u32,                    //   8: A_total
  _pad0: u32,                         //  12
  inputWidth: f32,                    //  16
  inputHeight: f32,                   //  20
  clip: f32,                          //  24: log(1000 / 16)
  minSize: f32,                       //  28: 1e-3
  levels: array<vec4<u32>, 8>,        //  32: (height, width, first anchor, stride) per level
  sizes: array<vec4<f32>, 2>,         // 160: anchor size of level l at [l / 4][l % 4]
  ratios: array<vec4<f32>, 2>,        // 192: aspect ratio a at [a / 4][a % 4]
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> rpnDeltas: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> proposals: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> valid: array<u32>;

const WORKGROUP: u32 = 64u;

//!include folded_index

fn atIndex(i: u32) {
  if (i >= params.numAnchors) {
    return;
  }
  var l = 0u;
  for (var k = 1u; k < params.numLevels; k++) {
    if (i >= params.levels[k].z) {
      l = k;
    }
  }
  let level = params.levels[l];
  let local = i - level.z;
  let a = local % params.numRatios;
  let cell = local / params.numRatios;
  let col = cell % level.y;
  let row = cell / level.y;

  let size = params.sizes[l / 4u][l % 4u];
  let hRatio = sqrt(params.ratios[a / 4u][a % 4u]);
  let wRatio = 1.0 / hRatio;
  let half = vec2<f32>(wRatio * size, hRatio * size) / 2.0;
  let base = round(vec4<f32>(-half, half));
  let shift = vec2<f32>(f32(col * level.w), f32(row * level.w));
  let anchor = base + vec4<f32>(shift, shift);

  let d = rpnDeltas[i];
  let wh = anchor.zw - anchor.xy;
  let centre = anchor.xy + 0.5 * wh;
  let dwh = min(d.zw, vec2<f32>(params.clip));
  let predCentre = d.xy * wh + centre;
  let predHalf = 0.5 * (exp(dwh) * wh);
  let limit = vec2<f32>(params.inputWidth, params.inputHeight);
  let lo = clamp(predCentre - predHalf, vec2<f32>(0.0), limit);
  let hi = clamp(predCentre + predHalf, vec2<f32>(0.0), limit);
  proposals[i] = vec4<f32>(lo, hi);
  let side = hi - lo;
  valid[i] = select(0u, 1u, side.x >= params.minSize && side.y >= params.minSize);
}
