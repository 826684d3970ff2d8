/**
 * Path 5 of the bench: the official Ultralytics browser runtime (`@ultralytics/yolo`, installed
 * at bench time outside the repository and served by bench/officialPeer.ts) on the same
 * YOLO-seg model and the same frames as our path 1.
 *
 * Its API takes an image and returns boxes plus one RGBA overlay: pre-processing, ORT
 * inference (its own ORT instance) and post-processing all happen inside its wasm. It cannot
 * be handed model outputs, so it cannot start where our paths 1–4 start (raw outputs already
 * in GPU buffers): what is compared is (a) a whole frame, image → result on the CPU, against
 * our app's 'wasm+gpu' runner on the same frame, and (b) its own reported post-processing
 * time (`speed.postprocess`) against our path 1 on the very outputs ORT gave us for that frame.
 *
 * Per frame: ORT (ours, wasm EP) runs the model once; our path 1 (GPU, Fast NMS) and the
 * TypeScript reference (masks at image resolution) run on those outputs; our runner runs the
 * frame end to end; the peer predicts the frame. Instances are matched by box IoU (greedy,
 * ≥ 0.5) and compared by count, class, box IoU and mask IoU. The peer's mask of an instance =
 * the overlay pixels inside its box painted in its box's colour (its overlay is one image, not
 * per-instance masks; same-class overlaps within a box count for both).
 *
 * GPU → CPU bytes are counted for both by wrapping `GPUBuffer.prototype.mapAsync` (READ) while
 * the measured call runs; on the 'cpu' device the peer has no GPU at all.
 */
import type { Detection, InstanceMasks, ModelManifest, PostprocessSettings } from '../types';
import { Frame } from '../pipeline/frame';
import { createRunner } from '../pipeline/stages/stageRunner';
import { runOnCpu } from '../pipeline/stages/onnx';
import { getSession } from '../pipeline/sessions';
import { maskSize, type PaneRunner } from '../pipeline/runner';
import { preprocessReference, resizeGeometry } from '../reference/preprocess';
import { postprocessYoloSegReference } from '../families/yoloSeg/reference';
import { createGpuPostprocessor as createYoloSegGpu } from '../families/yoloSeg/gpu';
import { startBusyProbe } from './busy';
import { summarize, type Summary } from './stats';
import { destroyOutputs, runGpuPath, sameRecords, uploadOutputs } from './paths';

/** The part of the peer's API the bench uses (dist/index.d.ts of @ultralytics/yolo 0.0.48). */
export interface PeerBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  conf: number;
  cls: number;
  color: string;
}
export interface PeerResults {
  width: number;
  height: number;
  boxes: PeerBox[];
  masks: Uint8Array;
  speed: { preprocess: number; inference: number; postprocess: number };
}
interface PeerModel {
  readonly task: string;
  readonly device: string;
  predict(image: ImageBitmap, options: { conf: number; iou: number }): Promise<PeerResults>;
  free(): void;
}
interface PeerModule {
  YOLO: { load(source: string, options: { device: 'cpu' | 'webgpu'; ortBaseUrl: string }): Promise<PeerModel> };
}

export interface OfficialRunConfig {
  /** URL of the installed package's dist/index.js (served by the bench script). */
  moduleUrl: string;
  /** Where its ONNX Runtime Web files are served (instead of its CDN). */
  ortBaseUrl: string;
  /** Devices to run the peer on, each with its frames and repetitions (webgpu first: see runOfficial). */
  devices: { device: 'cpu' | 'webgpu'; frames: string[]; warmup: number; reps: number }[];
}

export interface OfficialDeps {
  device: GPUDevice;
  manifest: ModelManifest;
  loadFrame(id: string): Promise<ImageBitmap>;
  mainThreadTaskMs(): Promise<number | null>;
  paneKey: number;
}

/** How the peer's instances match ours on one frame. */
export interface Agreement {
  ours: number;
  peer: number;
  /** Pairs with box IoU ≥ 0.5 (greedy, best IoU first). */
  matched: number;
  /** Matched pairs of the same class. */
  sameClass: number;
  /** Means over matched pairs (NaN when none). */
  meanBoxIou: number;
  meanMaskIou: number;
  /** Classes (indices) of each side, sorted. */
  oursClasses: number[];
  peerClasses: number[];
}

