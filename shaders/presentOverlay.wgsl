// presentOverlay: draws the composed overlay texture (rgba8unorm, premultiplied alpha,
// mask resolution) into a pane's WebGPU canvas texture (the preferred canvas format,
// e.g. bgra8unorm), so the overlay reaches the screen without visiting the CPU.
// Bindings: @group(0) @binding(0) overlay: texture_2d<f32> (the compose kernel's output).
// Draw: 3 vertices, no buffers — one triangle covering the viewport. The canvas has the
// overlay's size, so each fragment loads the texel under it (no sampler, no filtering);
// the render target's format does the RGBA → BGRA swizzle.

@group(0) @binding(0) var overlay: texture_2d<f32>;

@vertex
fn vs(@builtin(vertex_index) vertex: u32) -> @builtin(position) vec4f {
  // (-1,-1), (3,-1), (-1,3): one triangle whose clipped part is the whole viewport.
  let x = f32((vertex << 1u) & 2u) * 2.0 - 1.0;
  let y = f32(vertex & 2u) * 2.0 - 1.0;
  return vec4f(x, y, 0.0, 1.0);
}

@fragment
fn fs(@builtin(position) position: vec4f) -> @location(0) vec4f {
  let size = textureDimensions(overlay);
  let texel = min(vec2u(position.xy), size - vec2u(1u));
  return textureLoad(overlay, texel, 0);
}
