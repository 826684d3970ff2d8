/**
 * Compiled kernels, once per GPUDevice. A kernel host (app/gpu/kernels/<kernel>.ts) names
 * what its pipelines are made of in a `KernelSource` — kernel name, WGSL after includes,
 * entry points, the group-0 layout when it is explicit, override constants — and takes its
 * pipelines from here. The cache key holds exactly that, never a model id or a size, so a
 * second pane on a model, another model of the same family or a new mask size get the
 * pipelines already compiled; only their own (size-dependent) buffers are new.
 *
 *   key of a pipeline  = name ␀ entryPoint ␀ constants (sorted `k=v`, comma-joined)
 *                        ␀ layout (JSON of the group-0 entries, or 'auto') ␀ WGSL
 *   key of a module    = WGSL
 *   key of a layout    = JSON of the group-0 entries (bind group layout + pipeline layout)
 *
 * Compiling: `warmKernels(device, sources)` compiles with `createComputePipelineAsync`, so a
 * model switch does not block the page; a family's program awaits it before its GPU side is
 * made (`FamilyProgram.warmGpu`). `kernelPipelines` (what `create<Kernel>(device)` calls,
 * synchronously) then finds them; a pipeline that was not warmed is compiled there with
 * `createComputePipeline` and counted as `syncCompiles`, which tests keep at 0.
 *
 * 'auto' layouts are per pipeline: a bind group made from `pipeline.getBindGroupLayout(0)`
 * works with that pipeline, which every kernel object of this device now shares.
 */

/** What one kernel's pipelines are made of: everything that changes the compiled code. */
export interface KernelSource<E extends string = string> {
  /** Kernel name, the label prefix of its GPU objects ('classTopK'). */
  readonly name: string;
  /** The WGSL after `//!include` (app/gpu/shaderSource.ts). */
  readonly code: string;
  /** One pipeline per entry point. */
  readonly entryPoints: readonly E[];
  /** Group 0's layout, shared by all entry points; absent: 'auto' (one per pipeline). */
  readonly bindings?: readonly GPUBindGroupLayoutEntry[];
  /** Pipeline-overridable constants (WGSL `override`). */
  readonly constants?: Readonly<Record<string, number>>;
}

/** A KernelSource whose entry point names are kept in its type (`pipelines.compact`). */
export function kernelSource<const E extends string>(source: KernelSource<E>): KernelSource<E> {
  return source;
}

/** A kernel's pipelines on one device. */
export interface CompiledKernel<E extends string = string> {
  /** By entry point. */
  readonly pipelines: Readonly<Record<E, GPUComputePipeline>>;
  /** Group 0's layout when the source gives `bindings`; null for 'auto' layouts. */
  readonly bindGroupLayout: GPUBindGroupLayout | null;
}

/** Counters of one device's cache (the bench and the tests read them). */
export interface KernelCacheStats {
  /** Shader modules created. */
  shaderModules: number;
  /** Pipelines created: asyncCompiles + syncCompiles. */
  pipelines: number;
  /** … with createComputePipelineAsync (warm-up). */
  asyncCompiles: number;
  /** … with createComputePipeline, because nothing warmed them first. */
  syncCompiles: number;
  /** Pipelines asked for (by a kernel object or a warm-up) and found compiled or compiling. */
  hits: number;
}

interface DeviceCache {
  modules: Map<string, GPUShaderModule>;
  layouts: Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>;
  pipelines: Map<string, GPUComputePipeline>;
  pending: Map<string, Promise<GPUComputePipeline>>;
  stats: KernelCacheStats;
}

const caches = new WeakMap<GPUDevice, DeviceCache>();

function cacheOf(device: GPUDevice): DeviceCache {
  let cache = caches.get(device);
  if (!cache) {
    cache = {
      modules: new Map(),
      layouts: new Map(),
      pipelines: new Map(),
      pending: new Map(),
      stats: { shaderModules: 0, pipelines: 0, asyncCompiles: 0, syncCompiles: 0, hits: 0 },
    };
    caches.set(device, cache);
  }
  return cache;
}

/** A copy of the device's counters. */
export function kernelCacheStats(device: GPUDevice): KernelCacheStats {
  return { ...cacheOf(device).stats };
}

function layoutKey(source: KernelSource): string {
  return source.bindings ? JSON.stringify(source.bindings) : 'auto';
}

