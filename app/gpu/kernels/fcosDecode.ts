/**
 * Host code of shaders/fcos_decode.wgsl: FCOS's decode over all levels (CenterMask) into the
 * inputs of the shared chain — boxes [N] vec4 relative to the input, conf [N, K + 1] (the
 * kept pairs' sqrt(cls·ctr), NOT_RANKED elsewhere), candidates [4 + N] u32 (the locations
 * with a kept pair) — exactly what yolactDecode gives classTopK, NMS and detectionCap.
 * Reference: app/reference/fcosDecode.ts.
 *
 * Per level the kernel binds that level's three tensors (a level a dispatch: all of them at
 * once would pass WebGPU's eight storage buffers a stage). Scratch of its own: the levels'
 * key lists [N·K] vec2<u32>, their counts [L] and a flag per location [N].
 * Params are written with queue.writeBuffer at encode time: one kernel object per chain, at
 * most one `run` of it per submitted command buffer.
 */
import shaderCodeRaw from '../../../shaders/fcos_decode.wgsl?raw';
import { withIncludes } from '../shaderSource';
import { createUniformBuffer } from '../buffers';
import { BindGroupCache, bufferEntries, entry } from '../bindGroups';
import { kernelPipelines, kernelSource } from '../kernelCache';
import { packUniforms, uniformLayout } from '../uniforms';

const shaderCode = withIncludes(shaderCodeRaw);

/**
 * The kernel's pipelines (app/gpu/kernelCache.ts). 'auto' layouts: the two entry points bind
 * different subsets (the key lists are written by one and read by the other).
 */
export const FCOS_DECODE = kernelSource({ name: 'fcosDecode', code: shaderCode, entryPoints: ['locations', 'selectLevel'] });
/** Params struct of fcos_decode.wgsl, as the WGSL lays it out. */
const PARAMS = uniformLayout(shaderCode, 'Params');
const WORKGROUP = 64;
/** Levels the Params table holds (P3..P7 use 5). */
export const FCOS_MAX_LEVELS = 8;
/** Pairs the select gathers a level (SORT_CAPACITY in the WGSL). */
export const FCOS_MAX_TOP_N = 1024;
/** Words before the candidate locations (count + padding), as yolactDecode's. */
const CANDIDATES_HEADER_WORDS = 4;
/** WebGPU's default maxComputeWorkgroupsPerDimension. */
const MAX_WORKGROUPS_PER_DIMENSION = 65535;

export interface FcosLevelBuffers {
  /** [1, K, H, W] f32 logits. */
  cls: GPUBuffer;
  /** [1, 4, H, W] f32 ltrb distances in input pixels. */
  box: GPUBuffer;
  /** [1, 1, H, W] f32 logits. */
  ctr: GPUBuffer;
}

export interface FcosDecodeInputs {
  levels: readonly FcosLevelBuffers[];
  /** Outputs, sized by `fcosDecodeBytes`. candidates word 0 is cleared here. */
  boxes: GPUBuffer;
  conf: GPUBuffer;
  candidates: GPUBuffer;
}

export interface FcosDecodeParams {
  numClasses: number;
  /** Per level: its map size and stride. */
  levels: ReadonlyArray<{ width: number; height: number; stride: number }>;
  input: { width: number; height: number };
  candidateThreshold: number;
  /** Pairs kept per level, ≤ FCOS_MAX_TOP_N (1000). */
  topN: number;
}

export interface FcosDecodeKernel {
  run(encoder: GPUCommandEncoder, inputs: FcosDecodeInputs, params: FcosDecodeParams, pass?: GPUComputePassDescriptor): void;
  destroy(): void;
}

/** Bytes of the outputs for N locations and K classes (and of the key lists, the largest scratch). */
export function fcosDecodeBytes(numLocations: number, numClasses: number): { boxes: number; conf: number; candidates: number; keys: number } {
  const n = Math.max(1, numLocations);
  return { boxes: 16 * n, conf: 4 * n * (numClasses + 1), candidates: 4 * (CANDIDATES_HEADER_WORDS + n), keys: 8 * n * Math.max(1, numClasses) };
}

