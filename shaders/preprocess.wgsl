// Preprocess: an rgba8unorm source texture (image or video frame) → the model input tensor,
// f32 NCHW [1, 3, H, W], written straight into the buffer ORT reads.
// Per output pixel: outside the resized area (letterbox pad) v = padValue · scale; inside,
// a bilinear sample with PyTorch's align_corners=False mapping (src = (dst + 0.5)·in/out − 0.5,
// negative clamped to 0, i1 = min(i0 + 1, in − 1)) read with textureLoad (no sampler, so
// the TypeScript reference app/reference/preprocess.ts matches it exactly), v = value · scale;
// then tensor[c] = (v[channel c] − mean[c]) / std[c], channel c = r,g,b or b,g,r.
// Bindings: 0 source texture, 1 tensor (storage, [3·H·W] f32), 2 params (uniform).
// Dispatch: (ceil(W / 8), ceil(H / 8), 1), one invocation per output pixel.

// Params: app/gpu/kernels/preprocess.ts writes it by field name, laid out from this declaration (app/gpu/uniforms.ts;
// the byte offsets in the comments are checked by app/gpu/uniforms.test.ts).
struct Params {
  outSize: vec2<u32>,   //  0: model input W, H
  resized: vec2<u32>,   //  8: size of the resized image inside the input
  pad: vec2<u32>,       // 16: left, top pad in input pixels
  bgr: u32,             // 24: 1 → tensor channel 0 is blue
  scale: f32,           // 28: pixel (0–255) multiplier
  mean: vec4<f32>,      // 32: per tensor channel (xyz)
  stdDev: vec4<f32>,    // 48: per tensor channel (xyz)
  padValue: f32,        // 64: pad pixel value, 0–255
}                       // 80 bytes (struct alignment 16)

@group(0) @binding(0) var source: texture_2d<f32>;
@group(0) @binding(1) var<storage, read_write> tensor: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// rgba8unorm texels arrive as value / 255; this brings them back to 0–255.
const UNORM_TO_BYTE: f32 = 255.0;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let W = params.outSize.x;
  let H = params.outSize.y;
  if (gid.x >= W || gid.y >= H) {
    return;
  }
  let p = gid.xy;
  let inside = all(p >= params.pad) && all(p < params.pad + params.resized);
  var rgb = vec3<f32>(params.padValue);
  if (inside) {
    let srcSize = textureDimensions(source);
    let ratio = vec2<f32>(srcSize) / vec2<f32>(params.resized);
    let dst = vec2<f32>(p - params.pad);
    let src = max((dst + 0.5) * ratio - 0.5, vec2<f32>(0.0));
    let i0 = min(vec2<u32>(floor(src)), srcSize - 1u);
    let i1 = min(i0 + 1u, srcSize - 1u);
    let l = src - vec2<f32>(i0);
    let p00 = textureLoad(source, vec2<u32>(i0.x, i0.y), 0).rgb;
    let p01 = textureLoad(source, vec2<u32>(i1.x, i0.y), 0).rgb;
    let p10 = textureLoad(source, vec2<u32>(i0.x, i1.y), 0).rgb;
    let p11 = textureLoad(source, vec2<u32>(i1.x, i1.y), 0).rgb;
    let top = (1.0 - l.x) * p00 + l.x * p01;
    let bottom = (1.0 - l.x) * p10 + l.x * p11;
    rgb = ((1.0 - l.y) * top + l.y * bottom) * UNORM_TO_BYTE;
  }
  if (params.bgr == 1u) {
    rgb = rgb.bgr;
  }
  let v = rgb * params.scale;
  let normalized = (v - params.mean.xyz) / params.stdDev.xyz;
  let plane = W * H;
  let o = p.y * W + p.x;
  tensor[o] = normalized.x;
  tensor[plane + o] = normalized.y;
  tensor[2u * plane + o] = normalized.z;
}
