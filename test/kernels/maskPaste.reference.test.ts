/**
 * The mask paste reference against torchvision's own `paste_masks_in_image` (padding 1) —
 * fixtures/maskPaste.torchvision.json, written by fixtures/maskPaste.torchvision.py — and
 * the hand rules of the paste (expanded, truncated box; the 1:1 identity resize).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maskPasteReference, pasteBox, pasteMapping, pasteTaps } from '../../app/reference/maskPaste';
import { maskBit } from '../../app/reference/maskAssembly';

interface Fixture {
  width: number;
  height: number;
  maskSize: number;
  boxesRel: number[];
  logits: number[];
  pasted: number[];
}

const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'maskPaste.torchvision.json'), 'utf8')) as Fixture;

describe('maskPasteReference', () => {
  it('matches torchvision paste_masks_in_image (values within 2e-6, thresholded pixels equal)', () => {
    const { width: w, height: h, maskSize: s } = fixture;
    const count = fixture.boxesRel.length / 4;
    // One foreground class: channel 0 (background) zero, channel 1 the fixture's logits.
    const logits = new Float32Array(count * 2 * s * s);
    for (let n = 0; n < count; n++) logits.set(fixture.logits.slice(n * s * s, (n + 1) * s * s), (2 * n + 1) * s * s);
    const records = Array.from({ length: count }, (_, n) => ({
      box: fixture.boxesRel.slice(4 * n, 4 * n + 4) as [number, number, number, number],
      classIndex: 0,
    }));
    const transform = { inputWidth: w, inputHeight: h, gainX: 1, gainY: 1, offsetX: 0, offsetY: 0 };
    const ref = maskPasteReference(records, logits, { numClasses: 1, maskSize: s }, transform, { width: w, height: h }, undefined, true);
    let maxErr = 0;
    let differing = 0;
    let set = 0;
    for (let n = 0; n < count; n++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = (n * h + y) * w + x;
          const tv = fixture.pasted[i]!;
          maxErr = Math.max(maxErr, Math.abs(ref.soft![i]! - tv));
          const bit = maskBit(ref.masks, n, x, y);
          if (bit) set++;
          // torchvision's values are stored to 1e-6: a tie at 0.5 within that is not a difference.
          if (bit !== tv > 0.5 && Math.abs(tv - 0.5) > 1e-6) differing++;
        }
      }
    }
    console.log(`maskPaste reference vs torchvision: ${count} masks ${w}x${h}, max |Δ| ${maxErr.toExponential(2)}, ${set} pixels set, ${differing} differ`);
    expect(maxErr).toBeLessThan(2e-6);
    expect(differing).toBe(0);
    expect(set).toBeGreaterThan(500);
  });

  it('expands about the centre by 30/28 and truncates toward zero', () => {
    const m = pasteMapping(
      { inputWidth: 32, inputHeight: 32, gainX: 1, gainY: 1, offsetX: 0, offsetY: 0 },
      { width: 32, height: 32 },
      { width: 32, height: 32 },
    );
    // (0.6, 28.6): half 15, centre 14.6 → (−0.4, 29.6) → (0, 29) (floor would give −1).
    expect(pasteBox([0.6 / 32, 0.6 / 32, 28.6 / 32, 28.6 / 32], m, 28)).toEqual([0, 0, 29, 29]);
    // (−5, 10): half 8.036, centre 2.5 → (−5.536, 10.536) → (−5, 10).
    expect(pasteBox([-5 / 32, -5 / 32, 10 / 32, 10 / 32], m, 28)).toEqual([-5, -5, 10, 10]);
    // w = 30: identity taps; w = 1: the centre of the padded mask.
    expect(pasteTaps(7, 30, 30)).toEqual([7, 8, 0]);
    expect(pasteTaps(0, 1, 30)).toEqual([14, 15, 0.5]);
  });
});
