/**
 * `npm run bench [-- --quick | --smoke] [--reps R] [--warmup W] [--eval-limit N] [--models a,b]
 *   [--out DIR] [--publish | --no-publish] [--no-chart] [--eval-only]`
 *
 * Starts the app's Vite dev server (hot reload off), opens bench.html in headless Chromium
 * with WebGPU (Debian's /usr/bin/chromium or CHROMIUM_PATH, flags as in playwright.config.ts)
 * and runs bench/run.ts: writes bench/results/bench-<mode>.json, bench/results/README.md and
 * bench/results/chart.png. `--publish` also copies the report and chart to bench/REPORT.md
 * and bench/chart.png (the committed copies); a full run into bench/results (no --out)
 * publishes unless `--no-publish`. Unattended: ~20 min of the bench page plus the
 * Fast-vs-greedy evaluation (100 val images × 2 NMS kinds × each evaluated model, ~15 min).
 * `--eval-only` re-runs only that evaluation on the last results of the mode (no browser).
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { planFor, REPO_ROOT, rerunEval, runBench, type BenchMode } from '../bench/run';

const BROWSER_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const num = (name: string) => (arg(name) !== undefined ? Number(arg(name)) : undefined);

/** Copies the report and chart to bench/REPORT.md and bench/chart.png (the committed copies). */
function publishReport(outDir: string, files: string[]): void {
  writeFileSync(join(REPO_ROOT, 'bench/REPORT.md'), readFileSync(join(outDir, 'README.md'), 'utf8'));
  if (files.some((f) => f.endsWith('chart.png'))) copyFileSync(join(outDir, 'chart.png'), join(REPO_ROOT, 'bench/chart.png'));
  console.log('bench: published bench/REPORT.md and bench/chart.png');
}

async function main(): Promise<void> {
  const mode: BenchMode = flag('smoke') ? 'smoke' : flag('quick') ? 'quick' : 'full';
  const plan = planFor(mode, { reps: num('reps'), warmup: num('warmup'), evalLimit: num('eval-limit'), models: arg('models')?.split(',') });
  const outDir = arg('out') ?? join(REPO_ROOT, 'bench/results');
  const publish = flag('publish') || (mode === 'full' && arg('out') === undefined && !flag('no-publish'));
  if (flag('eval-only')) {
    const { files } = rerunEval(plan, { outDir, chart: !flag('no-chart') });
    if (publish) publishReport(outDir, files);
    return;
  }
  const server = await createServer({
    configFile: join(REPO_ROOT, 'vite.config.ts'),
    root: REPO_ROOT,
    server: { port: 5288, strictPort: false, hmr: false },
    logLevel: 'warn',
  });
  await server.listen();
  const baseURL = server.resolvedUrls?.local[0] ?? 'http://localhost:5288/';
  const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
  const browser = await chromium.launch({ executablePath, args: BROWSER_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const { files } = await runBench(page, baseURL, plan, { outDir, chart: !flag('no-chart') });
    if (publish) publishReport(outDir, files);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
