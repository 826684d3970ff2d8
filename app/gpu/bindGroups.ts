/**
 * Bind groups of the kernel hosts (app/gpu/kernels/*.ts): kept while their buffers stay the
 * same, and the usual one-pipeline, one-group, one-dispatch compute pass.
 *
 * Why a cache: on the 'webgpu' path a pane's steady-state frames bind the same buffers every
 * frame (ORT's outputs on our device, the family's persistent tensors), so a kernel makes its
 * bind groups once and again only when one of those buffers is another object — no bind group
 * is created per steady frame (app/pipeline/stages/overlay.test.ts counts 0 on Dawn).
 */

/**
 * The buffers a kernel's bind groups are made from, in a fixed order. `undefined` stands for
 * an optional buffer that is absent (it still takes its place in the key).
 */
export type BindGroupKey = readonly (GPUBuffer | undefined)[];

/**
 * The value `make` gave for the last key (one bind group, or a tuple / record of several
 * made from the same buffers), kept while every buffer of the key is the same object as then
 * and the key has the same length.
 */
export class BindGroupCache<T> {
  private entry: { key: BindGroupKey; value: T } | undefined;

  get(key: BindGroupKey, make: () => T): T {
    const last = this.entry;
    if (last && last.key.length === key.length && last.key.every((b, i) => b === key[i])) return last.value;
    const value = make();
    this.entry = { key: [...key], value };
    return value;
  }

  /** Forgets the value: the next `get` makes it again (a buffer behind it was replaced or destroyed). */
  clear(): void {
    this.entry = undefined;
  }
}

/** A bind group entry binding all of `buffer`. */
export function entry(binding: number, buffer: GPUBuffer): GPUBindGroupEntry {
  return { binding, resource: { buffer } };
}

/** `buffers` at consecutive bindings from `firstBinding`. */
export function bufferEntries(buffers: readonly GPUBuffer[], firstBinding = 0): GPUBindGroupEntry[] {
  return buffers.map((buffer, i) => entry(firstBinding + i, buffer));
}

/** One compute pass: `pipeline` with `group` at group 0, one dispatch of `workgroups` (x, y, z). */
export function dispatchPass(
  encoder: GPUCommandEncoder,
  pass: GPUComputePassDescriptor,
  pipeline: GPUComputePipeline,
  group: GPUBindGroup,
  workgroups: readonly [number, number?, number?],
): void {
  const p = encoder.beginComputePass(pass);
  p.setPipeline(pipeline);
  p.setBindGroup(0, group);
  p.dispatchWorkgroups(...workgroups);
  p.end();
}
