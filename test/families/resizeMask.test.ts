/**
 * A frame of another size resizes a model's GPU side instead of making a new one
 * (`MaskedDetectionGpuPostprocessor.resizeMask`, called by the runner's GpuOverlay): only
 * the overlay texture and the bit masks are made again, and the results are those of a GPU
 * side made fresh at the new size.
 */
import { describe, expect, it } from 'vitest';
import { withDevice } from '../gpu';
import type { PostprocessSettings } from '../../app/types';
import { createGpuPostprocessor } from '../../app/families/yolact/gpu';
import { syntheticManifest, syntheticYolactOutputs } from '../../app/families/yolact/synthetic';
import { resizeGeometry } from '../../app/reference/preprocess';
import { uploadOutputs } from './conformance';

const settings: PostprocessSettings = { scoreThreshold: 0.05, topK: 200, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 20 };

describe('resizeMask', () => {
  it('a resized GPU side gives what a fresh one gives at the new size; only the overlay and the bit masks are new', async () => {
    await withDevice(async (device) => {
      const manifest = syntheticManifest(128, 4);
      const outputs = syntheticYolactOutputs(7, 128, 4, 5);
      const buffers = uploadOutputs(device, outputs);
      const run = async (post: ReturnType<typeof createGpuPostprocessor>, image: { width: number; height: number }) => {
        const encoder = device.createCommandEncoder();
        post.encode(encoder, buffers, settings, resizeGeometry(image.width, image.height, manifest.input).transform, image);
        device.queue.submit([encoder.finish()]);
        return { read: await post.readResult(), masks: await post.readMasks(), overlay: await post.readOverlay() };
      };
      const small = { width: 96, height: 72 };
      const large = { width: 160, height: 120 };
      const resized = createGpuPostprocessor(device, manifest, small);
      await run(resized, small);
      const texture = resized.overlayTexture;
      resized.resizeMask(large);
      expect(resized.mask).toEqual(large);
      expect(resized.overlayTexture).not.toBe(texture);
      expect([resized.overlayTexture.width, resized.overlayTexture.height]).toEqual([160, 120]);
      // The last frame's masks went with the old size.
      expect((await resized.readMasks()).bits.length).toBe(0);
      const fresh = createGpuPostprocessor(device, manifest, large);
      const a = await run(resized, large);
      const b = await run(fresh, large);
      expect(a.read.detections.length).toBeGreaterThan(0);
      expect(a.read.records).toEqual(b.read.records);
      expect([a.masks.width, a.masks.height]).toEqual([160, 120]);
      expect(a.masks.bits).toEqual(b.masks.bits);
      expect(a.overlay).toEqual(b.overlay);
      // The same size again changes nothing.
      const same = resized.overlayTexture;
      resized.resizeMask(large);
      expect(resized.overlayTexture).toBe(same);
      for (const p of [resized, fresh]) p.destroy();
      for (const buf of Object.values(buffers)) buf.destroy();
    });
  });
});
