/**
 * Per-stage GPU timings with timestamp queries, read back in the same staging buffer as
 * the DetectionRecords so a frame needs ONE mapAsync:
 *
 *   const timer = createGpuTimer(device, ['preprocess', 'decode', 'nms', 'masks']);
 *   const pass = encoder.beginComputePass(timer.passDescriptor('nms'));   // begin + end stamps
 *   …
 *   timer.resolve(encoder, staging, recordsBytes);  // staging: MAP_READ | COPY_DST,
 *                                                   // at least recordsBytes + timer.bytes
 *   … mapAsync …
 *   const ms = timer.read(mapped, recordsBytes);    // { nms: 0.42, … }
 *
 * A stage may span several passes: give each the same name; the stage's time runs from the
 * first pass's begin to the last pass's end (`passDescriptor` keeps the begin stamp of the
 * first and re-targets the end stamp). Without 'timestamp-query' the timer falls back to
 * CPU marks (`cpuBegin` / `cpuEnd`), and `source` says which one the numbers are.
 */

export type TimingSource = 'gpu' | 'cpu';

export interface GpuTimer {
  readonly source: TimingSource;
  /** Bytes `resolve` writes into the destination buffer (0 on the CPU fallback). */
  readonly bytes: number;
  /** Descriptor for `beginComputePass`, with timestampWrites when available. */
  passDescriptor(stage: string, label?: string): GPUComputePassDescriptor;
  /** Resolves the queries and copies them to `dst` at `dstOffset` (a multiple of 8). */
  resolve(encoder: GPUCommandEncoder, dst: GPUBuffer, dstOffset: number): void;
  /** Per-stage milliseconds from the mapped bytes (GPU) or from the CPU marks. */
  read(mapped: ArrayBuffer, offset: number): Record<string, number>;
  /** CPU fallback marks (no-ops worth calling on the GPU path too). */
  cpuBegin(stage: string): void;
  cpuEnd(stage: string): void;
  destroy(): void;
}

/** Resolved timestamps are u64 nanoseconds. */
const TIMESTAMP_BYTES = 8;

export function createGpuTimer(device: GPUDevice, stages: readonly string[], label = 'timer'): GpuTimer {
  const stageIndex = new Map(stages.map((s, i) => [s, i] as const));
  const cpuStart = new Map<string, number>();
  const cpuMs = new Map<string, number>();
  const cpuBegin = (stage: string): void => {
    cpuStart.set(stage, performance.now());
  };
  const cpuEnd = (stage: string): void => {
    const t0 = cpuStart.get(stage);
    if (t0 !== undefined) cpuMs.set(stage, (cpuMs.get(stage) ?? 0) + performance.now() - t0);
  };
  const indexOf = (stage: string): number => {
    const i = stageIndex.get(stage);
    if (i === undefined) throw new Error(`GpuTimer: unknown stage '${stage}' (known: ${stages.join(', ')})`);
    return i;
  };

  if (!device.features.has('timestamp-query') || stages.length === 0) {
    return {
      source: 'cpu',
      bytes: 0,
      passDescriptor: (stage, passLabel) => {
        indexOf(stage);
        return { label: passLabel ?? stage };
      },
      resolve: () => {},
      read: () => {
        const out: Record<string, number> = {};
        for (const [s, ms] of cpuMs) out[s] = ms;
        cpuMs.clear();
        return out;
      },
      cpuBegin,
      cpuEnd,
      destroy: () => {},
    };
  }

  // Query layout: stage i → begin at 2i, end at 2i + 1.
  const count = stages.length * 2;
  const bytes = count * TIMESTAMP_BYTES;
  const querySet = device.createQuerySet({ label: `${label}.queries`, type: 'timestamp', count });
  // resolveQuerySet needs a 256-byte-aligned offset into a QUERY_RESOLVE buffer, so resolve
  // into our own buffer and copy from it to wherever the caller stages its read-back.
  const resolveBuffer = device.createBuffer({
    label: `${label}.resolve`,
    size: bytes,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  // Stages used since the last resolve: the first pass of a stage writes its begin stamp.
  const begun = new Set<number>();
  // Stamps never written this frame read as 0 (resolveQuerySet of unwritten queries is 0).

  return {
    source: 'gpu',
    bytes,
    passDescriptor: (stage, passLabel) => {
      const i = indexOf(stage);
      const timestampWrites: GPUComputePassTimestampWrites = { querySet, endOfPassWriteIndex: 2 * i + 1 };
      if (!begun.has(i)) {
        timestampWrites.beginningOfPassWriteIndex = 2 * i;
        begun.add(i);
      }
      return { label: passLabel ?? stage, timestampWrites };
    },
    resolve: (encoder, dst, dstOffset) => {
      encoder.resolveQuerySet(querySet, 0, count, resolveBuffer, 0);
      encoder.copyBufferToBuffer(resolveBuffer, 0, dst, dstOffset, bytes);
      begun.clear();
    },
    read: (mapped, offset) => {
      const stamps = new BigUint64Array(mapped, offset, count);
      const out: Record<string, number> = {};
      stages.forEach((s, i) => {
        const t0 = stamps[2 * i]!;
        const t1 = stamps[2 * i + 1]!;
        if (t0 !== 0n && t1 >= t0) out[s] = Number(t1 - t0) / 1e6;
      });
      return out;
    },
    cpuBegin,
    cpuEnd,
    destroy: () => {
      querySet.destroy();
      resolveBuffer.destroy();
    },
  };
}
