/**
 * Small helpers for labelled GPU buffers: storage, uniform, uploads of typed arrays, and a
 * read-back. The read-back is a test / debug / export helper: the per-frame path reads back
 * only the DetectionRecords (+ timestamps), through its own staging buffer.
 */

/** WebGPU requires buffer sizes (and writeBuffer sizes) to be multiples of 4. */
export function align4(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}

/** Rounds up to a multiple of `alignment` (a power of two or any positive integer). */
export function alignTo(bytes: number, alignment: number): number {
  return Math.ceil(bytes / alignment) * alignment;
}

/**
 * A storage buffer, readable and writable by kernels, copyable both ways (so tests can
 * upload into it and read it back). Zero-sized requests get 4 bytes: WebGPU rejects
 * zero-sized bindings.
 */
export function createStorageBuffer(device: GPUDevice, label: string, bytes: number, extraUsage: GPUBufferUsageFlags = 0): GPUBuffer {
  return device.createBuffer({
    label,
    size: Math.max(4, align4(bytes)),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
  });
}

/** A uniform buffer (size rounded up to 16 bytes, the uniform struct alignment). */
export function createUniformBuffer(device: GPUDevice, label: string, bytes: number): GPUBuffer {
  return device.createBuffer({
    label,
    size: Math.max(16, alignTo(bytes, 16)),
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
}

/** Writes a typed array at `offset` (bytes) of `buffer`; pads the tail to 4 bytes. */
export function writeTyped(device: GPUDevice, buffer: GPUBuffer, data: ArrayBufferView, offset = 0): void {
  const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength % 4 === 0) {
    device.queue.writeBuffer(buffer, offset, bytes);
  } else {
    const padded = new Uint8Array(align4(bytes.byteLength));
    padded.set(bytes);
    device.queue.writeBuffer(buffer, offset, padded);
  }
}

/** A labelled storage buffer holding `data` (e.g. ORT outputs uploaded on the wasm+gpu path). */
export function uploadStorage(device: GPUDevice, label: string, data: ArrayBufferView, extraUsage: GPUBufferUsageFlags = 0): GPUBuffer {
  const buffer = createStorageBuffer(device, label, data.byteLength, extraUsage);
  if (data.byteLength > 0) writeTyped(device, buffer, data);
  return buffer;
}

/** A staging buffer for read-backs (MAP_READ | COPY_DST). */
export function createReadbackBuffer(device: GPUDevice, label: string, bytes: number): GPUBuffer {
  return device.createBuffer({
    label,
    size: Math.max(4, align4(bytes)),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
}

/**
 * Copies `bytes` bytes of `buffer` (from `offset`) to a fresh staging buffer, submits, maps,
 * and returns a copy of the contents. Test / debug / export helper: it waits for the queue.
 */
export async function readBuffer(device: GPUDevice, buffer: GPUBuffer, offset = 0, bytes: number = buffer.size - offset): Promise<ArrayBuffer> {
  const size = align4(bytes);
  const staging = createReadbackBuffer(device, `${buffer.label || 'buffer'}.readback`, size);
  const encoder = device.createCommandEncoder({ label: 'readBuffer' });
  encoder.copyBufferToBuffer(buffer, offset, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return copy;
}

export async function readF32(device: GPUDevice, buffer: GPUBuffer, count?: number): Promise<Float32Array> {
  return new Float32Array(await readBuffer(device, buffer, 0, count === undefined ? undefined : count * 4));
}

export async function readU32(device: GPUDevice, buffer: GPUBuffer, count?: number): Promise<Uint32Array> {
  return new Uint32Array(await readBuffer(device, buffer, 0, count === undefined ? undefined : count * 4));
}