export interface OfficialRow {
  frame: string;
  size: [number, number];
  /** The device asked for, and the one the peer reports it ran on. */
  device: 'cpu' | 'webgpu';
  ranOn: string;
  /** The peer: whole frame (image → result in JS), and its own stage split. */
  peer: {
    ms: Summary;
    busyMs: Summary;
    mainTaskMs: number | null;
    preprocess: Summary;
    inference: Summary;
    postprocess: Summary;
    gpuBytesReadBack: number;
    /** Bytes of the result handed to JS: the RGBA overlay (W·H·4; empty when it found nothing) and the box records. */
    resultBytes: number;
    instances: number;
  };
  /** Ours on the same frame: the app's 'wasm+gpu' runner end to end, and path 1 on the outputs ORT gave for it. */
  ours: {
    runnerMs: Summary;
    runnerBusyMs: Summary;
    runnerMainTaskMs: number | null;
    runnerInference: Summary;
    runnerBytesReadBack: number;
    path1Ms: Summary;
    path1BusyMs: Summary;
    path1GpuBytesReadBack: number;
    path1BytesReadBack: number;
    instances: number;
    /** Path 1's kept records = the TypeScript reference's (Fast NMS): the masks compared below are the reference's. */
    path1MatchesReference: boolean;
  };
  /** Thresholds both got: the peer's conf = our max(confThreshold, scoreThreshold), iou = ours. */
  thresholds: { conf: number; iou: number; maxDetections: number };
  vsFast: Agreement;
  vsGreedy: Agreement;
}

export interface OfficialResult {
  model: string;
  loads: { device: 'cpu' | 'webgpu'; ranOn?: string; task?: string; loadMs?: number; error?: string }[];
  rows: OfficialRow[];
  /** Frames or devices not measured, with why. */
  notes: string[];
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Counts bytes mapped for reading (GPU → CPU) by any GPUBuffer while `fn` runs. */
async function countReadBack<T>(fn: () => Promise<T>): Promise<{ value: T; bytes: number }> {
  if (typeof GPUBuffer === 'undefined') return { value: await fn(), bytes: 0 };
  const proto = GPUBuffer.prototype;
  // The prototype's own function, called below with each buffer as `this`.
  const original = Object.getOwnPropertyDescriptor(proto, 'mapAsync')!.value as GPUBuffer['mapAsync'];
  let bytes = 0;
  proto.mapAsync = function (this: GPUBuffer, mode: GPUMapModeFlags, offset?: GPUSize64, size?: GPUSize64) {
    if (mode & GPUMapMode.READ) bytes += size ?? this.size - (offset ?? 0);
    return original.call(this, mode, offset, size);
  };
  try {
    return { value: await fn(), bytes };
  } finally {
    proto.mapAsync = original;
  }
}

function boxIou(a: readonly number[], b: readonly number[]): number {
  const iw = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const ih = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = iw * ih;
  const union = (a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter;
  return union > 0 ? inter / union : 0;
}

/** Pixel indices (y·W + x) of the peer's overlay inside `box` painted in `colour` ('#RRGGBB'). */
function peerMaskPixels(res: PeerResults, box: PeerBox): Set<number> {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(box.color.slice(i, i + 2), 16));
  const out = new Set<number>();
  const x0 = Math.max(0, Math.floor(box.x1));
  const y0 = Math.max(0, Math.floor(box.y1));
  const x1 = Math.min(res.width, Math.ceil(box.x2));
  const y1 = Math.min(res.height, Math.ceil(box.y2));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const o = 4 * (y * res.width + x);
      if (res.masks[o + 3]! > 0 && res.masks[o] === r && res.masks[o + 1] === g && res.masks[o + 2] === b) out.add(y * res.width + x);
    }
  }
  return out;
}

/** Mask IoU of our instance n (bit-packed, image resolution) and a peer pixel set. */
function maskIou(masks: InstanceMasks, n: number, peer: Set<number>): number {
  let ours = 0;
  let inter = 0;
  const plane = n * masks.height * masks.wordsPerRow;
  for (let y = 0; y < masks.height; y++) {
    for (let w = 0; w < masks.wordsPerRow; w++) {
      let word = masks.bits[plane + y * masks.wordsPerRow + w]!;
      while (word) {
        const bit = 31 - Math.clz32(word);
        word &= ~(1 << bit) >>> 0;
        const x = w * 32 + bit;
        if (x >= masks.width) continue;
        ours++;
        if (peer.has(y * masks.width + x)) inter++;
      }
    }
  }
  const union = ours + peer.size - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy one-to-one matching by box IoU (≥ 0.5), then class / box IoU / mask IoU of the pairs. */
export function agreement(ours: { detections: Detection[]; masks: InstanceMasks }, peer: PeerResults): Agreement {
  const pairs: { i: number; j: number; iou: number }[] = [];
  ours.detections.forEach((d, i) =>
    peer.boxes.forEach((b, j) => {
      const iou = boxIou(d.box, [b.x1, b.y1, b.x2, b.y2]);
      if (iou >= 0.5) pairs.push({ i, j, iou });
    }),
  );
  pairs.sort((a, b) => b.iou - a.iou);
  const usedI = new Set<number>();
  const usedJ = new Set<number>();
  const kept = pairs.filter((p) => {
    if (usedI.has(p.i) || usedJ.has(p.j)) return false;
    usedI.add(p.i);
    usedJ.add(p.j);
    return true;
  });
  const sameMaskRes = ours.masks.width === peer.width && ours.masks.height === peer.height;
  const maskIous = sameMaskRes ? kept.map((p) => maskIou(ours.masks, p.i, peerMaskPixels(peer, peer.boxes[p.j]!))) : [];
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : NaN);
  return {
    ours: ours.detections.length,
    peer: peer.boxes.length,
    matched: kept.length,
    sameClass: kept.filter((p) => ours.detections[p.i]!.classIndex === peer.boxes[p.j]!.cls).length,
    meanBoxIou: mean(kept.map((p) => p.iou)),
    meanMaskIou: mean(maskIous),
    oursClasses: ours.detections.map((d) => d.classIndex).sort((a, b) => a - b),
    peerClasses: peer.boxes.map((b) => b.cls).sort((a, b) => a - b),
  };
}

