/** Conformance cases of the preprocess kernel (shaders/preprocess.wgsl). */
import { createPreprocess, tensorBytes } from '../../../app/gpu/kernels/preprocess';
import { preprocessReference, resizeGeometry, type InputSpec } from '../../../app/reference/preprocess';
import { createStorageBuffer, readF32 } from '../../../app/gpu/buffers';
import { maxAbsDiff, rng, runCases, sharedKernel, type CaseResult } from './common';

/** fp32 epsilon. */
const EPS32 = 2 ** -23;

/**
 * Tolerance: the kernel's fp32 source coordinate is off by up to ~1 ulp of the source size,
 * which moves a bilinear sample by ulp · (pixel step ≤ 255) · scale / std; plus a few ulps
 * of the value itself.
 */
function tolerance(width: number, height: number, input: InputSpec): (expected: number) => number {
  const ulp = EPS32 * 2 ** Math.ceil(Math.log2(Math.max(width, height, 2)));
  const coord = (2 * ulp * 255 * input.scale) / Math.min(...input.std);
  return (e) => coord + 8 * EPS32 * Math.max(1, Math.abs(e));
}

const YOLACT_INPUT: InputSpec = {
  name: 'input',
  width: 550,
  height: 550,
  resize: 'stretch',
  channels: 'rgb',
  scale: 1,
  mean: [123.68, 116.78, 103.94],
  std: [58.4, 57.12, 57.38],
};

const YOLO_INPUT: InputSpec = {
  name: 'images',
  width: 640,
  height: 640,
  resize: 'letterbox',
  channels: 'rgb',
  scale: 1 / 255,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  padValue: 114,
};

const PLAIN: Omit<InputSpec, 'width' | 'height' | 'resize'> = {
  name: 'x',
  channels: 'rgb',
  scale: 1,
  mean: [0, 0, 0],
  std: [1, 1, 1],
};

function randomImage(width: number, height: number, seed: number): Uint8ClampedArray<ArrayBuffer> {
  const r = rng(seed);
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < rgba.length; i++) rgba[i] = Math.floor(r() * 256);
  return rgba;
}

async function runKernel(
  device: GPUDevice,
  rgba: Uint8ClampedArray<ArrayBuffer>,
  width: number,
  height: number,
  input: InputSpec,
): Promise<{ tensor: Float32Array; ms: number; transform: ReturnType<ReturnType<typeof createPreprocess>['run']> }> {
  const source = device.createTexture({
    label: 'preprocess.test.source',
    size: [width, height],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  device.queue.writeTexture({ texture: source }, rgba, { bytesPerRow: width * 4 }, [width, height]);
  const tensor = createStorageBuffer(device, 'preprocess.test.tensor', tensorBytes(input));
  const kernel = sharedKernel(device, 'preprocess', createPreprocess);
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: 'preprocess.test' });
  const transform = kernel.run(encoder, { source, tensor }, input);
  device.queue.submit([encoder.finish()]);
  const out = await readF32(device, tensor);
  const ms = performance.now() - t0;
  source.destroy();
  tensor.destroy();
  return { tensor: out, ms, transform };
}

function compare(actual: Float32Array, expected: ArrayLike<number>, tol: (expected: number) => number): { pass: boolean; maxAbsError: number; detail: string } {
  const maxAbsError = maxAbsDiff(actual, expected);
  let worst = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    if (!(Math.abs(actual[i]! - e) <= tol(e))) {
      worst = i;
      break;
    }
  }
  return {
    pass: worst < 0,
    maxAbsError,
    detail: worst < 0 ? `${expected.length} values` : `index ${worst}: got ${actual[worst]}, want ${expected[worst]}`,
  };
}

