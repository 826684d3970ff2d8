/**
 * The named tensors of one frame, each on the CPU, the GPU or both. A step asks for its
 * inputs where it runs (`onCpu` for an ONNX part on the wasm EP and for the references,
 * `onGpu` for kernels and the WebGPU EP); a tensor that is only on the other side is moved
 * once, and the move is counted:
 *
 * - upload ('wasm+gpu': ORT wasm outputs into persistent GPU buffers, one per name, made
 *   again only when the size changes) → `uploadMs`;
 * - read-back (a kernel step's output for an ONNX part on the CPU: Mask R-CNN's RoI features
 *   on 'wasm+gpu', through a staging buffer kept per name) → `bytesReadBack`, `readBackMs`.
 *
 * GPU sections run in error scopes (`scoped`); the frame awaits their checks at its end.
 */
import { readBuffer } from '../../gpu/buffers';
import { mapSerialized } from '../../gpu/mapQueue';
import type { CpuTensor, GpuTensor } from './program';

/** Elements of a tensor of `dims`. */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Persistent GPU buffers for uploads, by tensor name, kept by the runner across frames. */
export class UploadBuffers {
  private readonly buffers = new Map<string, GPUBuffer>();
  private readonly staging = new Map<string, GPUBuffer>();

  constructor(
    private readonly device: GPUDevice,
    private readonly label: string,
  ) {}

  /** `data` in the buffer of `name` (a 16-byte multiple, at least 16; made again when the size changes). */
  write(name: string, data: Float32Array): GPUBuffer {
    const bytes = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
    let buffer = this.buffers.get(name);
    if (!buffer || buffer.size !== bytes) {
      buffer?.destroy();
      // COPY_SRC: a family may copy part of an output into its frame's read-back (B2Inst's scores and boundary basis),
      // as it can from ORT's own output buffers on 'webgpu'.
      buffer = this.device.createBuffer({
        label: `${this.label}.${name}`,
        size: bytes,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      });
      this.buffers.set(name, buffer);
    }
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /**
   * `bytes` of `source` read back through a staging buffer kept for `name` (made again only
   * when it is too small): a tensor read back every frame (Mask R-CNN's RoI features on
   * 'wasm+gpu') makes no buffer a frame. One frame at a time uses it (the runner's encode turn).
   */
  async read(name: string, source: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    let staging = this.staging.get(name);
    if (!staging || staging.size < size) {
      staging?.destroy();
      staging = this.device.createBuffer({ label: `${this.label}.${name}.readback`, size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      this.staging.set(name, staging);
    }
    const encoder = this.device.createCommandEncoder({ label: `${this.label}.${name}.readback` });
    encoder.copyBufferToBuffer(source, 0, staging, 0, Math.ceil(bytes / 4) * 4);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ, 0, size);
    const copy = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    return copy;
  }

  destroy(): void {
    for (const b of [...this.buffers.values(), ...this.staging.values()]) b.destroy();
    this.buffers.clear();
    this.staging.clear();
  }
}

/** Runs synchronous GPU calls in error scopes; the frame awaits what it records. */
export type Scoped = <T>(where: string, fn: () => T) => T;

export class FrameTensors {
  private readonly cpu = new Map<string, CpuTensor>();
  private readonly gpu = new Map<string, GpuTensor>();
  bytesReadBack = 0;
  readBackMs = 0;
  uploadMs = 0;

  constructor(
    private readonly device: GPUDevice | null,
    private readonly uploads: UploadBuffers | null,
    private readonly scoped: Scoped,
  ) {}

  putCpu(name: string, tensor: CpuTensor): void {
    this.cpu.set(name, tensor);
    this.gpu.delete(name);
  }

  putGpu(name: string, tensor: GpuTensor): void {
    this.gpu.set(name, tensor);
    this.cpu.delete(name);
  }

  has(name: string): boolean {
    return this.cpu.has(name) || this.gpu.has(name);
  }

  /** The tensor on the CPU; a GPU-only f32 tensor is read back (counted). */
  async onCpu(name: string): Promise<CpuTensor> {
    const here = this.cpu.get(name);
    if (here) return here;
    const there = this.gpu.get(name);
    if (!there) throw new Error(`no tensor “${name}” this frame`);
    if (!this.device) throw new Error(`tensor “${name}” is on the GPU, and this path has no device`);
    if (there.type !== 'float32') throw new Error(`tensor “${name}” is ${there.type}: only float32 tensors come back from the GPU`);
    const bytes = elementCount(there.dims) * 4;
    const t0 = performance.now();
    const device = this.device;
    const uploads = this.uploads;
    // One map pending in the page (app/gpu/mapQueue.ts): another pane's frame may be reading back.
    const read = () => (uploads ? uploads.read(name, there.buffer, bytes) : readBuffer(device, there.buffer, 0, bytes));
    const data = new Float32Array(bytes > 0 ? await mapSerialized(read) : new ArrayBuffer(0));
    this.readBackMs += performance.now() - t0;
    this.bytesReadBack += bytes;
    const tensor = { data, dims: there.dims };
    this.cpu.set(name, tensor);
    return tensor;
  }

  /**
   * The tensor on the CPU, handed over: it leaves the table (its buffer may be transferred to
   * a worker). For a tensor only its one reader needs (an ONNX part's input).
   */
  async takeCpu(name: string): Promise<CpuTensor> {
    const tensor = await this.onCpu(name);
    this.cpu.delete(name);
    this.gpu.delete(name);
    return tensor;
  }

  /** The tensor on the GPU; a CPU-only tensor is uploaded into its persistent buffer (timed). */
  onGpu(name: string): GpuTensor {
    const here = this.gpu.get(name);
    if (here) return here;
    const there = this.cpu.get(name);
    if (!there) throw new Error(`no tensor “${name}” this frame`);
    if (!this.uploads) throw new Error(`tensor “${name}” is on the CPU, and this path uploads nothing`);
    const uploads = this.uploads;
    const t0 = performance.now();
    const buffer = this.scoped(`upload ${name}`, () => uploads.write(name, there.data));
    this.uploadMs += performance.now() - t0;
    const tensor = { buffer, dims: there.dims, type: 'float32' };
    this.gpu.set(name, tensor);
    return tensor;
  }
}
