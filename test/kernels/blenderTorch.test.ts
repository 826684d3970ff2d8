/**
 * The blender against PyTorch (test/kernels/fixtures/blender.torch.py: torchvision roi_align +
 * F.interpolate(bilinear, align_corners=False) + softmax + sum, as AdelaiDet's merge_bases):
 * the reference on the CPU, then the kernel on Dawn.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { blenderCaseReference, runBlender, type BlenderCase } from './conformance/blender';
import { maxAbsDiff } from './conformance/common';

interface TorchCase {
  numBases: number;
  input: [number, number];
  bases: number[];
  topFeats: number[];
  topFeatsSize: [number, number];
  boxes: [number, number, number, number][];
  locations: number[];
  logits: number[];
}

const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'blender.torch.json'), 'utf8')) as { cases: TorchCase[] };

function toCase(t: TorchCase): BlenderCase {
  const [width, height] = t.input;
  return {
    numBases: t.numBases,
    outSize: 56,
    attnSize: 14,
    bases: { data: new Float32Array(t.bases), height: height / 4, width: width / 4 },
    levels: [{ data: new Float32Array(t.topFeats), height: t.topFeatsSize[0], width: t.topFeatsSize[1], first: 0 }],
    records: t.boxes.map((box, n) => ({ box, sourceIndex: t.locations[n]! })),
    capacity: t.boxes.length,
    input: { width, height },
  };
}

// PyTorch sums softmax·basis over K in its own order; ours divides once: f32 rounding apart.
const TOLERANCE = 1e-5;

describe('blender vs PyTorch (AdelaiDet merge_bases)', () => {
  it('the reference matches', () => {
    expect(fixture.cases.length).toBe(2);
    for (const t of fixture.cases) {
      const err = maxAbsDiff(blenderCaseReference(toCase(t)).logits, t.logits);
      console.log(`reference K ${t.numBases}, ${t.boxes.length} boxes: max |Δ| ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('the kernel matches', async () => {
    await withDevice(async (device) => {
      for (const t of fixture.cases) {
        const { values } = await runBlender(device, toCase(t));
        const err = maxAbsDiff(values, t.logits);
        console.log(`kernel K ${t.numBases}, ${t.boxes.length} boxes: max |Δ| ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(TOLERANCE);
      }
    });
  }, 600_000);
});