export async function preprocessConformance(device: GPUDevice): Promise<CaseResult[]> {
  // 2x1 image: R = [0, 100], G = [10, 10], B = [255, 0]. Stretched to 4x1, the source x of
  // output columns 0..3 is max((x + 0.5)·0.5 − 0.5, 0) = 0, 0.25, 0.75, 1.25 (→ i0 = i1 = 1).
  const tiny = new Uint8ClampedArray([0, 10, 255, 255, 100, 10, 0, 255]);
  return runCases('preprocess', device, [
    [
      'hand: 2x1 → 4x1 stretch, rgb, identity normalisation',
      async () => {
        const { tensor, ms } = await runKernel(device, tiny, 2, 1, { ...PLAIN, width: 4, height: 1, resize: 'stretch' });
        const expected = [0, 25, 75, 100, 10, 10, 10, 10, 255, 191.25, 63.75, 0];
        return { ...compare(tensor, expected, tolerance(2, 1, PLAIN as InputSpec)), ms };
      },
    ],
    [
      'hand: 2x1 → 4x1 stretch, bgr, mean (10,20,30) std (2,4,5)',
      async () => {
        const input: InputSpec = { ...PLAIN, width: 4, height: 1, resize: 'stretch', channels: 'bgr', mean: [10, 20, 30], std: [2, 4, 5] };
        const { tensor, ms } = await runKernel(device, tiny, 2, 1, input);
        // ch0 = B: (v − 10) / 2; ch1 = G: (10 − 20) / 4; ch2 = R: (v − 30) / 5
        const expected = [122.5, 90.625, 26.875, -5, -2.5, -2.5, -2.5, -2.5, -6, -1, 9, 14];
        return { ...compare(tensor, expected, tolerance(2, 1, input)), ms };
      },
    ],
    [
      'hand: 4x2 → 4x4 letterbox: pad rows 0 and 3 = 114/255, rows 1–2 = the image',
      async () => {
        const img = new Uint8ClampedArray(4 * 2 * 4);
        for (let i = 0; i < 8; i++) img.set([i * 10, i * 10 + 1, i * 10 + 2, 255], i * 4);
        const input: InputSpec = { ...PLAIN, width: 4, height: 4, resize: 'letterbox', scale: 1 / 255, padValue: 114 };
        const { tensor, ms, transform } = await runKernel(device, img, 4, 2, input);
        const pad = 114 / 255;
        const expected: number[] = [];
        for (let c = 0; c < 3; c++) {
          for (let y = 0; y < 4; y++) {
            for (let x = 0; x < 4; x++) {
              expected.push(y === 0 || y === 3 ? pad : ((y - 1) * 4 + x) * 10 + c);
            }
          }
        }
        for (let i = 0; i < expected.length; i++) {
          const y = Math.floor((i % 16) / 4);
          if (y === 1 || y === 2) expected[i] = expected[i]! / 255;
        }
        const r = compare(tensor, expected, tolerance(4, 2, input));
        const t = transform;
        const transformOk = t.gainX === 1 && t.gainY === 1 && t.offsetX === 0 && t.offsetY === 1;
        return { ...r, pass: r.pass && transformOk, detail: `${r.detail}; transform ${JSON.stringify(t)}`, ms };
      },
    ],
    [
      'geometry: letterbox sizes and pads (Python round half-even)',
      async () => {
        const checks: Array<[number, number, InputSpec, [number, number, number, number]]> = [
          [1280, 720, YOLO_INPUT, [640, 360, 0, 140]],
          [720, 1280, YOLO_INPUT, [360, 640, 140, 0]],
          // r = 0.5, h = round(2.5) = 2 (half-even), dh = 2 → top = round(0.9) = 1
          [8, 5, { ...YOLO_INPUT, width: 4, height: 4 }, [4, 2, 0, 1]],
          // r = 0.5, w = round(3.5) = 4, dw = 1 → left = round(0.4) = 0
          [7, 10, { ...YOLO_INPUT, width: 5, height: 5 }, [4, 5, 0, 0]],
        ];
        const bad: string[] = [];
        for (const [w, h, input, want] of checks) {
          const g = resizeGeometry(w, h, input);
          const got = [g.resizedWidth, g.resizedHeight, g.padLeft, g.padTop];
          if (got.join() !== want.join()) bad.push(`${w}x${h}: got ${got} want ${want}`);
        }
        return { pass: bad.length === 0, detail: bad.join('; ') || `${checks.length} geometries` };
      },
    ],
    [
      'random 37x23 → 550x550 stretch (YOLACT normalisation)',
      async () => {
        const img = randomImage(37, 23, 1);
        const { tensor, ms } = await runKernel(device, img, 37, 23, YOLACT_INPUT);
        return { ...compare(tensor, preprocessReference(img, 37, 23, YOLACT_INPUT).tensor, tolerance(37, 23, YOLACT_INPUT)), ms };
      },
    ],
    [
      'random 1000x300 → 64x64 letterbox, bgr (downscale)',
      async () => {
        const img = randomImage(1000, 300, 2);
        const input: InputSpec = { ...YOLO_INPUT, width: 64, height: 64, channels: 'bgr' };
        const { tensor, ms } = await runKernel(device, img, 1000, 300, input);
        return { ...compare(tensor, preprocessReference(img, 1000, 300, input).tensor, tolerance(1000, 300, input)), ms };
      },
    ],
    [
      'random 100x57 → 640x640 letterbox (upscale, YOLO)',
      async () => {
        const img = randomImage(100, 57, 3);
        const { tensor, ms } = await runKernel(device, img, 100, 57, YOLO_INPUT);
        return { ...compare(tensor, preprocessReference(img, 100, 57, YOLO_INPUT).tensor, tolerance(100, 57, YOLO_INPUT)), ms };
      },
    ],
    [
      '1x1 image → 8x8 stretch (constant)',
      async () => {
        const img = new Uint8ClampedArray([200, 100, 50, 255]);
        const input: InputSpec = { ...PLAIN, width: 8, height: 8, resize: 'stretch' };
        const { tensor, ms } = await runKernel(device, img, 1, 1, input);
        const expected = [...new Array<number>(64).fill(200), ...new Array<number>(64).fill(100), ...new Array<number>(64).fill(50)];
        return { ...compare(tensor, expected, tolerance(1, 1, input)), ms };
      },
    ],
  ]);
}
