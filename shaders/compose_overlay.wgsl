// composeOverlay — bit-packed instance masks + records → RGBA overlay texture.
//
// Per pixel: the winner is the highlighted instance if it covers the pixel and its class is
// shown, else the first (highest-scored) shown instance covering it. The pixel gets the
// winner's class colour with alpha fillAlpha, or outlineAlpha on the mask's edge (a
// 4-neighbour inside the image is outside the winner's mask); with a highlight, the
// highlighted instance is lightened towards white (edge opaque, interior highlightFillAlpha)
// and the others' alpha scaled by dimPercent. Uncovered pixels are (0, 0, 0, 0). Integer
// arithmetic on 0–255 values, stored as v / 255, so the rgba8unorm bytes equal the
// reference's (app/reference/composeOverlay.ts) exactly. Straight alpha, or premultiplied
// (rgb = round(rgb·a/255)) when params.premultiplied = 1.
// Re-running only this kernel (new highlight or hidden classes) redraws the overlay.
// No workgroup memory and no barrier, on purpose: a variant where each 8x8 tile first listed
// its instances (so pixels test only those) measured 2.2 s at 640x480 on SwiftShader even
// with no instance (barriers are expensive there) against 0.3 s for this plain scan, and
// was only on par at 100 instances.
//
// Bindings (group 0):
//   0 params         uniform  Params (written by field name in app/gpu/kernels/composeOverlay.ts)
//   1 records        storage  read  DetectionRecords (mirrors app/gpu/layout.ts)
//   2 maskBits       storage  read  u32 [maxDetections, maskHeight, wordsPerRow]
//   3 classColours   storage  read  u32 [numColours], r | g << 8 | b << 16
//   4 hiddenClasses  storage  read  u32 [hiddenWords], bit c % 32 of word c / 32 = hidden
//   5 overlay        texture_storage_2d<rgba8unorm, write>, maskWidth x maskHeight
// Dispatch: (ceil(maskWidth / 8), ceil(maskHeight / 8), 1), one invocation per pixel.

struct Params {
  maskWidth: u32,
  maskHeight: u32,
  wordsPerRow: u32,
  maxDetections: u32,
  highlight: u32,
  numColours: u32,
  hiddenWords: u32,
  fillAlpha: u32,
  outlineAlpha: u32,
  highlightFillAlpha: u32,
  dimPercent: u32,
  lightenPercent: u32,
  premultiplied: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

//!include record
//!include records

const TILE = 8u;
const NONE = 0xffffffffu;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> records: Records;
@group(0) @binding(2) var<storage, read> maskBits: array<u32>;
@group(0) @binding(3) var<storage, read> classColours: array<u32>;
@group(0) @binding(4) var<storage, read> hiddenClasses: array<u32>;
@group(0) @binding(5) var overlay: texture_storage_2d<rgba8unorm, write>;

fn covers(n: u32, x: u32, y: u32) -> bool {
  let word = maskBits[(n * params.maskHeight + y) * params.wordsPerRow + (x >> 5u)];
  return ((word >> (x & 31u)) & 1u) == 1u;
}

fn shown(n: u32) -> bool {
  let c = records.items[n].classIndex;
  let word = c >> 5u;
  if (word >= params.hiddenWords) {
    return true;
  }
  return ((hiddenClasses[word] >> (c & 31u)) & 1u) == 0u;
}

@compute @workgroup_size(TILE, TILE, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let x = gid.x;
  let y = gid.y;
  let w = params.maskWidth;
  let h = params.maskHeight;
  if (x >= w || y >= h) {
    return;
  }
  let count = min(records.count, params.maxDetections);
  let highlight = select(NONE, params.highlight, params.highlight < count);

  var winner = NONE;
  if (highlight != NONE && shown(highlight) && covers(highlight, x, y)) {
    winner = highlight;
  } else {
    for (var n = 0u; n < count; n++) {
      if (covers(n, x, y) && shown(n)) {
        winner = n;
        break;
      }
    }
  }
  if (winner == NONE) {
    textureStore(overlay, vec2<u32>(x, y), vec4<f32>(0.0));
    return;
  }

  let edge = (x > 0u && !covers(winner, x - 1u, y)) || (x + 1u < w && !covers(winner, x + 1u, y))
    || (y > 0u && !covers(winner, x, y - 1u)) || (y + 1u < h && !covers(winner, x, y + 1u));
  let colour = classColours[records.items[winner].classIndex % params.numColours];
  var rgb = vec3<u32>(colour & 255u, (colour >> 8u) & 255u, (colour >> 16u) & 255u);
  var a = select(params.fillAlpha, params.outlineAlpha, edge);
  if (highlight != NONE) {
    if (winner == highlight) {
      rgb += ((vec3<u32>(255u) - rgb) * params.lightenPercent) / 100u;
      a = select(params.highlightFillAlpha, 255u, edge);
    } else {
      a = (a * params.dimPercent) / 100u;
    }
  }
  if (params.premultiplied == 1u) {
    rgb = (rgb * a + vec3<u32>(127u)) / 255u;
  }
  textureStore(overlay, vec2<u32>(x, y), vec4<f32>(vec4<u32>(rgb, a)) / 255.0);
}
