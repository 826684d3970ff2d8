/**
 * Host code of shaders/compose_overlay.wgsl: bit masks + records + class colours + hidden
 * classes + highlight → an rgba8unorm overlay texture at mask resolution.
 * Reference: `composeOverlayReference` in app/reference/composeOverlay.ts.
 *
 * Cheap to re-run alone: a hover or a class toggle changes only the params uniform (and the
 * hidden-classes buffer), never the masks.
 */
import shaderSourceRaw from '../../../shaders/compose_overlay.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';
import { DEFAULT_OVERLAY_STYLE, NO_HIGHLIGHT, type OverlayStyle } from '../../reference/composeOverlay';
import { wordsPerRowFor } from '../../reference/maskAssembly';

const shaderSource = withIncludes(shaderSourceRaw);

export interface ComposeOverlayInputs {
  records: GPUBuffer;
  /** u32 [maxDetections, maskH, wordsPerRow] from maskUpsample. */
  maskBits: GPUBuffer;
  /** u32 [numColours] packed r | g << 8 | b << 16. */
  classColours: GPUBuffer;
  /** u32 [ceil(numClasses / 32)] hidden-class bits. */
  hiddenClasses: GPUBuffer;
  /** maskW x maskH, rgba8unorm, STORAGE_BINDING usage (`createOverlayTexture`). */
  overlay: GPUTexture;
}

export interface ComposeOverlayParams {
  mask: { width: number; height: number };
  maxDetections: number;
  /** Entries of the classColours buffer. */
  numColours: number;
  /** Entries of the hiddenClasses buffer. */
  hiddenWords: number;
  /** Instance index; null or NO_HIGHLIGHT for none. */
  highlight: number | null;
  style?: Partial<OverlayStyle>;
}

export interface ComposeOverlayKernel {
  run(encoder: GPUCommandEncoder, inputs: ComposeOverlayInputs, params: ComposeOverlayParams, pass?: GPUComputePassDescriptor): void;
  /** Frees the kernel's own buffers (not the inputs). */
  destroy(): void;
}

/** The overlay texture: written by the kernel, sampled or copied by whoever draws it. */
export function createOverlayTexture(device: GPUDevice, mask: { width: number; height: number }, label = 'composeOverlay.overlay'): GPUTexture {
  return device.createTexture({
    label,
    size: { width: mask.width, height: mask.height },
    format: 'rgba8unorm',
    usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_SRC,
  });
}

/** The kernel's pipelines (app/gpu/kernelCache.ts). */
export const COMPOSE_OVERLAY = kernelSource({ name: 'composeOverlay', code: shaderSource, entryPoints: ['main'] });
/** Params struct of the WGSL, as it lays it out. */
const PARAMS = uniformLayout(shaderSource, 'Params');
const TILE = 8;

export function packComposeOverlayParams(params: ComposeOverlayParams): ArrayBuffer {
  const s = { ...DEFAULT_OVERLAY_STYLE, ...params.style };
  return packUniforms(PARAMS, {
    maskWidth: params.mask.width,
    maskHeight: params.mask.height,
    wordsPerRow: wordsPerRowFor(params.mask.width),
    maxDetections: params.maxDetections,
    highlight: params.highlight ?? NO_HIGHLIGHT,
    numColours: Math.max(1, params.numColours),
    hiddenWords: params.hiddenWords,
    fillAlpha: s.fillAlpha,
    outlineAlpha: s.outlineAlpha,
    highlightFillAlpha: s.highlightFillAlpha,
    dimPercent: s.dimPercent,
    lightenPercent: s.lightenPercent,
    premultiplied: s.premultiplied,
  });
}