function constantsKey(source: KernelSource): string {
  const c = source.constants ?? {};
  return Object.keys(c)
    .sort()
    .map((k) => `${k}=${c[k]}`)
    .join(',');
}

/** The cache key of one pipeline (see the file comment for its format). */
export function pipelineKey(source: KernelSource<string>, entryPoint: string): string {
  return [source.name, entryPoint, constantsKey(source), layoutKey(source), source.code].join('\0');
}

function moduleFor(device: GPUDevice, cache: DeviceCache, source: KernelSource): GPUShaderModule {
  let module = cache.modules.get(source.code);
  if (!module) {
    module = device.createShaderModule({ label: `${source.name}.module`, code: source.code });
    cache.modules.set(source.code, module);
    cache.stats.shaderModules++;
  }
  return module;
}

function layoutFor(device: GPUDevice, cache: DeviceCache, source: KernelSource): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } | null {
  if (!source.bindings) return null;
  const key = layoutKey(source);
  let layout = cache.layouts.get(key);
  if (!layout) {
    const group = device.createBindGroupLayout({ label: `${source.name}.bindGroupLayout`, entries: [...source.bindings] });
    layout = { group, pipeline: device.createPipelineLayout({ label: `${source.name}.layout`, bindGroupLayouts: [group] }) };
    cache.layouts.set(key, layout);
  }
  return layout;
}

function descriptor(device: GPUDevice, cache: DeviceCache, source: KernelSource, entryPoint: string): GPUComputePipelineDescriptor {
  const layout = layoutFor(device, cache, source);
  const compute: GPUProgrammableStage = { module: moduleFor(device, cache, source), entryPoint };
  if (source.constants) compute.constants = { ...source.constants };
  return { label: `${source.name}.${entryPoint}`, layout: layout ? layout.pipeline : 'auto', compute };
}

/**
 * The kernel's pipelines, synchronously: from the cache, or compiled now (counted as
 * `syncCompiles`) if no warm-up made them.
 */
export function kernelPipelines<E extends string>(device: GPUDevice, source: KernelSource<E>): CompiledKernel<E> {
  const cache = cacheOf(device);
  const pipelines = {} as Record<E, GPUComputePipeline>;
  for (const entryPoint of source.entryPoints) {
    const key = pipelineKey(source, entryPoint);
    let pipeline = cache.pipelines.get(key);
    if (pipeline) {
      cache.stats.hits++;
    } else {
      pipeline = device.createComputePipeline(descriptor(device, cache, source, entryPoint));
      cache.pipelines.set(key, pipeline);
      cache.stats.pipelines++;
      cache.stats.syncCompiles++;
    }
    pipelines[entryPoint] = pipeline;
  }
  return { pipelines, bindGroupLayout: layoutFor(device, cache, source)?.group ?? null };
}

/**
 * Compiles every pipeline of `sources` not yet in the device's cache with
 * createComputePipelineAsync (in parallel; a pipeline already compiling is awaited, not
 * compiled twice). Rejects with the first compile error.
 */
export async function warmKernels(device: GPUDevice, sources: readonly KernelSource<string>[]): Promise<void> {
  const cache = cacheOf(device);
  const waits: Promise<GPUComputePipeline>[] = [];
  for (const source of sources) {
    for (const entryPoint of source.entryPoints) {
      const key = pipelineKey(source, entryPoint);
      if (cache.pipelines.has(key)) {
        cache.stats.hits++;
        continue;
      }
      let pending = cache.pending.get(key);
      if (pending) {
        cache.stats.hits++;
      } else {
        cache.stats.pipelines++;
        cache.stats.asyncCompiles++;
        pending = device.createComputePipelineAsync(descriptor(device, cache, source, entryPoint)).then(
          (pipeline) => {
            cache.pending.delete(key);
            // A synchronous compile may have got there first (a kernel made before the warm-up ended).
            if (!cache.pipelines.has(key)) cache.pipelines.set(key, pipeline);
            return cache.pipelines.get(key)!;
          },
          (err: unknown) => {
            cache.pending.delete(key);
            throw err;
          },
        );
        cache.pending.set(key, pending);
      }
      waits.push(pending);
    }
  }
  await Promise.all(waits);
}

/** The distinct sources of several lists (a family's warm list is the union of its kernels'). */
export function kernelSet(...lists: readonly (readonly KernelSource[])[]): KernelSource[] {
  return [...new Set(lists.flat())];
}