function settingsOf(manifest: ModelManifest, nmsKind: PostprocessSettings['nmsKind']): PostprocessSettings {
  const { scoreThreshold, topK, nmsIou, maxDetections } = manifest.defaults;
  return { scoreThreshold, topK, nmsIou, maxDetections, nmsKind };
}

let frameIds = 1_000_000;

/** Our side of one frame: ORT once, path 1 timed on its outputs, the reference's detections and masks, the runner end to end. */
async function oursOnFrame(deps: OfficialDeps, runner: PaneRunner, bitmap: ImageBitmap, warmup: number, reps: number) {
  const { device, manifest } = deps;
  const fast = settingsOf(manifest, 'fast');
  const image = { width: bitmap.width, height: bitmap.height };
  const session = await getSession(manifest, 'wasm');
  const px = new Frame(frameIds++, bitmap, bitmap.width, bitmap.height).pixels();
  const raw = await runOnCpu(session, manifest, preprocessReference(px.data, px.width, px.height, manifest.input).tensor);
  const refFast = postprocessYoloSegReference(raw, manifest, fast, image, image);
  const refGreedy = postprocessYoloSegReference(raw, manifest, { ...fast, nmsKind: 'greedy' }, image, image);
  // Path 1 exactly as section 2 runs it (mask at the display size the app uses).
  const post = createYoloSegGpu(device, manifest, maskSize(image.width, image.height));
  const outputs = uploadOutputs(device, `${manifest.id}.official`, raw);
  const transform = resizeGeometry(image.width, image.height, manifest.input).transform;
  const path1: { ms: number; busy: number; bytes: number; gpuBytes: number; records: Awaited<ReturnType<typeof runGpuPath>>['records'] }[] = [];
  try {
    for (let r = 0; r < warmup + reps; r++) {
      const { value, bytes } = await countReadBack(() => runGpuPath(device, post, outputs, fast, transform, image));
      if (r >= warmup) path1.push({ ms: value.ms, busy: value.busyMs, bytes: value.bytesReadBack, gpuBytes: bytes, records: value.records });
    }
  } finally {
    destroyOutputs(outputs);
    post.destroy();
  }
  const runs: { ms: number; busy: number; inference: number; bytes: number }[] = [];
  const view = { highlight: null, hiddenClasses: [] };
  for (let r = 0; r < warmup + reps; r++) {
    const probe = startBusyProbe();
    const t0 = performance.now();
    const out = await runner.run(new Frame(frameIds++, bitmap, bitmap.width, bitmap.height), fast, view);
    const ms = performance.now() - t0;
    const busy = probe.stop();
    out.overlay?.close();
    if (r >= warmup) runs.push({ ms, busy, inference: out.result.timings.inference ?? NaN, bytes: out.result.bytesReadBack });
  }
  const before = await deps.mainThreadTaskMs();
  (await runner.run(new Frame(frameIds++, bitmap, bitmap.width, bitmap.height), fast, view)).overlay?.close();
  const after = await deps.mainThreadTaskMs();
  const last = path1[path1.length - 1]!;
  return {
    refFast,
    refGreedy,
    ours: {
      runnerMs: summarize(runs.map((r) => r.ms)),
      runnerBusyMs: summarize(runs.map((r) => r.busy)),
      runnerMainTaskMs: before !== null && after !== null ? after - before : null,
      runnerInference: summarize(runs.map((r) => r.inference)),
      runnerBytesReadBack: runs[runs.length - 1]!.bytes,
      path1Ms: summarize(path1.map((r) => r.ms)),
      path1BusyMs: summarize(path1.map((r) => r.busy)),
      path1GpuBytesReadBack: last.gpuBytes,
      path1BytesReadBack: last.bytes,
      instances: last.records.length,
      path1MatchesReference: sameRecords(last.records, refFast.records),
    },
  };
}

