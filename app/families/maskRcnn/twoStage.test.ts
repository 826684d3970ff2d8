/**
 * Our two-stage Mask R-CNN on real outputs: the bundled ONNX parts run with onnxruntime-web's
 * wasm backend in Node on a sample image; the GPU chain (Dawn: the family's program steps
 * through the runner's `runStepsOnGpu`, with CPU heads, as the app's 'wasm+gpu' path) and the reference chain
 * (`maskRcnnTwoStageReference`, the 'wasm' path) each run the heads on their own RoI
 * features. They must agree stage by stage: the same RoIs, RoI features to f32 noise, then
 * the same detections (class, box IoU ≥ 0.99, mask IoU ≥ 0.98).
 *
 * The bundled weights may be untrained: the score threshold is lowered (0.01, below a uniform
 * softmax over 81 columns; the candidate test follows it down) so that there are detections
 * either way. Untrained scores
 * are nearly tied, so detections are matched by (class, box) rather than by rank, and only a
 * rank near the cap may differ (a near-tie can swap in or out at the 100th place).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { withDevice } from '../../../test/gpu';
import type { InstanceMasks, ModelManifest, PostprocessSettings } from '../../types';
import type { DecodedRecord } from '../../gpu/layout';
import { preprocessReference } from '../../reference/preprocess';
import { maskSizeFor } from '../../reference/maskAssembly';
import { boxFeatureDims, headManifests, maskFeatureDims, twoStageLayout, BOX_HEAD_INPUT, MASK_HEAD_INPUT, type TwoStageLayout } from './manifest';
import { maskRcnnTwoStageReference, type RawOutput, type TwoStageHeadsCpu } from './reference';
import { createTwoStageGpu } from './gpu';
import { program as maskRcnnProgram } from './program';
import { runStepsOnCpu, runStepsOnGpu, type PartRunner } from '../../pipeline/stages/execute';
import { FrameTensors, UploadBuffers } from '../../pipeline/stages/tensors';
import type { StageTimings } from '../../types';

const ROOT = join(__dirname, '..', '..', '..');
const MODELS = ['maskrcnn-512', 'maskrcnn-512-roipool'];
const SAMPLE = 'sample-1.jpg';

type Ort = typeof import('onnxruntime-web');
type Session = import('onnxruntime-web').InferenceSession;

async function loadOrt(): Promise<Ort> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist') + '/';
  return ort;
}

async function open(ort: Ort, url: string): Promise<Session> {
  return ort.InferenceSession.create(readFileSync(join(ROOT, url)), { executionProviders: ['wasm'] });
}

async function runBackbone(ort: Ort, session: Session, manifest: ModelManifest, rgba: Uint8Array, width: number, height: number) {
  const { tensor } = preprocessReference(rgba, width, height, manifest.input);
  const results = await session.run({ [manifest.input.name]: new ort.Tensor('float32', tensor, [1, 3, manifest.input.height, manifest.input.width]) });
  const outputs: Record<string, RawOutput> = {};
  for (const [logical, name] of Object.entries(manifest.outputs)) outputs[logical] = { data: results[name]!.data as Float32Array, dims: results[name]!.dims };
  return outputs;
}

function nodeHeads(ort: Ort, boxHead: Session, maskHead: Session, layout: TwoStageLayout): TwoStageHeadsCpu {
  return {
    async boxHead(features) {
      const r = await boxHead.run({ [BOX_HEAD_INPUT]: new ort.Tensor('float32', features, boxFeatureDims(layout)) });
      return { classLogits: r.class_logits!.data as Float32Array, boxDeltas: r.box_deltas!.data as Float32Array };
    },
    async maskHead(features, count) {
      const r = await maskHead.run({ [MASK_HEAD_INPUT]: new ort.Tensor('float32', features, maskFeatureDims(layout, count)) });
      return r.mask_logits!.data as Float32Array;
    },
  };
}

/** Written here, independent of the app: IoU of two xyxy boxes. */
function boxIou(a: readonly number[], b: readonly number[]): number {
  const ix = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const iy = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = ix * iy;
  const union = (a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter;
  return union > 0 ? inter / union : 0;
}

/** Mask IoU of plane i of `a` and plane j of `b` (same size), from the bits. */
function maskIou(a: InstanceMasks, i: number, b: InstanceMasks, j: number): number {
  const plane = a.height * a.wordsPerRow;
  let inter = 0;
  let union = 0;
  for (let w = 0; w < plane; w++) {
    const x = a.bits[i * plane + w]!;
    const y = b.bits[j * plane + w]!;
    inter += popcount(x & y);
    union += popcount(x | y);
  }
  return union === 0 ? 1 : inter / union;
}

function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('two-stage Mask R-CNN: GPU chain vs reference chain on real ONNX outputs', () => {
  for (const id of MODELS) {
    const manifestPath = join(ROOT, 'models', 'maskrcnn', `${id}.json`);
    const present = existsSync(manifestPath);
    it.skipIf(!present)(
      `${id} on ${SAMPLE}`,
      async () => {
        const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ModelManifest;
        // Untrained weights give near-uniform softmax scores: a threshold below 1/81.
        const settings: PostprocessSettings = { ...manifest.defaults, scoreThreshold: 0.01 };
        const layout = twoStageLayout(manifest);
        const ort = await loadOrt();
        const parts = headManifests(manifest);
        const [backboneSession, boxSession, maskSession] = [
          await open(ort, manifest.url),
          await open(ort, parts.boxHead.url),
          await open(ort, parts.maskHead.url),
        ];
        const img = jpeg.decode(readFileSync(join(ROOT, 'public', 'samples', SAMPLE)), { useTArray: true, formatAsRGBA: true });
        const image = { width: img.width, height: img.height };
        const backbone = await runBackbone(ort, backboneSession, manifest, img.data, img.width, img.height);
        const heads = nodeHeads(ort, boxSession, maskSession, layout);

        const t0 = performance.now();
        const ref = await maskRcnnTwoStageReference(backbone, heads, manifest, settings, image);
        const refMs = performance.now() - t0;

        // The 'wasm' path: the program's reference steps through the runner's `runStepsOnCpu`
        // (the mask head on at least one row) give the reference chain's instances.
        {
          const steps = maskRcnnProgram(manifest).steps.slice(1);
          const cpuSessions: Record<string, Session> = { boxHead: boxSession, maskHead: maskSession };
          const runPart: PartRunner = async (step, tensors) => {
            const input = await tensors.onCpu(step.input);
            const r = await cpuSessions[step.name]!.run({ [step.part.input.name]: new ort.Tensor('float32', input.data, input.dims) });
            for (const [logical, name] of Object.entries(step.outputs)) tensors.putCpu(logical, { data: r[name]!.data as Float32Array, dims: r[name]!.dims });
          };
          const tensors = new FrameTensors(null, null, (_where, fn) => fn());
          for (const [name, t] of Object.entries(backbone)) tensors.putCpu(name, t);
          const cpu = maskRcnnProgram(manifest).createCpu();
          const transform = preprocessReference(img.data, img.width, img.height, manifest.input).geometry.transform;
          const timings: Partial<StageTimings> = {};
          await runStepsOnCpu(steps, cpu, tensors, { manifest, settings, transform, image, mask: maskSizeFor(image.width, image.height) }, runPart, timings);
          expect(cpu.result!.detections).toEqual(ref.detections);
          expect(cpu.result!.masks.bits).toEqual(ref.masks.bits);
          expect(timings.heads).toBeGreaterThan(0);
          expect(Object.keys(cpu.timings).sort()).toEqual(['decode', 'masks', 'nms', 'roi', 'rpn']);
        }

        await withDevice(async (device) => {
          const mask = maskSizeFor(image.width, image.height);
          const post = createTwoStageGpu(device, manifest, mask);
          // The steps after the backbone, as the runner runs them on 'wasm+gpu': the backbone's
          // outputs uploaded, the heads on ORT wasm with their RoI features read back.
          const steps = maskRcnnProgram(manifest).steps.slice(1);
          const sessions: Record<string, Session> = { boxHead: boxSession, maskHead: maskSession };
          const runPart: PartRunner = async (step, tensors) => {
            const input = await tensors.onCpu(step.input);
            const r = await sessions[step.name]!.run({ [step.part.input.name]: new ort.Tensor('float32', input.data, input.dims) });
            for (const [logical, name] of Object.entries(step.outputs)) tensors.putCpu(logical, { data: r[name]!.data as Float32Array, dims: r[name]!.dims });
          };
          const uploads = new UploadBuffers(device, 'test.uploads');
          const transform = preprocessReference(img.data, img.width, img.height, manifest.input).geometry.transform;
          const frame = { manifest, settings, transform, image, mask };
          const runFrame = async () => {
            const tensors = new FrameTensors(device, uploads, (_where, fn) => fn());
            for (const [name, t] of Object.entries(backbone)) tensors.putCpu(name, t);
            const timings: Partial<StageTimings> = {};
            await runStepsOnGpu(steps, post, device, tensors, frame, runPart, timings, (_where, fn) => fn());
            return { ...(await post.readResult()), featureBytes: tensors.bytesReadBack, headsMs: timings.heads ?? 0 };
          };
          const t1 = performance.now();
          const gpu = await runFrame();
          const gpuMs = performance.now() - t1;
          if (id === MODELS[0]) {
            // A second frame on the same objects (pipelines compiled, buffers made): the same
            // records, and the warm per-stage GPU times.
            const t2 = performance.now();
            const again = await runFrame();
            const againMs = performance.now() - t2;
            expect(again.records).toEqual(gpu.records);
            const stageMs = (['rpn', 'roi', 'decode', 'nms', 'masks'] as const).map((k) => `${k} ${again.timings[k]?.toFixed(1)}`).join(', ');
            console.log(
              `${id}: second frame ${againMs.toFixed(0)} ms (heads ${again.headsMs.toFixed(0)} ms on ORT wasm); GPU stages (${again.timings.source ?? 'cpu'}): ${stageMs} ms`,
            );
          }
          const stages = await post.readStages();
          const gpuMasks = await post.readMasks();

          // Stage 1: the proposals.
          expect(stages.roiCount).toBe(ref.stages.roiCount);
          const roiError = maxAbsDiff(stages.rois.subarray(0, 4 * ref.stages.roiCount), ref.stages.rois.subarray(0, 4 * ref.stages.roiCount));
          // Stage 2: the RoI features of the box head, and those of the mask head's kept rows.
          const boxFeatureError = maxAbsDiff(stages.boxFeatures, ref.stages.boxFeatures);
          // Stage 3: detections, matched by class and box (ranks may swap on near-ties).
          const refRecords = ref.records;
          const gpuRecords = gpu.records;
          const used = new Set<number>();
          let minBoxIou = 1;
          let minMaskIou = 1;
          const unmatched: string[] = [];
          const matches: Array<[number, number]> = [];
          gpuRecords.forEach((g: DecodedRecord, i) => {
            let best = -1;
            let bestIou = 0;
            refRecords.forEach((r, j) => {
              if (used.has(j) || r.classIndex !== g.classIndex || r.sourceIndex !== g.sourceIndex) return;
              const iou = boxIou(g.box, r.box);
              if (iou > bestIou) [best, bestIou] = [j, iou];
            });
            if (best < 0) {
              unmatched.push(`gpu #${i} class ${g.classIndex} roi ${g.sourceIndex} score ${g.score.toFixed(6)}`);
              return;
            }
            used.add(best);
            matches.push([i, best]);
            minBoxIou = Math.min(minBoxIou, bestIou);
            minMaskIou = Math.min(minMaskIou, maskIou(gpuMasks, i, ref.masks, best));
          });
          const maxScoreDiff = Math.max(0, ...matches.map(([i, j]) => Math.abs(gpuRecords[i]!.score - refRecords[j]!.score)));
          const maskFeatureRows = matches.filter(([i, j]) => i === j).map(([i]) => i);
          console.log(
            `${id} ${SAMPLE}: ${ref.stages.roiCount} RoIs (max |Δ| ${roiError.toExponential(2)} px), box features max |Δ| ${boxFeatureError.toExponential(2)}, ` +
              `${refRecords.length} ref / ${gpuRecords.length} gpu detections (${ref.stages.candidateCount} / ${gpu.candidateCount} candidates), ` +
              `${matches.length} matched, ${maskFeatureRows.length} at the same rank; min box IoU ${minBoxIou.toFixed(4)}, min mask IoU ${minMaskIou.toFixed(4)}, ` +
              `max |Δscore| ${maxScoreDiff.toExponential(2)}; mask pixels ${ref.records.reduce((n, r) => n + r.maskArea, 0)} ref / ${gpuRecords.reduce((n, r) => n + r.maskArea, 0)} gpu; ` +
              `read back ${gpu.bytesReadBack + gpu.featureBytes} B (features ${gpu.featureBytes} B); reference ${refMs.toFixed(0)} ms, gpu chain ${gpuMs.toFixed(0)} ms` +
              (unmatched.length ? `; unmatched: ${unmatched.join(', ')}` : ''),
          );
          expect(roiError).toBeLessThan(1e-3);
          expect(boxFeatureError).toBeLessThan(1e-3);
          expect(refRecords.length).toBeGreaterThan(0);
          expect(gpuRecords.length).toBe(refRecords.length);
          // Every detection matched, but a near-tie at the cap may swap one or two in / out.
          expect(matches.length).toBeGreaterThanOrEqual(Math.min(gpuRecords.length, Math.max(0, settings.maxDetections - 2)));
          expect(minBoxIou).toBeGreaterThanOrEqual(0.99);
          expect(minMaskIou).toBeGreaterThanOrEqual(0.98);
          expect(maxScoreDiff).toBeLessThan(1e-4);
          // 'wasm+gpu' reads back the RoI features for the CPU heads, and they are counted.
          expect(gpu.featureBytes).toBe(
            4 * (boxFeatureDims(layout).reduce((a, b) => a * b) + maskFeatureDims(layout, settings.maxDetections).reduce((a, b) => a * b)),
          );
          post.destroy();
          uploads.destroy();
        });
        for (const s of [backboneSession, boxSession, maskSession]) await s.release();
      },
      600_000,
    );
  }
});
