/**
 * The post-processing paths compared on IDENTICAL model outputs (already in GPU buffers):
 *
 *   1 'gpu-fast'   ours: WGSL decode → top-k → Fast NMS → cap → masks → overlay, ONE compact
 *                  read-back (records + timestamps); the masks and the overlay stay on the GPU.
 *   2 'gpu-greedy' the same chain with greedy NMS.
 *   3 'cpu'        the CPU way peers use: copy every raw output tensor to staging buffers and
 *                  mapAsync them all (a real GPU→CPU read-back), then the TypeScript decode,
 *                  greedy NMS, mask assembly and overlay (app/reference + the YOLACT reference).
 *   4 'peer-yoloseg' (YOLO-seg layout only) the peer app's own post-processing: read back
 *                  output0 + protos (the model's `output1`), run its NMS graph once and its
 *                  mask graph once per kept instance on ORT's wasm backend (graphs read from
 *                  ../shared at bench time).
 *
 * Paths 1–3 work for every single-stage family with a GPU chain and a TypeScript reference
 * (`familyChain`: YOLACT, YOLO-seg); path 4 for YOLO-seg raw heads.
 *
 * Each call returns wall time (performance.now) from the start of the path until its result
 * is on the CPU (1–3) / the overlay is complete (4), per-stage times, and the bytes that
 * crossed from the GPU to the CPU.
 */
