/**
 * The reference chain (and the GPU chain) against expectations computed independently the
 * way Ultralytics does it (models/yoloseg/ultralytics_check.py: torch + torchvision.ops.nms
 * with class offsets, crop_mask, F.interpolate, > 0), on a random 64x64 raw head.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withDevice } from '../../../test/gpu';
import type { InstanceMasks, PostprocessSettings } from '../../types';
import { maskIou } from '../../../test/families/conformance';
import { postprocessYoloSegReference, type RawOutput } from './reference';
import { syntheticYoloSegManifest } from './synthetic';
import { runYoloSegParity } from '../../../test/families/yoloSeg/conformance';

interface Fixture {
  inputSize: number;
  numClasses: number;
  confThreshold: number;
  nmsIou: number;
  output0: number[];
  output0Dims: number[];
  protos: number[];
  protosDims: number[];
  detections: Array<{ box: number[]; score: number; classIndex: number; mask: string }>;
}

const fixture = JSON.parse(
  readFileSync(join(__dirname, '..', '..', '..', 'test', 'families', 'yoloSeg', 'fixtures', 'ultralytics-64.json'), 'utf8'),
) as Fixture;
const size = fixture.inputSize;
const outputs: Record<string, RawOutput> = {
  output0: { data: Float32Array.from(fixture.output0), dims: fixture.output0Dims },
  protos: { data: Float32Array.from(fixture.protos), dims: fixture.protosDims },
};
const manifest = {
  ...syntheticYoloSegManifest(size, fixture.numClasses),
  defaults: { ...syntheticYoloSegManifest(size, fixture.numClasses).defaults, confThreshold: fixture.confThreshold },
};
const settings: PostprocessSettings = { scoreThreshold: 0, topK: 300, nmsIou: fixture.nmsIou, nmsKind: 'greedy', maxDetections: 300 };
const image = { width: size, height: size };

/** The fixture's masks as InstanceMasks (hex words, 8 digits each). */
function expectedMasks(): InstanceMasks {
  const wordsPerRow = Math.ceil(size / 32);
  const hex = fixture.detections.map((d) => d.mask).join('');
  const bits = new Uint32Array(hex.length / 8);
  for (let i = 0; i < bits.length; i++) bits[i] = parseInt(hex.slice(8 * i, 8 * i + 8), 16);
  return { width: size, height: size, wordsPerRow, bits };
}

function compare(detections: Array<{ box: number[]; score: number; classIndex: number }>, masks: InstanceMasks): { minMaskIou: number; maxBoxError: number } {
  expect(detections.length).toBe(fixture.detections.length);
  const want = expectedMasks();
  let minMaskIou = 1;
  let maxBoxError = 0;
  fixture.detections.forEach((w, i) => {
    const g = detections[i]!;
    expect(g.classIndex).toBe(w.classIndex);
    expect(g.score).toBe(w.score);
    // Ultralytics' boxes are not clipped before masks; ours are clamped to the image for display.
    const clamped = w.box.map((v) => Math.min(Math.max(v, 0), size));
    g.box.forEach((v, k) => (maxBoxError = Math.max(maxBoxError, Math.abs(v - clamped[k]!))));
    minMaskIou = Math.min(minMaskIou, maskIou(masks, want, i));
  });
  return { minMaskIou, maxBoxError };
}

describe('YOLO-seg vs an Ultralytics-style computation (torch/torchvision)', () => {
  it('reference chain: same detections in the same order, same scores, masks', () => {
    const res = postprocessYoloSegReference(outputs, manifest, settings, image, image);
    const { minMaskIou, maxBoxError } = compare(res.detections, res.masks);
    console.log(`reference: ${res.detections.length} detections, max box error ${maxBoxError.toExponential(2)} px, min mask IoU ${minMaskIou.toFixed(4)}`);
    expect(maxBoxError).toBeLessThan(1e-4);
    expect(minMaskIou).toBeGreaterThanOrEqual(0.98);
  });

  it('GPU chain: the same', async () => {
    const { gpu } = await withDevice(async (device) => {
      const run = await runYoloSegParity(device, outputs, manifest, settings, image);
      expect(run.figures.problems).toEqual([]);
      return run;
    });
    const ref = postprocessYoloSegReference(outputs, manifest, settings, image, image);
    const { minMaskIou, maxBoxError } = compare(gpu.detections, ref.masks);
    console.log(
      `GPU: ${gpu.detections.length} detections, max box error ${maxBoxError.toExponential(2)} px, min mask IoU (vs Ultralytics) ${minMaskIou.toFixed(4)}`,
    );
    expect(maxBoxError).toBeLessThan(1e-4);
    expect(minMaskIou).toBeGreaterThanOrEqual(0.98);
  }, 60_000);
});
