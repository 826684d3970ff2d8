/**
 * Frames in flight on the GPU side, through Dawn: a runner's two slots (`GpuOverlay`) hold
 * two frames at once — frame n+1 encoded before frame n is read back — without one
 * overwriting the other, and a frame in steady state creates no GPU buffer, texture, bind
 * group or pipeline (counted on the device), in 'readback' overlay mode (the overlay's
 * staging kept per slot) and through the canvas's present pass (bind group kept per
 * overlay texture: one view a present, the canvas texture's own).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withDevice } from '../../../test/gpu';
import type { PostprocessSettings } from '../../types';
import { program as yolactProgram } from '../../families/yolact/program';
import { syntheticManifest, syntheticYolactOutputs } from '../../families/yolact/synthetic';
import { uploadStorage } from '../../gpu/buffers';
import { resizeGeometry } from '../../reference/preprocess';
import { encodePresent } from '../overlayCanvas';
import { runStepsOnGpu } from './execute';
import { GpuOverlay, type OverlaySlot } from './overlay';
import type { FamilyGpu, FrameContext, GpuTensor } from './program';
import { FrameTensors } from './tensors';

const COUNTED = ['createBuffer', 'createTexture', 'createBindGroup', 'createComputePipeline', 'createRenderPipeline', 'createComputePipelineAsync'] as const;

/** The device, with its object creations counted by method (and GPUTexture.createView by a prototype patch). */
function counting(device: GPUDevice): { device: GPUDevice; counts: Record<string, number>; reset: () => void } {
  const counts: Record<string, number> = {};
  const reset = () => {
    for (const k of [...COUNTED, 'createView']) counts[k] = 0;
  };
  reset();
  const proxy = new Proxy(device, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if ((COUNTED as readonly (string | symbol)[]).includes(prop)) counts[prop as string]!++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const proto = (globalThis as unknown as { GPUTexture: { prototype: { createView: (...a: unknown[]) => unknown } } }).GPUTexture.prototype;
  const createView = proto.createView;
  vi.spyOn(proto, 'createView').mockImplementation(function (this: unknown, ...args: unknown[]) {
    counts.createView!++;
    return createView.apply(this, args);
  });
  return { device: proxy, counts, reset };
}

// 'readback' mode turns the overlay bytes into an ImageBitmap: Node has neither that nor ImageData.
function fakeBitmaps(): void {
  vi.stubGlobal(
    'ImageData',
    class {
      constructor(
        readonly data: Uint8ClampedArray,
        readonly width: number,
        readonly height: number,
      ) {}
    },
  );
  vi.stubGlobal('createImageBitmap', (image: { data: Uint8ClampedArray; width: number; height: number }) =>
    Promise.resolve({ width: image.width, height: image.height, bytes: image.data.slice(), close() {} }),
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const settings: PostprocessSettings = { scoreThreshold: 0.3, topK: 200, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100 };
const image = { width: 160, height: 120 };

describe('GpuOverlay slots: frames in flight on the GPU', () => {
  it('frame n+1 encoded before frame n is read back leaves frame n intact; steady-state frames create no GPU objects', async () => {
    fakeBitmaps();
    await withDevice(async (real) => {
      const { device, counts, reset } = counting(real);
      const manifest = syntheticManifest(96, 6);
      const program = yolactProgram(manifest);
      await program.warmGpu?.(device);
      const kernels = program.steps.slice(1);
      const overlay = new GpuOverlay<FamilyGpu>(device, manifest, -1, 'readback', (d, mask, options) => program.createGpu(d, mask, options));
      // Two different frames' outputs, in buffers kept across frames (as ORT's pool hands them out).
      const inputs = [syntheticYolactOutputs(3, 96, 6, 2), syntheticYolactOutputs(4, 96, 6, 5)].map((outputs) =>
        Object.fromEntries(
          Object.entries(outputs).map(([name, t]): [string, GpuTensor] => [
            name,
            { buffer: uploadStorage(real, `in.${name}`, t.data), dims: t.dims, type: 'float32' },
          ]),
        ),
      );
      const ctx: FrameContext = { manifest, settings, transform: resizeGeometry(image.width, image.height, manifest.input).transform, image, mask: image };
      const target = real.createTexture({ size: [image.width, image.height], format: 'bgra8unorm', usage: GPUTextureUsage.RENDER_ATTACHMENT });

      const encode = async (slot: OverlaySlot<FamilyGpu>, which: number) => {
        const tensors = new FrameTensors(device, null, (_where, fn) => fn());
        for (const [name, t] of Object.entries(inputs[which]!)) tensors.putGpu(name, t);
        overlay.beginFrame(slot, { highlight: null, hiddenClasses: [] });
        await runStepsOnGpu(
          kernels,
          slot.post!,
          device,
          tensors,
          ctx,
          () => Promise.reject(new Error('no ONNX part here')),
          {},
          (_w, fn) => fn(),
        );
      };
      const read = async (slot: OverlaySlot<FamilyGpu>) => {
        const result = await slot.post!.readResult();
        const shown = await overlay.show(slot, result.detections.length > 0);
        // The canvas's present pass of the same overlay (the 'canvas' mode's one GPU step).
        const encoder = device.createCommandEncoder();
        encodePresent(device, encoder, slot.post!.overlayTexture, target, 'test');
        device.queue.submit([encoder.finish()]);
        overlay.release(slot, true);
        return {
          boxes: result.detections.map((d) => d.box.map((v) => Math.round(v))),
          overlay: (shown.overlay as unknown as { bytes: Uint8ClampedArray }).bytes,
        };
      };

      // Each frame alone (one slot, nothing else in flight): what frames 0 and 1 must read.
      const alone: Array<Awaited<ReturnType<typeof read>>> = [];
      for (const which of [0, 1]) {
        const slot = await overlay.acquire(image.width, image.height);
        await encode(slot, which);
        alone.push(await read(slot));
      }
      expect(alone[0]!.boxes.length).toBeGreaterThan(0);
      expect(alone[1]!.boxes.length).not.toBe(alone[0]!.boxes.length);
      expect(overlay.sides).toBe(1); // one frame at a time needs one GPU side

      // Pipelined: frame k+1 is encoded before frame k is read back, alternating the inputs.
      const frames = 6;
      const results: Array<Awaited<ReturnType<typeof read>>> = [];
      let inFlight = await overlay.acquire(image.width, image.height);
      await encode(inFlight, 0);
      for (let k = 0; k < frames; k++) {
        if (k === 2) reset(); // steady state from here on: both slots made and used once
        const next = await overlay.acquire(image.width, image.height);
        expect(next).not.toBe(inFlight);
        await encode(next, (k + 1) % 2);
        results.push(await read(inFlight));
        inFlight = next;
      }
      await read(inFlight);
      expect(overlay.sides).toBe(2);
      results.forEach((r, k) => {
        expect(r.boxes).toEqual(alone[k % 2]!.boxes);
        expect(r.overlay).toEqual(alone[k % 2]!.overlay);
      });
      // Steady state: frames 2..6 encoded, read back and presented without a new GPU object;
      // one view a present (the target's: a canvas hands out a new texture every frame).
      const presents = frames - 2 + 1;
      expect({ ...counts, createView: counts.createView! - presents }).toEqual({
        createBuffer: 0,
        createTexture: 0,
        createBindGroup: 0,
        createComputePipeline: 0,
        createRenderPipeline: 0,
        createComputePipelineAsync: 0,
        createView: 0,
      });
      overlay.dispose();
      target.destroy();
      for (const t of inputs.flatMap((i) => Object.values(i))) t.buffer.destroy();
    });
  }, 120_000);

  it('a third frame waits for a free slot; a second GPU side is made only for a second frame in flight', async () => {
    const made: number[] = [];
    const fakeSide = () => ({ destroy() {} }) as unknown as FamilyGpu;
    const overlay = new GpuOverlay<FamilyGpu>({} as GPUDevice, syntheticManifest(96, 6), -1, 'readback', () => (made.push(made.length), fakeSide()));
    const a = await overlay.acquire(32, 24);
    overlay.release(a, true);
    const again = await overlay.acquire(32, 24);
    expect(again).toBe(a); // the current slot, when free
    expect(made).toHaveLength(1);
    const b = await overlay.acquire(32, 24);
    expect(b).not.toBe(a);
    expect(made).toHaveLength(2);
    let third: OverlaySlot<FamilyGpu> | null = null;
    const waiting = overlay.acquire(32, 24).then((s) => (third = s));
    await new Promise((r) => setTimeout(r, 10));
    expect(third).toBeNull();
    overlay.release(b, true);
    await waiting;
    expect(third).toBe(b);
    expect(made).toHaveLength(2);
  });
});