export function createFcosDecode(device: GPUDevice): FcosDecodeKernel {
  const { locations, selectLevel } = kernelPipelines(device, FCOS_DECODE).pipelines;
  const uniforms: GPUBuffer[] = [];
  let scratch: { keys: GPUBuffer; counts: GPUBuffer; flags: GPUBuffer } | undefined;
  const bindGroups = new BindGroupCache<{ levels: GPUBindGroup[]; select: GPUBindGroup }>();

  return {
    run(encoder, inputs, params, pass) {
      const numLevels = params.levels.length;
      const k = params.numClasses;
      if (numLevels === 0 || numLevels > FCOS_MAX_LEVELS) throw new Error(`fcosDecode: ${numLevels} levels (1..${FCOS_MAX_LEVELS})`);
      if (inputs.levels.length !== numLevels) throw new Error(`fcosDecode: ${inputs.levels.length} level buffers for ${numLevels} levels`);
      if (params.topN > FCOS_MAX_TOP_N) throw new Error(`fcosDecode: topN ${params.topN} exceeds ${FCOS_MAX_TOP_N}`);
      const starts: number[] = [];
      let n = 0;
      for (const l of params.levels) {
        starts.push(n);
        n += l.width * l.height;
        if (Math.ceil((l.width * l.height) / WORKGROUP) > MAX_WORKGROUPS_PER_DIMENSION)
          throw new Error(`fcosDecode: a ${l.width}x${l.height} level is too large`);
      }
      const pairs = n * k;
      if (pairs > 2 ** 32) throw new Error(`fcosDecode: ${n} locations × ${k} classes exceed 32-bit pair indices`);
      const sizes = fcosDecodeBytes(n, k);
      if (sizes.keys > device.limits.maxStorageBufferBindingSize) {
        throw new Error(
          `fcosDecode: the key lists of ${n} locations × ${k} classes need ${sizes.keys} bytes, above this device's ${device.limits.maxStorageBufferBindingSize}`,
        );
      }
      for (const [name, need] of [
        ['boxes', sizes.boxes],
        ['conf', sizes.conf],
        ['candidates', sizes.candidates],
      ] as const) {
        if (inputs[name].size < need) throw new Error(`fcosDecode: ${name} has ${inputs[name].size} bytes, needs ${need}`);
      }
      if (!scratch || scratch.keys.size < sizes.keys || scratch.flags.size < 4 * n) {
        if (scratch) for (const b of Object.values(scratch)) b.destroy();
        const storage = (label: string, size: number) =>
          device.createBuffer({ label: `fcosDecode.${label}`, size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
        scratch = { keys: storage('levelKeys', sizes.keys), counts: storage('levelCounts', 4 * FCOS_MAX_LEVELS), flags: storage('flags', 4 * n) };
        bindGroups.clear();
      }
      while (uniforms.length < numLevels) uniforms.push(createUniformBuffer(device, `fcosDecode.params${uniforms.length}`, PARAMS.size));
      const indexBits = Math.max(1, Math.ceil(Math.log2(Math.max(1, pairs))));
      const table = params.levels.map((l, i) => [starts[i]!, l.width, l.height, l.stride]);
      params.levels.forEach((_, level) => {
        device.queue.writeBuffer(
          uniforms[level]!,
          0,
          packUniforms(PARAMS, {
            numClasses: k,
            numLocations: n,
            indexBits,
            topN: params.topN,
            level,
            numLevels,
            invInputWidth: Math.fround(1 / params.input.width),
            invInputHeight: Math.fround(1 / params.input.height),
            inputWidth: params.input.width,
            inputHeight: params.input.height,
            candidateThreshold: params.candidateThreshold,
            levels: table,
          }),
        );
      });
      const s = scratch;
      const key = [inputs.boxes, inputs.conf, inputs.candidates, ...inputs.levels.flatMap((l) => [l.cls, l.box, l.ctr])];
      // The scratch buffers are not in the key: replacing them clears the cache (above).
      const bound = bindGroups.get(key, () => ({
        levels: inputs.levels.map((l, level) =>
          device.createBindGroup({
            label: `fcosDecode.locations${level}.bindGroup`,
            layout: locations.getBindGroupLayout(0),
            entries: [entry(0, uniforms[level]!), ...bufferEntries([l.cls, l.box, l.ctr, inputs.boxes, inputs.conf, s.flags, s.keys, s.counts], 1)],
          }),
        ),
        select: device.createBindGroup({
          label: 'fcosDecode.selectLevel.bindGroup',
          layout: selectLevel.getBindGroupLayout(0),
          entries: [entry(0, uniforms[0]!), entry(5, inputs.conf), ...bufferEntries([s.keys, s.counts, s.flags, inputs.candidates], 9)],
        }),
      }));
      encoder.clearBuffer(s.counts, 0, 4 * FCOS_MAX_LEVELS);
      encoder.clearBuffer(inputs.candidates, 0, 4 * CANDIDATES_HEADER_WORDS);
      const p = encoder.beginComputePass(pass ?? { label: 'fcosDecode' });
      p.setPipeline(locations);
      params.levels.forEach((l, level) => {
        p.setBindGroup(0, bound.levels[level]!);
        p.dispatchWorkgroups(Math.max(1, Math.ceil((l.width * l.height) / WORKGROUP)));
      });
      p.setPipeline(selectLevel);
      p.setBindGroup(0, bound.select);
      p.dispatchWorkgroups(numLevels);
      p.end();
    },
    destroy() {
      for (const u of uniforms) u.destroy();
      if (scratch) for (const b of Object.values(scratch)) b.destroy();
      bindGroups.clear();
    },
  };
}