import type { InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../types';
import type { InputTransform, DecodedRecord } from '../gpu/layout';
import type { RawOutput } from '../families/yolact/reference';
import { postprocessYolactReference, yolactRecordsReference } from '../families/yolact/reference';
import { createGpuPostprocessor as createYolactGpu } from '../families/yolact/gpu';
import { postprocessYoloSegReference, yoloSegRecordsReference } from '../families/yoloSeg/reference';
import { createGpuPostprocessor as createYoloSegGpu } from '../families/yoloSeg/gpu';
import type { GpuReadResult } from '../families/common/maskedDetectionGpu';
import { composeOverlayReference, defaultClassColours, hiddenClassMask } from '../reference/composeOverlay';
import { ort } from '../pipeline/ort';
import { startBusyProbe } from './busy';

export type PathId = 'gpu-fast' | 'gpu-greedy' | 'cpu' | 'peer-yoloseg';

export interface PathRun {
  /** Wall milliseconds, path start → result on the CPU. */
  ms: number;
  /** Main-thread busy milliseconds during the path (see busy.ts). */
  busyMs: number;
  /** Per-stage milliseconds (GPU timestamps for paths 1–2 where available, CPU timers otherwise). */
  stages: Partial<StageTimings> & Record<string, number | string | undefined>;
  bytesReadBack: number;
  instances: number;
}

/** What paths 1–2 need of a family's GPU post-processor (YolactGpuPostprocessor, YoloSegGpuPostprocessor). */
export interface BenchPostprocessor {
  encode(
    encoder: GPUCommandEncoder,
    outputs: Record<string, GPUBuffer>,
    settings: PostprocessSettings,
    transform: InputTransform,
    image: { width: number; height: number },
  ): void;
  readResult(): Promise<GpuReadResult>;
  destroy(): void;
}

/** A single-stage family's two chains: WGSL (paths 1–2) and TypeScript reference (path 3). */
export interface FamilyChain {
  createGpu(device: GPUDevice, manifest: ModelManifest, mask: { width: number; height: number }): BenchPostprocessor;
  postprocess(
    outputs: Record<string, RawOutput>,
    manifest: ModelManifest,
    settings: PostprocessSettings,
    image: { width: number; height: number },
    mask: { width: number; height: number },
  ): { records: DecodedRecord[]; masks: InstanceMasks; timings: Partial<Pick<StageTimings, 'decode' | 'nms' | 'masks'>> };
  records(outputs: Record<string, RawOutput>, manifest: ModelManifest, settings: PostprocessSettings): DecodedRecord[];
}

const CHAINS: Record<string, FamilyChain> = {
  yolact: {
    createGpu: (device, manifest, mask) => createYolactGpu(device, manifest, mask),
    postprocess: postprocessYolactReference,
    records: (outputs, manifest, settings) => yolactRecordsReference(outputs, manifest, settings).records,
  },
  'yolo-seg': {
    createGpu: (device, manifest, mask) => createYoloSegGpu(device, manifest, mask),
    postprocess: postprocessYoloSegReference,
    records: (outputs, manifest, settings) => yoloSegRecordsReference(outputs, manifest, settings).records,
  },
};

/** The chains of a family, or null where paths 1–3 do not apply (two-stage models, unknown families). */
export function familyChain(family: string): FamilyChain | null {
  return CHAINS[family] ?? null;
}

/** Raw outputs on the GPU, as the paths receive them. */
export interface GpuOutputs {
  buffers: Record<string, GPUBuffer>;
  /** The exact byte length and dims of each tensor (buffers may be padded). */
  tensors: Record<string, { bytes: number; dims: readonly number[] }>;
}

/** Uploads CPU tensors into labelled GPU storage buffers (STORAGE | COPY_SRC | COPY_DST). */
export function uploadOutputs(device: GPUDevice, label: string, outputs: Record<string, RawOutput>): GpuOutputs {
  const buffers: Record<string, GPUBuffer> = {};
  const tensors: GpuOutputs['tensors'] = {};
  for (const [name, t] of Object.entries(outputs)) {
    const buffer = device.createBuffer({
      label: `bench.${label}.${name}`,
      size: Math.max(16, Math.ceil(t.data.byteLength / 16) * 16),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, t.data.buffer, t.data.byteOffset, t.data.byteLength);
    buffers[name] = buffer;
    tensors[name] = { bytes: t.data.byteLength, dims: t.dims };
  }
  return { buffers, tensors };
}

export function destroyOutputs(outputs: GpuOutputs): void {
  for (const b of Object.values(outputs.buffers)) b.destroy();
}

/** Paths 1 and 2: our WGSL chain, one read-back. */
export async function runGpuPath(
  device: GPUDevice,
  post: BenchPostprocessor,
  outputs: GpuOutputs,
  settings: PostprocessSettings,
  transform: InputTransform,
  image: { width: number; height: number },
): Promise<PathRun & { records: DecodedRecord[] }> {
  const probe = startBusyProbe();
  const t0 = performance.now();
  const encoder = device.createCommandEncoder({ label: `bench.${settings.nmsKind}.postprocess` });
  post.encode(encoder, outputs.buffers, settings, transform, image);
  device.queue.submit([encoder.finish()]);
  const read = await post.readResult();
  const t1 = performance.now();
  const busyMs = probe.stop();
  return {
    ms: t1 - t0,
    busyMs,
    stages: { ...read.timings, source: read.timings.source ?? 'cpu' },
    bytesReadBack: read.bytesReadBack,
    instances: read.records.length,
    records: read.records,
  };
}

/** Staging buffers for the CPU path's read-back, one per output, reused between runs. */
export class RawReadback {
  private staging = new Map<string, GPUBuffer>();
  constructor(private readonly device: GPUDevice) {}

  /** Copies every output to a MAP_READ buffer, maps them all, and copies them out. */
  async read(outputs: GpuOutputs): Promise<Record<string, RawOutput>> {
    const encoder = this.device.createCommandEncoder({ label: 'bench.cpu.readback' });
    const names = Object.keys(outputs.tensors);
    for (const name of names) {
      const bytes = outputs.tensors[name]!.bytes;
      let s = this.staging.get(name);
      if (!s || s.size < bytes) {
        s?.destroy();
        s = this.device.createBuffer({
          label: `bench.cpu.staging.${name}`,
          size: Math.ceil(bytes / 4) * 4,
          usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        });
        this.staging.set(name, s);
      }
      encoder.copyBufferToBuffer(outputs.buffers[name]!, 0, s, 0, bytes);
    }
    this.device.queue.submit([encoder.finish()]);
    await Promise.all(names.map((n) => this.staging.get(n)!.mapAsync(GPUMapMode.READ, 0, outputs.tensors[n]!.bytes)));
    const out: Record<string, RawOutput> = {};
    for (const name of names) {
      const s = this.staging.get(name)!;
      const { bytes, dims } = outputs.tensors[name]!;
      out[name] = { data: new Float32Array(s.getMappedRange(0, bytes).slice(0)), dims };
      s.unmap();
    }
    return out;
  }

  destroy(): void {
    for (const s of this.staging.values()) s.destroy();
    this.staging.clear();
  }
}

/** Path 3: full raw read-back, then the family's TypeScript reference (greedy NMS) and overlay. */
export async function runCpuPath(
  readback: RawReadback,
  outputs: GpuOutputs,
  chain: FamilyChain,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  image: { width: number; height: number },
  mask: { width: number; height: number },
): Promise<PathRun & { records: DecodedRecord[] }> {
  const probe = startBusyProbe();
  const t0 = performance.now();
  const raw = await readback.read(outputs);
  const t1 = performance.now();
  const result = chain.postprocess(raw, manifest, settings, image, mask);
  const t2 = performance.now();
  const numClasses = manifest.classes.length;
  composeOverlayReference({
    masks: result.masks,
    classIndices: result.records.map((r) => r.classIndex),
    classColours: defaultClassColours(numClasses),
    hiddenClasses: hiddenClassMask([], numClasses),
    highlight: null,
  });
  const t3 = performance.now();
  const busyMs = probe.stop();
  const bytes = Object.values(outputs.tensors).reduce((s, t) => s + t.bytes, 0);
  return {
    ms: t3 - t0,
    busyMs,
    stages: { readback: t1 - t0, decode: result.timings.decode, nms: result.timings.nms, masks: (result.timings.masks ?? 0) + (t3 - t2), source: 'cpu' },
    bytesReadBack: bytes,
    instances: result.records.length,
    records: result.records,
  };
}

/** Same kept instances (class, prior, in order)? Used to check paths agree. */
export function sameRecords(a: readonly DecodedRecord[], b: readonly DecodedRecord[]): boolean {
  return a.length === b.length && a.every((r, i) => r.classIndex === b[i]!.classIndex && r.sourceIndex === b[i]!.sourceIndex);
}

/** The peer's two graphs, as wasm-EP sessions. */
export interface PeerSessions {
  nms: ort.InferenceSession;
  mask: ort.InferenceSession;
}

/** The peer's `config` of its NMS graph: top-k (class-agnostic: at most this many kept), IoU and score thresholds. */
export interface PeerNmsConfig {
  topK: number;
  iou: number;
  score: number;
}

/** Hyuto's defaults: top-k 100, IoU 0.45, score 0.25. */
export const PEER_CONFIG: PeerNmsConfig = { topK: 100, iou: 0.45, score: 0.25 };

/**
 * Our settings as the peer's NMS config, so that both keep comparable sets: top-k =
 * maxDetections (the peer's NMS is class-agnostic, so its top-k caps the kept total), the
 * same IoU, score threshold = the larger of the candidate and display thresholds.
 */
export function peerConfigFor(settings: PostprocessSettings, confThreshold: number): PeerNmsConfig {
  return { topK: settings.maxDetections, iou: settings.nmsIou, score: Math.max(confThreshold, settings.scoreThreshold) };
}

/**
 * Path 4: the peer's post-processing of YOLO-seg-layout outputs, the way that app calls it:
 * read back output0 and the prototypes (every tensor in `outputs`: `output0` and `protos`),
 * NMS graph → `selected` [1, K, 4+nc+32], then the mask graph once per kept row, each
 * painting its instance into the RGBA overlay [S, S, 4].
 */
export async function runPeerYoloSegPath(
  readback: RawReadback,
  outputs: GpuOutputs,
  sessions: PeerSessions,
  numClasses: number,
  inputSize: number,
  nmsConfig: PeerNmsConfig = PEER_CONFIG,
): Promise<PathRun> {
  const probe = startBusyProbe();
  const t0 = performance.now();
  const raw = await readback.read(outputs);
  const t1 = performance.now();
  const out0 = raw.output0!;
  const out1 = raw.protos!;
  const config = new ort.Tensor('float32', new Float32Array([numClasses, nmsConfig.topK, nmsConfig.iou, nmsConfig.score]), [4]);
  const { selected } = await sessions.nms.run({ detection: new ort.Tensor('float32', out0.data, out0.dims as number[]), config });
  const sel = (await selected!.getData()) as Float32Array;
  const [, kept = 0, width = 0] = selected!.dims;
  const t2 = performance.now();
  const proto = new ort.Tensor('float32', out1.data, out1.dims as number[]);
  let overlay = new ort.Tensor('uint8', new Uint8Array(inputSize * inputSize * 4), [inputSize, inputSize, 4]);
  for (let k = 0; k < kept; k++) {
    const row = sel.subarray(k * width, (k + 1) * width);
    const [cx, cy, w, h] = [row[0]!, row[1]!, row[2]!, row[3]!];
    const x = cx - w / 2;
    const y = cy - h / 2;
    const detection = new Float32Array(36);
    detection.set([x, y, w, h]);
    detection.set(row.subarray(4 + numClasses, 4 + numClasses + 32), 4);
    const colour = [(k * 67) % 256, (k * 151) % 256, (k * 211) % 256, 120];
    const cfg = new Float32Array([inputSize, x, y, w, h, ...colour]);
    const res = await sessions.mask.run({
      detection: new ort.Tensor('float32', detection, [36]),
      mask: proto,
      config: new ort.Tensor('float32', cfg, [9]),
      overlay,
    });
    overlay = res.mask_filter as typeof overlay;
  }
  await overlay.getData();
  const t3 = performance.now();
  const busyMs = probe.stop();
  return {
    ms: t3 - t0,
    busyMs,
    stages: { readback: t1 - t0, nms: t2 - t1, masks: t3 - t2, source: 'cpu' },
    bytesReadBack: out0.data.byteLength + out1.data.byteLength,
    instances: kept,
  };
}
