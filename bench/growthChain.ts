/**
 * The measuring half of bench/growth.ts (loaded through Vite so that `?raw` WGSL imports
 * resolve): one YOLACT-550 GPU post-processor, fed `scaledYolactOutputs` at each candidate
 * count, timed with the post-processor's own timestamp spans.
 */
import { createTestDevice } from '../test/gpu';
import { createGpuPostprocessor } from '../app/families/yolact/gpu';
import { scaledManifest, scaledYolactOutputs } from '../app/bench/synthetic';
import { uploadOutputs, destroyOutputs } from '../app/bench/paths';
import type { PostprocessSettings } from '../app/types';
import type { InputTransform } from '../app/gpu/layout';

/** As the browser bench's scaling section (app/bench/main.ts `scaling`). */
const SETTINGS: PostprocessSettings = { scoreThreshold: 0.1, topK: 200, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100 };
const KEPT = 10;
const MASK = { width: 640, height: 480 };

export interface GrowthRow {
  candidates: number;
  instances: number;
  /** Medians in ms: decode, nms, masks and their sum. */
  decode: number;
  nms: number;
  masks: number;
  total: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function measureGrowth(cfg: { reps: number; warmup: number; candidates: number[] }): Promise<GrowthRow[]> {
  const device = await createTestDevice();
  if (!device.features.has('timestamp-query')) throw new Error('growth bench: the adapter has no timestamp-query');
  const manifest = scaledManifest();
  const post = createGpuPostprocessor(device, manifest, MASK);
  const input = manifest.input.width;
  const transform: InputTransform = { inputWidth: input, inputHeight: input, gainX: input / MASK.width, gainY: input / MASK.height, offsetX: 0, offsetY: 0 };
  // All cases uploaded first, then the repetitions interleaved (case after case in each
  // round), so that load from other jobs on the machine spreads over every case alike.
  const cases = cfg.candidates.map((n) => ({
    n,
    outputs: uploadOutputs(device, `growth${n}`, scaledYolactOutputs(7 + n + 1000 * KEPT, n, Math.min(KEPT, n))),
  }));
  const runs = new Map<number, { decode: number; nms: number; masks: number; instances: number }[]>(cfg.candidates.map((n) => [n, []]));
  try {
    for (let r = 0; r < cfg.warmup + cfg.reps; r++) {
      for (const { n, outputs } of cases) {
        const encoder = device.createCommandEncoder({ label: `growth.${n}.postprocess` });
        post.encode(encoder, outputs.buffers, SETTINGS, transform, MASK);
        device.queue.submit([encoder.finish()]);
        const read = await post.readResult();
        const t = read.timings;
        if (r >= cfg.warmup) runs.get(n)!.push({ decode: t.decode ?? NaN, nms: t.nms ?? NaN, masks: t.masks ?? NaN, instances: read.records.length });
      }
    }
  } finally {
    for (const c of cases) destroyOutputs(c.outputs);
    post.destroy();
    device.destroy();
  }
  return cfg.candidates.map((n) => {
    const rs = runs.get(n)!;
    const row: GrowthRow = {
      candidates: n,
      instances: rs[0]!.instances,
      decode: median(rs.map((x) => x.decode)),
      nms: median(rs.map((x) => x.nms)),
      masks: median(rs.map((x) => x.masks)),
      total: median(rs.map((x) => x.decode + x.nms + x.masks)),
    };
    console.error(
      `growth: ${n} candidates: ${row.total.toFixed(1)} ms (decode ${row.decode.toFixed(1)}, nms ${row.nms.toFixed(1)}, masks ${row.masks.toFixed(1)}), ${row.instances} kept`,
    );
    return row;
  });
}

export function growthTable(rows: GrowthRow[]): string {
  const first = rows[0]!;
  const lines = [
    '| candidates | kept | decode ms | nms ms | masks ms | chain ms | chain / first |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.candidates} | ${r.instances} | ${r.decode.toFixed(1)} | ${r.nms.toFixed(1)} | ${r.masks.toFixed(1)} | ${r.total.toFixed(1)} | ${(r.total / first.total).toFixed(2)}× |`,
    ),
  ];
  return lines.join('\n');
}
