/**
 * The overlay's way to the screen on the GPU paths, without a read-back: each pane has
 * its own `<canvas>` (ui/Overlay.tsx) under the transparent Konva stage, configured with
 * a WebGPU context on the shared device. After a frame's compose, `present` draws the
 * overlay texture (rgba8unorm, premultiplied, mask resolution) into the canvas's current
 * texture with a tiny render pass (shaders/presentOverlay.wgsl): the canvas format is the
 * browser's preferred one (usually bgra8unorm), so a plain texture copy would not do.
 *
 * Canvases are registered by pane key (`attachCanvas`); a runner asks for its pane's
 * canvas at present time, so a remounted canvas or a new device is picked up.
 */
import presentWgsl from '../../shaders/presentOverlay.wgsl?raw';

const canvases = new Map<number, HTMLCanvasElement>();

/** Called by the pane's Overlay component when its canvas mounts (or unmounts: null). */
export function attachCanvas(paneKey: number, canvas: HTMLCanvasElement | null): void {
  if (canvas) canvases.set(paneKey, canvas);
  else canvases.delete(paneKey);
}

export function paneCanvas(paneKey: number): HTMLCanvasElement | null {
  return canvases.get(paneKey) ?? null;
}

const pipelines = new WeakMap<GPUDevice, Map<GPUTextureFormat, GPURenderPipeline>>();

/** The present pipeline for a render target format (made once per device and format). */
function pipelineFor(device: GPUDevice, format: GPUTextureFormat): GPURenderPipeline {
  let byFormat = pipelines.get(device);
  if (!byFormat) pipelines.set(device, (byFormat = new Map<GPUTextureFormat, GPURenderPipeline>()));
  let pipeline = byFormat.get(format);
  if (!pipeline) {
    const module = device.createShaderModule({ label: 'presentOverlay.module', code: presentWgsl });
    pipeline = device.createRenderPipeline({
      label: `presentOverlay.pipeline.${format}`,
      layout: 'auto',
      vertex: { module, entryPoint: 'vs' },
      fragment: { module, entryPoint: 'fs', targets: [{ format }] },
      primitive: { topology: 'triangle-list' },
    });
    byFormat.set(format, pipeline);
  }
  return pipeline;
}

/**
 * The bind group of an overlay texture, made once per (texture, pipeline): the overlay
 * texture lives as long as its GPU side, so a frame's present makes no view or bind group
 * for it. (The canvas's current texture is new every frame; its view cannot be kept.)
 */
const overlayGroups = new WeakMap<GPUTexture, Map<GPURenderPipeline, GPUBindGroup>>();

function overlayBindGroup(device: GPUDevice, pipeline: GPURenderPipeline, overlay: GPUTexture, label: string): GPUBindGroup {
  let byPipeline = overlayGroups.get(overlay);
  if (!byPipeline) overlayGroups.set(overlay, (byPipeline = new Map<GPURenderPipeline, GPUBindGroup>()));
  let group = byPipeline.get(pipeline);
  if (!group) {
    group = device.createBindGroup({
      label: `${label}.presentOverlay.bindGroup`,
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: overlay.createView({ label: `${label}.overlayView` }) }],
    });
    byPipeline.set(pipeline, group);
  }
  return group;
}

/**
 * Encodes the render pass that draws `overlay` `[H, W]` rgba8unorm into `target` (same
 * size; any colour format: the canvas's, or a test texture), or clears it when `overlay`
 * is null.
 */
export function encodePresent(device: GPUDevice, encoder: GPUCommandEncoder, overlay: GPUTexture | null, target: GPUTexture, label: string): void {
  const pass = encoder.beginRenderPass({
    label: `${label}.presentOverlay.pass`,
    colorAttachments: [
      { view: target.createView({ label: `${label}.targetView` }), loadOp: 'clear', storeOp: 'store', clearValue: { r: 0, g: 0, b: 0, a: 0 } },
    ],
  });
  if (overlay) {
    const pipeline = pipelineFor(device, target.format);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, overlayBindGroup(device, pipeline, overlay, label));
    pass.draw(3);
  }
  pass.end();
}

/** Which device and size each canvas context is configured for. */
const configured = new WeakMap<HTMLCanvasElement, { device: GPUDevice; context: GPUCanvasContext }>();

/**
 * Draws `overlay` (or nothing: `null` clears the canvas) into the pane's canvas.
 * Returns false when the pane has no canvas (unmounted) or it has no WebGPU context.
 */
export function presentOverlay(device: GPUDevice, paneKey: number, overlay: GPUTexture | null, label: string): boolean {
  const canvas = paneCanvas(paneKey);
  if (!canvas) return false;
  const format = navigator.gpu.getPreferredCanvasFormat();
  let entry = configured.get(canvas);
  if (!entry || entry.device !== device) {
    const context = canvas.getContext('webgpu') as GPUCanvasContext | null;
    if (!context) return false;
    context.configure({ device, format, alphaMode: 'premultiplied', usage: GPUTextureUsage.RENDER_ATTACHMENT });
    entry = { device, context };
    configured.set(canvas, entry);
  }
  const width = overlay?.width ?? canvas.width;
  const height = overlay?.height ?? canvas.height;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const encoder = device.createCommandEncoder({ label: `${label}.presentOverlay` });
  encodePresent(device, encoder, overlay, entry.context.getCurrentTexture(), label);
  device.queue.submit([encoder.finish()]);
  return true;
}
