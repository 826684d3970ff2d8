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

interface Pipeline {
  pipeline: GPURenderPipeline;
  format: GPUTextureFormat;
}
const pipelines = new WeakMap<GPUDevice, Pipeline>();

function pipelineFor(device: GPUDevice): Pipeline {
  let p = pipelines.get(device);
  if (!p) {
    const format = navigator.gpu.getPreferredCanvasFormat();
    const module = device.createShaderModule({ label: 'presentOverlay.module', code: presentWgsl });
    const pipeline = device.createRenderPipeline({
      label: 'presentOverlay.pipeline',
      layout: 'auto',
      vertex: { module, entryPoint: 'vs' },
      fragment: { module, entryPoint: 'fs', targets: [{ format }] },
      primitive: { topology: 'triangle-list' },
    });
    p = { pipeline, format };
    pipelines.set(device, p);
  }
  return p;
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
  const { pipeline, format } = pipelineFor(device);
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
  const target = entry.context.getCurrentTexture();
  const encoder = device.createCommandEncoder({ label: `${label}.presentOverlay` });
  const pass = encoder.beginRenderPass({
    label: `${label}.presentOverlay.pass`,
    colorAttachments: [{ view: target.createView({ label: `${label}.canvasView` }), loadOp: 'clear', storeOp: 'store', clearValue: { r: 0, g: 0, b: 0, a: 0 } }],
  });
  if (overlay) {
    const bindGroup = device.createBindGroup({
      label: `${label}.presentOverlay.bindGroup`,
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: overlay.createView({ label: `${label}.overlayView` }) }],
    });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.draw(3);
  }
  pass.end();
  device.queue.submit([encoder.finish()]);
  return true;
}
