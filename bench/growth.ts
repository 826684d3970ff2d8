/**
 * `npx tsx bench/growth.ts [--reps R] [--warmup W] [--candidates 10,100,1000,19248] [--out FILE]`
 *
 * Growth of the one-stage post-processing chain with the number of candidates, measured in
 * Node on Dawn (npm `webgpu`, SwiftShader unless VK_ICD_FILENAMES names another driver) with
 * timestamp queries: the YOLACT-550 GPU post-processor (`app/families/yolact/gpu.ts`:
 * decode → classTopK → Fast NMS → detectionCap → maskCoefficients → maskUpsample →
 * composeOverlay) on the benchmark's synthetic outputs (`app/bench/synthetic.ts`
 * `scaledYolactOutputs`: exactly `candidates` priors above the confidence threshold, 10
 * kept instances), 640x480 masks, the settings of the browser bench's scaling section.
 * Per case: median of R runs after W warm-up rounds (the cases interleaved in each round) of
 * the summed stage spans (decode + nms + masks, GPU timestamps) and of the stages. Prints a Markdown table; `--out` writes it.
 *
 * The app's modules import WGSL with `?raw`, so they are loaded through Vite's SSR module
 * loader (the same transform the tests use), not by tsx directly.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const reps = Number(arg('reps') ?? 5);
  const warmup = Number(arg('warmup') ?? 2);
  const candidates = (arg('candidates') ?? '10,100,1000,19248').split(',').map(Number);
  const server = await createServer({ root: ROOT, configFile: false, logLevel: 'warn', server: { middlewareMode: true, hmr: false }, appType: 'custom' });
  try {
    const chain = (await server.ssrLoadModule('/bench/growthChain.ts')) as typeof import('./growthChain');
    const rows = await chain.measureGrowth({ reps, warmup, candidates });
    const table = chain.growthTable(rows);
    console.log(table);
    const out = arg('out');
    if (out) writeFileSync(out, table + '\n');
  } finally {
    await server.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