export function createComposeOverlay(device: GPUDevice): ComposeOverlayKernel {
  const pipeline = kernelPipelines(device, COMPOSE_OVERLAY).pipelines.main;
  const uniform = createUniformBuffer(device, 'composeOverlay.params', PARAMS.size);
  let cached: { inputs: ComposeOverlayInputs; bindGroup: GPUBindGroup } | undefined;

  function bindGroupFor(inputs: ComposeOverlayInputs): GPUBindGroup {
    const c = cached?.inputs;
    if (
      cached &&
      c &&
      c.records === inputs.records &&
      c.maskBits === inputs.maskBits &&
      c.classColours === inputs.classColours &&
      c.hiddenClasses === inputs.hiddenClasses &&
      c.overlay === inputs.overlay
    ) {
      return cached.bindGroup;
    }
    const bindGroup = device.createBindGroup({
      label: 'composeOverlay.bindGroup',
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: uniform } },
        { binding: 1, resource: { buffer: inputs.records } },
        { binding: 2, resource: { buffer: inputs.maskBits } },
        { binding: 3, resource: { buffer: inputs.classColours } },
        { binding: 4, resource: { buffer: inputs.hiddenClasses } },
        { binding: 5, resource: inputs.overlay.createView({ label: 'composeOverlay.overlayView' }) },
      ],
    });
    cached = { inputs: { ...inputs }, bindGroup };
    return bindGroup;
  }

  return {
    /** One run per submit: the params live in this kernel's one uniform buffer. */
    run(encoder, inputs, params, pass) {
      const { mask } = params;
      if (inputs.overlay.width !== mask.width || inputs.overlay.height !== mask.height) {
        throw new Error(`composeOverlay: overlay ${inputs.overlay.width}x${inputs.overlay.height} ≠ mask ${mask.width}x${mask.height}`);
      }
      device.queue.writeBuffer(uniform, 0, packComposeOverlayParams(params));
      const computePass = encoder.beginComputePass({ label: 'composeOverlay.pass', ...pass });
      computePass.setPipeline(pipeline);
      computePass.setBindGroup(0, bindGroupFor(inputs));
      computePass.dispatchWorkgroups(Math.ceil(mask.width / TILE), Math.ceil(mask.height / TILE));
      computePass.end();
    },
    destroy() {
      uniform.destroy();
      cached = undefined;
    },
  };
}

/** Bytes of the staging buffer `readOverlayTexture` needs for an overlay (rows padded to 256 bytes). */
export function overlayStagingBytes(overlay: { width: number; height: number }): number {
  return Math.ceil((overlay.width * 4) / 256) * 256 * overlay.height;
}

/**
 * Reads the overlay texture back as RGBA bytes [height, width, 4]. Rows are copied with
 * WebGPU's 256-byte row alignment and then packed. `staging` (MAP_READ | COPY_DST, at least
 * `overlayStagingBytes`, not mapped) is the caller's to keep, for a read-back every frame
 * (the 'readback' overlay mode); without it a staging buffer is made for this read (export,
 * tests).
 */
export async function readOverlayTexture(device: GPUDevice, overlay: GPUTexture, staging?: GPUBuffer): Promise<Uint8ClampedArray<ArrayBuffer>> {
  const { width, height } = overlay;
  const bytesPerRow = Math.ceil((width * 4) / 256) * 256;
  const buffer =
    staging ??
    device.createBuffer({
      label: 'composeOverlay.readback',
      size: overlayStagingBytes(overlay),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  const encoder = device.createCommandEncoder({ label: 'composeOverlay.readback' });
  encoder.copyTextureToBuffer({ texture: overlay }, { buffer, bytesPerRow }, { width, height });
  device.queue.submit([encoder.finish()]);
  await buffer.mapAsync(GPUMapMode.READ, 0, bytesPerRow * height);
  const padded = new Uint8Array(buffer.getMappedRange(0, bytesPerRow * height));
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) out.set(padded.subarray(y * bytesPerRow, y * bytesPerRow + width * 4), y * width * 4);
  buffer.unmap();
  if (!staging) buffer.destroy();
  return out;
}
