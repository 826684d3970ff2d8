import { expect, it } from 'vitest';
import { yolactDecodeReference } from '../../app/reference/yolactDecode';
import { preprocessReference, type InputSpec } from '../../app/reference/preprocess';

it('yolactDecodeReference: hand-computed boxes and the strict candidate test', () => {
  // Same numbers as the kernel's hand case (conformance/yolactDecode.ts).
  const priors = new Float32Array([0.5, 0.5, 0.2, 0.4, 0.1, 0.9, 0.5, 0.5]);
  const loc = new Float32Array([1, -1, 0, 0, 0, 0, 5 * Math.LN2, -5 * Math.LN2]);
  const conf = new Float32Array([0.9, 0.06, 0.04, 0.9, 0.05, 0.05]);
  const { boxes, candidates } = yolactDecodeReference(loc, conf, priors, 2, 0.05);
  const want = [0.42, 0.26, 0.62, 0.66, -0.4, 0.775, 0.6, 1.025];
  want.forEach((v, i) => expect(boxes[i]).toBeCloseTo(v, 6));
  expect(candidates).toEqual([0]);
});

it('preprocessReference: hand-computed stretch and letterbox', () => {
  const plain: InputSpec = { name: 'x', width: 4, height: 1, resize: 'stretch', channels: 'bgr', scale: 1, mean: [10, 20, 30], std: [2, 4, 5] };
  const tiny = new Uint8ClampedArray([0, 10, 255, 255, 100, 10, 0, 255]);
  expect(Array.from(preprocessReference(tiny, 2, 1, plain).tensor)).toEqual([122.5, 90.625, 26.875, -5, -2.5, -2.5, -2.5, -2.5, -6, -1, 9, 14]);
  const box: InputSpec = { ...plain, width: 2, height: 2, resize: 'letterbox', channels: 'rgb', mean: [0, 0, 0], std: [1, 1, 1], padValue: 114 };
  // 2x1 image into 2x2: r = 1, rows: top pad round(0.5 − 0.1) = 0 → image row 0, pad row 1.
  const out = preprocessReference(tiny, 2, 1, box);
  expect(Array.from(out.tensor)).toEqual([0, 100, 114, 114, 10, 10, 114, 114, 255, 0, 114, 114]);
  expect(out.geometry.transform).toEqual({ inputWidth: 2, inputHeight: 2, gainX: 1, gainY: 1, offsetX: 0, offsetY: 0 });
});
