/**
 * The boundary map against PyTorch (test/kernels/fixtures/boundaryMap.torch.py: F.conv2d with
 * the Laplacian kernel and zero padding, clamp, > 0.1, F.max_pool2d): MODELS.md's binarised
 * recipe pooled to 28, and models/blendmask's head inputs (p, clamp(Laplacian(p), 0)) at 56;
 * the reference on the CPU, then the kernel on Dawn.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withDevice } from '../gpu';
import { boundaryMapReference } from '../../app/reference/boundaryMap';
import { runBoundary, type BoundaryCase } from './conformance/boundaryMap';
import { maxAbsDiff } from './conformance/common';

const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'boundaryMap.torch.json'), 'utf8')) as {
  count: number;
  logits: number[];
  binaryPacked28: number[];
  softBoundary56: number[];
  probabilities56: number[];
};
const N = fixture.count;
const logits = new Float32Array(fixture.logits);

const packed: BoundaryCase = { maskSize: 56, outSize: 28, channels: 0, maskLogits: logits, roiFeatures: new Float32Array(0), count: N, capacity: N };
const soft: BoundaryCase = { ...packed, outSize: 56, source: 'probability', binarise: false, firstChannel: 1, outChannels: 1 };
const probs: BoundaryCase = { ...soft, firstChannel: 0 };

/** Channel `c` of a packed [N, 2, S, S] reference output. */
function channel(values: Float32Array, c: number, side: number): Float32Array {
  const plane = side * side;
  const out = new Float32Array(N * plane);
  for (let n = 0; n < N; n++) out.set(values.subarray((n * 2 + c) * plane, (n * 2 + c + 1) * plane), n * plane);
  return out;
}

// Exact for the binarised boundary (0/1); sigmoid's exp and the nine-term sums: a few ulp.
const TOLERANCE = 5e-6;

describe('boundary map vs PyTorch', () => {
  it('the reference matches (binarised, pooled to 28; soft at 56)', () => {
    const ref28 = boundaryMapReference(logits, packed.roiFeatures, N, N, packed).packed;
    const ref56 = boundaryMapReference(logits, soft.roiFeatures, N, N, soft).packed;
    const boundary28 = channel(ref28, 1, 28);
    const torchBoundary28 = channel(new Float32Array(fixture.binaryPacked28), 1, 28);
    expect(maxAbsDiff(boundary28, torchBoundary28)).toBe(0);
    expect(boundary28.reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
    expect(maxAbsDiff(ref28, fixture.binaryPacked28)).toBeLessThanOrEqual(TOLERANCE);
    expect(maxAbsDiff(channel(ref56, 1, 56), fixture.softBoundary56)).toBeLessThanOrEqual(TOLERANCE);
    expect(maxAbsDiff(channel(ref56, 0, 56), fixture.probabilities56)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('the kernel matches', async () => {
    await withDevice(async (device) => {
      const errors = {
        packed28: maxAbsDiff((await runBoundary(device, packed)).values, fixture.binaryPacked28),
        softBoundary56: maxAbsDiff((await runBoundary(device, soft)).values, fixture.softBoundary56),
        probabilities56: maxAbsDiff((await runBoundary(device, probs)).values, fixture.probabilities56),
      };
      console.log(`kernel vs PyTorch, max |Δ|: ${JSON.stringify(errors)}`);
      for (const e of Object.values(errors)) expect(e).toBeLessThanOrEqual(TOLERANCE);
    });
  }, 600_000);
});
