/**
 * `npm run bench [-- --quick | --smoke] [--reps R] [--warmup W] [--eval-limit N] [--models a,b]
 *   [--out DIR] [--publish | --no-publish] [--no-chart] [--eval-only] [--official-only] [--render-only]`
 *
 * Starts the app's Vite dev server (hot reload off), opens bench.html in headless Chromium
 * with WebGPU (Debian's /usr/bin/chromium or CHROMIUM_PATH, flags as in playwright.config.ts)
 * and runs bench/run.ts: writes bench/results/bench-<mode>.json, bench/results/README.md and
 * bench/results/chart.png. `--publish` also copies the report and chart to bench/REPORT.md
 * and bench/chart.png (the committed copies); a full run into bench/results (no --out)
 * publishes unless `--no-publish`. Unattended: ~20 min of the bench page plus the
 * Fast-vs-greedy evaluation (100 val images × 2 NMS kinds × each evaluated model, ~15 min).
 * `--eval-only` re-runs only that evaluation on the last results of the mode (no browser).
 * `--official-only` re-runs only path 5 (the official runtime, and the network probe) in the
 * browser on the last results of the mode.
 * `--render-only` writes the report again from the last results of the mode (no browser, no
 * evaluation; the recorded model hashes are checked against the files now).
 *
 * One command regenerates everything the committed report holds: `npm run bench` (full mode)
 * measures sections 1–5, path 5 (the official Ultralytics runtime, `npm install`ed into a
 * temporary folder at bench time and removed afterwards: bench/officialPeer.ts) with the
 * network probe, and records every bundled model's sha256 (bench/freshness.ts) that
 * test/benchReportFresh.test.ts checks against the files on disk.
 *
 * Chart: matplotlib, from `BENCH_PYTHON`, else bench/results/chart-venv (`python3 -m venv
 * bench/results/chart-venv && bench/results/chart-venv/bin/pip install matplotlib`), else
 * /usr/bin/python3.
 *
 * Port: `BENCH_PORT` (default 5322, the next free one if taken), so that the bench does not
 * take the port of a dev server or an e2e run (E2E_PORT) on this machine.
 */
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { CHART_VENV, planFor, REPO_ROOT, rerender, rerunEval, rerunOfficial, runBench, type BenchMode } from '../bench/run';

const BROWSER_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const BENCH_PORT = Number(process.env.BENCH_PORT ?? 5322);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const num = (name: string) => (arg(name) !== undefined ? Number(arg(name)) : undefined);

/**
 * Copies the report and chart to bench/REPORT.md and bench/chart.png (the committed copies).
 * Without a chart this run (no matplotlib) the old chart is removed: it would show other figures.
 */
function publishReport(outDir: string, files: string[]): void {
  writeFileSync(join(REPO_ROOT, 'bench/REPORT.md'), readFileSync(join(outDir, 'README.md'), 'utf8'));
  const chart = join(REPO_ROOT, 'bench/chart.png');
  if (files.some((f) => f.endsWith('chart.png'))) {
    copyFileSync(join(outDir, 'chart.png'), chart);
    console.log('bench: published bench/REPORT.md and bench/chart.png');
  } else {
    rmSync(chart, { force: true });
    console.log(`bench: published bench/REPORT.md; no chart drawn (matplotlib: set BENCH_PYTHON or create ${CHART_VENV}), bench/chart.png removed`);
  }
}

async function main(): Promise<void> {
  const mode: BenchMode = flag('smoke') ? 'smoke' : flag('quick') ? 'quick' : 'full';
  const plan = planFor(mode, { reps: num('reps'), warmup: num('warmup'), evalLimit: num('eval-limit'), models: arg('models')?.split(',') });
  const outDir = arg('out') ?? join(REPO_ROOT, 'bench/results');
  const publish = flag('publish') || (mode === 'full' && arg('out') === undefined && !flag('no-publish'));
  if (flag('render-only')) {
    const { files } = rerender(plan, { outDir, chart: !flag('no-chart') });
    if (publish) publishReport(outDir, files);
    return;
  }
  if (flag('eval-only')) {
    const { files } = rerunEval(plan, { outDir, chart: !flag('no-chart') });
    if (publish) publishReport(outDir, files);
    return;
  }
  const server = await createServer({
    configFile: join(REPO_ROOT, 'vite.config.ts'),
    root: REPO_ROOT,
    server: { port: BENCH_PORT, strictPort: false, hmr: false },
    logLevel: 'warn',
  });
  await server.listen();
  const baseURL = server.resolvedUrls?.local[0] ?? `http://localhost:${BENCH_PORT}/`;
  const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
  const browser = await chromium.launch({ executablePath, args: BROWSER_ARGS });
  try {
    // A context of its own (not browser.newPage): path 5 opens a page per device in it.
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    const run = flag('official-only') ? rerunOfficial : runBench;
    const { files } = await run(page, baseURL, plan, { outDir, chart: !flag('no-chart') });
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