/**
 * Loads the peer once per device and runs every configured frame. The page's ORT global of
 * the peer is set by the first load and kept (its loader initialises once per page), so a
 * 'webgpu' load must come first: its build also runs the CPU (wasm) EP.
 */
export async function runOfficial(cfg: OfficialRunConfig, deps: OfficialDeps): Promise<OfficialResult> {
  const { manifest } = deps;
  const result: OfficialResult = { model: manifest.id, loads: [], rows: [], notes: [] };
  const mod = (await import(/* @vite-ignore */ cfg.moduleUrl)) as PeerModule;
  const fast = settingsOf(manifest, 'fast');
  const thresholds = { conf: Math.max(manifest.defaults.confThreshold ?? 0.25, fast.scoreThreshold), iou: fast.nmsIou, maxDetections: fast.maxDetections };
  const runner = await createRunner('wasm+gpu', manifest, { device: deps.device, paneKey: deps.paneKey, overlayMode: 'readback' });
  try {
    for (const dev of cfg.devices) {
      let peer: PeerModel;
      const t0 = performance.now();
      try {
        peer = await mod.YOLO.load(new URL(`/${manifest.url}`, location.href).href, {
          device: dev.device,
          ortBaseUrl: new URL(cfg.ortBaseUrl, location.href).href,
        });
        result.loads.push({ device: dev.device, ranOn: peer.device, task: peer.task, loadMs: performance.now() - t0 });
        console.log(
          `[bench] official peer loaded ${manifest.url} on ${peer.device} (asked ${dev.device}), task ${peer.task}, ${(performance.now() - t0).toFixed(0)} ms`,
        );
      } catch (e) {
        result.loads.push({ device: dev.device, error: message(e) });
        result.notes.push(`the peer could not load ${manifest.url} on '${dev.device}': ${message(e)}`);
        continue;
      }
      try {
        for (const frameId of dev.frames) {
          let bitmap: ImageBitmap;
          try {
            bitmap = await deps.loadFrame(frameId);
          } catch (e) {
            result.notes.push(`${frameId}: not loaded (${message(e)})`);
            continue;
          }
          const mine = await oursOnFrame(deps, runner, bitmap, dev.warmup, dev.reps);
          const runs: { ms: number; busy: number; res: PeerResults; gpuBytes: number }[] = [];
          for (let r = 0; r < dev.warmup + dev.reps; r++) {
            const probe = startBusyProbe();
            const t1 = performance.now();
            const { value: res, bytes } = await countReadBack(() => peer.predict(bitmap, { conf: thresholds.conf, iou: thresholds.iou }));
            const ms = performance.now() - t1;
            const busy = probe.stop();
            if (r >= dev.warmup) runs.push({ ms, busy, res, gpuBytes: bytes });
          }
          const before = await deps.mainThreadTaskMs();
          await peer.predict(bitmap, { conf: thresholds.conf, iou: thresholds.iou });
          const after = await deps.mainThreadTaskMs();
          const last = runs[runs.length - 1]!;
          const res = last.res;
          result.rows.push({
            frame: frameId,
            size: [bitmap.width, bitmap.height],
            device: dev.device,
            ranOn: peer.device,
            peer: {
              ms: summarize(runs.map((r) => r.ms)),
              busyMs: summarize(runs.map((r) => r.busy)),
              mainTaskMs: before !== null && after !== null ? after - before : null,
              preprocess: summarize(runs.map((r) => r.res.speed.preprocess)),
              inference: summarize(runs.map((r) => r.res.speed.inference)),
              postprocess: summarize(runs.map((r) => r.res.speed.postprocess)),
              gpuBytesReadBack: last.gpuBytes,
              // Each box: 4 coordinates + conf + class as f64 numbers, plus its name and colour strings.
              resultBytes: res.masks.byteLength + res.boxes.length * 6 * 8,
              instances: res.boxes.length,
            },
            ours: mine.ours,
            thresholds,
            vsFast: agreement(mine.refFast, res),
            vsGreedy: agreement(mine.refGreedy, res),
          });
          const row = result.rows[result.rows.length - 1]!;
          console.log(
            `[bench] official ${manifest.id} ${dev.device} ${frameId}: peer ${row.peer.ms.median.toFixed(1)} ms (post ${row.peer.postprocess.median.toFixed(1)}), ours runner ${row.ours.runnerMs.median.toFixed(1)} ms, path 1 ${row.ours.path1Ms.median.toFixed(1)} ms; instances ${row.ours.instances} / ${row.peer.instances}, matched ${row.vsFast.matched}`,
          );
          bitmap.close();
        }
      } catch (e) {
        result.notes.push(`'${dev.device}' run failed: ${message(e)}`);
      } finally {
        peer.free();
      }
    }
  } finally {
    runner.dispose();
  }
  return result;
}
