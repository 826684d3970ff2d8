/**
 * What the FCOS families' program tests share (app/families/centerMask/program.test.ts and
 * exported.test.ts, app/families/blendMask/program.test.ts): a synthetic FCOS head's outputs
 * (quantised class logits so that the GPU's exp / sqrt rounding cannot reorder two keys), a
 * program run on both sides — the runner's `runStepsOnGpu` (the kernels, the later ONNX parts
 * on the CPU as on 'wasm+gpu') and `runStepsOnCpu` (the references, as on 'wasm') — and the
 * check that the two sides give the same instances.
 */
import { expect } from 'vitest';
import { withDevice } from '../gpu';
import type { Detection, InstanceMasks, ModelManifest, PostprocessSettings } from '../../app/types';
import type { FcosLevelLayout } from '../../app/families/common/fcos';
import { checkProgram, type CpuTensor, type FamilyCpu, type FamilyGpu, type FamilyProgram } from '../../app/pipeline/stages/program';
import { runStepsOnCpu, runStepsOnGpu, type PartRunner } from '../../app/pipeline/stages/execute';
import { FrameTensors, UploadBuffers } from '../../app/pipeline/stages/tensors';
import { resizeGeometry } from '../../app/reference/preprocess';
import { maskSizeFor } from '../../app/reference/maskAssembly';

const CLS = [-9, -9, -9, -9, -9, -9, -4, -2.5, -1.5, -0.5, 0.5, 1.5, 3];
const CTR = [-3, -1, 0, 1, 2];

/**
 * One FCOS level's cls [1, K, H, W] (90 % at -9, else a quantised logit), box [1, 4, H, W]
 * (ltrb up to 5 strides) and ctr [1, 1, H, W] into `out`, drawn from `r` in that order.
 */
export function putSyntheticFcosLevel(out: Record<string, CpuTensor>, l: FcosLevelLayout, numClasses: number, r: () => number): void {
  const pick = (v: number[]) => v[Math.floor(r() * v.length)]!;
  const hw = l.width * l.height;
  out[l.cls] = { data: Float32Array.from({ length: numClasses * hw }, () => (r() < 0.9 ? -9 : pick(CLS))), dims: [1, numClasses, l.height, l.width] };
  out[l.box] = { data: Float32Array.from({ length: 4 * hw }, () => r() * l.stride * 5), dims: [1, 4, l.height, l.width] };
  out[l.ctr] = { data: Float32Array.from({ length: hw }, () => pick(CTR)), dims: [1, 1, l.height, l.width] };
}

/** IoU of instance i of `a` and instance j of `b` (bit masks of the same size). */
export function maskIouOf(a: InstanceMasks, i: number, b: InstanceMasks, j: number): number {
  const plane = a.height * a.wordsPerRow;
  let inter = 0;
  let union = 0;
  const pop = (v: number) => {
    let n = 0;
    for (; v; v &= v - 1) n++;
    return n;
  };
  for (let w = 0; w < plane; w++) {
    inter += pop((a.bits[i * plane + w]! & b.bits[j * plane + w]!) >>> 0);
    union += pop((a.bits[i * plane + w]! | b.bits[j * plane + w]!) >>> 0);
  }
  return union === 0 ? 1 : inter / union;
}

/**
 * The program's steps after its first ONNX part on `detector` (its outputs by logical name),
 * on the CPU and on a Dawn device; `runPart` runs the later ONNX parts on both sides.
 */
export async function runProgramBothSides<G extends FamilyGpu, C extends FamilyCpu>(
  prog: FamilyProgram<G, C>,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  detector: Readonly<Record<string, CpuTensor>>,
  image: { width: number; height: number },
  runPart: PartRunner,
) {
  checkProgram(prog, manifest.id);
  const steps = prog.steps.slice(1);
  const mask = maskSizeFor(image.width, image.height);
  const transform = resizeGeometry(image.width, image.height, manifest.input).transform;
  const frame = { manifest, settings, transform, image, mask };

  const cpu = prog.createCpu();
  const cpuTensors = new FrameTensors(null, null, (_w, fn) => fn());
  for (const [name, t] of Object.entries(detector)) cpuTensors.putCpu(name, t);
  await runStepsOnCpu(steps, cpu, cpuTensors, frame, runPart, {});

  const gpu = await withDevice(async (device) => {
    await prog.warmGpu!(device);
    const side = prog.createGpu(device, mask, { classColours: new Uint32Array(manifest.classes.length).fill(0xff00ff00), style: { premultiplied: true } });
    const uploads = new UploadBuffers(device, 'test.uploads');
    const tensors = new FrameTensors(device, uploads, (_w, fn) => fn());
    for (const [name, t] of Object.entries(detector)) tensors.putCpu(name, t);
    await runStepsOnGpu(steps, side, device, tensors, frame, runPart, {}, (_w, fn) => fn());
    const result = await side.readResult();
    const masks = await side.readMasks();
    const featureBytes = tensors.bytesReadBack;
    side.destroy();
    uploads.destroy();
    return { result, masks, featureBytes };
  });
  return { cpu: cpu.result!, cpuTimings: cpu.timings, gpu };
}

/** The same instances in the same order: class, score, box, mask area and mask, qualities; sorted by score. */
export function expectSameInstances(
  cpu: { detections: Detection[]; masks: InstanceMasks },
  gpu: { result: { detections: Detection[] }; masks: InstanceMasks },
): void {
  const ref = cpu.detections;
  const got = gpu.result.detections;
  expect(got.length).toBe(ref.length);
  got.forEach((d, i) => {
    const r = ref[i]!;
    expect(d.classIndex).toBe(r.classIndex);
    expect(Math.abs(d.score - r.score)).toBeLessThan(1e-5);
    d.box.forEach((v, k) => expect(Math.abs(v - r.box[k]!)).toBeLessThan(1e-3));
    expect(Math.abs(d.maskArea - r.maskArea)).toBeLessThanOrEqual(Math.max(2, r.maskArea * 0.01));
    expect(maskIouOf(gpu.masks, i, cpu.masks, i)).toBeGreaterThanOrEqual(0.99);
    for (const [name, q] of Object.entries(r.qualities ?? {})) expect(Math.abs(d.qualities![name]! - q), name).toBeLessThan(1e-4);
  });
  for (let i = 1; i < got.length; i++) expect(got[i]!.score).toBeLessThanOrEqual(got[i - 1]!.score);
}
