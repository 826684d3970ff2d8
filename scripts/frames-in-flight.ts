/**
 * Frames in flight, measured (issue 15 item 4): two panes on the fake webcam, frames each
 * pane delivers per second, the webcam frames it never showed, and the GPU objects the page
 * creates per delivered frame.
 *
 *   npx tsx scripts/frames-in-flight.ts --root <checkout> --port 5344 [--seconds 60]
 *     [--path webgpu] [--model yolact-384] [--models a,b] [--label after] [--out file.json]
 *
 * `--root` is the checkout whose app is served (its own Vite dev server, hot reload off, its
 * own cache folder), so an older commit can be measured from a `git worktree` beside this
 * one. `--build`: the production build instead (`vite build` into the run's folder, served
 * by `vite preview`): React's production bundle, as users get it, for main-thread figures. Chromium's fake camera plays a 640×480 y4m written by the e2e's writer at `--fps`
 * (default 15; the file loops). After a warm-up (every pane has delivered 2 frames) the
 * store is read, then again `--seconds` later:
 *
 * - delivered per pane: the pane's `frames` count between the two readings / seconds;
 * - not shown per pane: camera frames in the window (fps × seconds) − delivered frames;
 * - the pane's own drop count (`dropped`, where the app has one);
 * - GPU objects created per delivered frame, all panes and ORT together: GPUDevice
 *   createBuffer / createTexture / createBindGroup / create*Pipeline, GPUTexture createView,
 *   counted by wrapping the prototypes before the app loads;
 * - the page's main-thread task time (CDP Performance `TaskDuration`) in the window, per
 *   delivered frame (all panes together) and per second: everything the main thread ran —
 *   the app's runners, the store writes, React and Konva — the figure of issue 15 item 6;
 * - with `--profile N`: the N functions the main thread spent most self time in during the
 *   window (CDP Profiler samples, 1 ms), with their share of the sampled busy time;
 * - with `--trace file.json`: a Chrome trace of the window (timeline and V8 categories), to
 *   open in chrome://tracing or Perfetto.
 *
 * Prints one JSON object (and writes it to `--out`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { writeShapesY4m } from '../e2e/y4m';

interface Options {
  root: string;
  port: number;
  seconds: number;
  path: string;
  models: string[];
  label: string;
  fps: number;
  out: string | null;
  profile: number;
  trace: string | null;
  build: boolean;
}

function parse(argv: string[]): Options {
  const get = (name: string, fallback: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
  };
  const model = get('model', 'yolact-384');
  return {
    root: path.resolve(get('root', process.cwd())),
    port: Number(get('port', '5344')),
    seconds: Number(get('seconds', '60')),
    path: get('path', 'webgpu'),
    models: get('models', `${model},${model}`).split(','),
    label: get('label', path.basename(get('root', process.cwd()))),
    fps: Number(get('fps', '15')),
    out: argv.includes('--out') ? get('out', '') : null,
    profile: Number(get('profile', '0')),
    trace: argv.includes('--trace') ? get('trace', '') : null,
    build: argv.includes('--build'),
  };
}

const COUNTED = ['createBuffer', 'createTexture', 'createBindGroup', 'createComputePipeline', 'createRenderPipeline', 'createView'] as const;

/**
 * Runs in the page before the app: counts GPU object creation by method. A string, not a
 * function: what tsx compiles may call helpers that do not exist in the page.
 */
const COUNT_GPU_OBJECTS = `(() => {
  const counts = {};
  window.__fifCounts = counts;
  const wrap = (proto, name) => {
    const original = proto && proto[name];
    if (typeof original !== 'function') return;
    counts[name] = 0;
    proto[name] = function (...args) { counts[name]++; return original.apply(this, args); };
  };
  for (const m of ${JSON.stringify(COUNTED)}) wrap(m === 'createView' ? globalThis.GPUTexture?.prototype : globalThis.GPUDevice?.prototype, m);
})();`;

async function waitForServer(url: string, child: ChildProcess): Promise<void> {
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the dev server exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no dev server at ${url}`);
}

/** One function's self time in a CDP profile. */
interface HotFunction {
  fn: string;
  ms: number;
  share: number;
}

/** The functions with the most self time in a CDP Profiler profile (idle, program and GC kept apart by their names). */
function hotFunctions(
  profile: { nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>; samples?: number[]; timeDeltas?: number[] },
  top: number,
): { busyMs: number; functions: HotFunction[] } {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let busyMs = 0;
  for (let i = 0; i < samples.length; i++) {
    const frame = byNode.get(samples[i]!);
    if (!frame) continue;
    const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    const name = frame.functionName || '(anonymous)';
    if (name === '(idle)') continue;
    const where = frame.url ? `${frame.url.replace(/^https?:\/\/[^/]+\//, '').replace(/\?.*$/, '')}:${frame.lineNumber + 1}` : '';
    const key = where ? `${name} ${where}` : name;
    self.set(key, (self.get(key) ?? 0) + ms);
    busyMs += ms;
  }
  const functions = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, ms]) => ({ fn, ms: +ms.toFixed(1), share: +(ms / Math.max(busyMs, 1e-9)).toFixed(3) }));
  return { busyMs: +busyMs.toFixed(1), functions };
}

interface PaneReading {
  key: number;
  frames: number;
  dropped: number | null;
  status: string;
  activePath: string | null;
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const work = path.join('/tmp', `fif-run-${o.label}`);
  mkdirSync(work, { recursive: true });
  const y4m = path.join(work, 'webcam.y4m');
  if (!existsSync(y4m)) writeShapesY4m(y4m, { width: 640, height: 480, frames: 60, fps: o.fps });
  // The checkout's e2e config (hot reload off), with a cache folder of its own.
  const config = path.join(work, 'vite.config.mjs');
  writeFileSync(
    config,
    `import base from ${JSON.stringify(path.join(o.root, 'e2e', 'vite.config.ts'))};\n` +
      `export default { ...base, cacheDir: ${JSON.stringify(path.join(work, 'vite-cache'))} };\n`,
  );
  const dist = path.join(work, 'dist');
  if (o.build) {
    const built = spawnSync('npx', ['vite', 'build', '--config', config, '--outDir', dist, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: o.root,
      stdio: 'inherit',
    });
    if (built.status !== 0) throw new Error(`vite build failed (${built.status})`);
  }
  const serve = o.build ? ['vite', 'preview', '--outDir', dist] : ['vite'];
  const server = spawn('npx', [...serve, '--config', config, '--port', String(o.port), '--strictPort', '--host', 'localhost'], {
    cwd: o.root,
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  const stopServer = () => {
    try {
      if (server.pid) process.kill(-server.pid, 'SIGTERM');
    } catch {
      // gone already
    }
  };
  const base = `http://localhost:${o.port}`;
  try {
    await waitForServer(`${base}/`, server);
    const browser = await chromium.launch({
      executablePath: existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined,
      args: [
        '--no-sandbox',
        '--enable-unsafe-webgpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${y4m}`,
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      page.on('pageerror', (e) => console.error('[page error]', e.message));
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') console.error(`[page ${m.type()}]`, m.text().slice(0, 300));
      });
      await page.addInitScript({ content: COUNT_GPU_OBJECTS });
      // The main thread's task time, as the browser counts it (not the ping-loop probe).
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      const mainTaskMs = async () => {
        const { metrics } = await cdp.send('Performance.getMetrics');
        return 1000 * (metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN);
      };
      const query = new URLSearchParams({ autostart: '0', path: o.path, model: o.models[0]!, panes: String(o.models.length) });
      await page.goto(`${base}/?${query.toString()}`, { timeout: 120_000 });
      await page.waitForFunction(() => 'ready' in ((window as unknown as { __segarena?: object }).__segarena ?? {}), null, { timeout: 120_000 });
      await page.evaluate(() => (window as unknown as { __segarena: { ready: Promise<void> } }).__segarena.ready);
      // Other models in the later panes, through the pane's model picker.
      for (let i = 1; i < o.models.length; i++) {
        if (o.models[i] === o.models[0]) continue;
        await page.locator(`[data-testid="pane"][data-pane-index="${i}"] [data-testid="model-picker"]`).selectOption(o.models[i]!);
      }
      await page.getByTestId('webcam-start').click();
      const read = () =>
        page.evaluate(() => {
          const w = window as unknown as {
            __segarena: { getState(): { panes: Array<PaneReading & { dropped?: number }> } };
            __fifCounts: Record<string, number>;
          };
          return {
            at: performance.now(),
            panes: w.__segarena.getState().panes.map((p) => ({
              key: p.key,
              frames: p.frames,
              dropped: typeof p.dropped === 'number' ? p.dropped : null,
              status: p.status,
              activePath: p.activePath,
            })),
            counts: { ...w.__fifCounts },
          };
        });
      // Warm-up: models loaded, every pane past its first frames.
      const warmUntil = Date.now() + 300_000;
      for (;;) {
        const r = await read();
        if (r.panes.every((p) => p.frames >= 2)) break;
        if (Date.now() > warmUntil) throw new Error(`warm-up: ${JSON.stringify(r.panes)}`);
        await page.waitForTimeout(1000);
      }
      const before = await read();
      const tasksBefore = await mainTaskMs();
      if (o.trace)
        await browser.startTracing(page, {
          path: o.trace,
          categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'blink', 'toplevel'],
        });
      if (o.profile > 0) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
        await cdp.send('Profiler.start');
      }
      // A reading every 5 s (printed: a pane that stalls shows as a flat line).
      const timeline: Array<{ t: number; frames: number[]; status: string[] }> = [];
      const end = Date.now() + o.seconds * 1000;
      while (Date.now() < end) {
        await page.waitForTimeout(Math.min(5000, Math.max(0, end - Date.now())));
        const r = await read();
        timeline.push({ t: Math.round((r.at - before.at) / 1000), frames: r.panes.map((p) => p.frames), status: r.panes.map((p) => p.status) });
        console.error(JSON.stringify(timeline[timeline.length - 1]));
      }
      const after = await read();
      const tasksAfter = await mainTaskMs();
      if (o.trace) await browser.stopTracing();
      const hot = o.profile > 0 ? hotFunctions((await cdp.send('Profiler.stop')).profile as Parameters<typeof hotFunctions>[0], o.profile) : null;
      const notices = await page.evaluate(() =>
        (window as unknown as { __segarena: { getState(): { notices: Array<{ text: string }> } } }).__segarena.getState().notices.map((n) => n.text),
      );
      const seconds = (after.at - before.at) / 1000;
      const cameraFrames = o.fps * seconds;
      const panes = after.panes.map((p, i) => {
        const b = before.panes[i]!;
        const delivered = p.frames - b.frames;
        return {
          pane: i + 1,
          model: o.models[i],
          path: p.activePath,
          delivered,
          fps: +(delivered / seconds).toFixed(3),
          notShown: Math.max(0, Math.round(cameraFrames - delivered)),
          droppedCounted: p.dropped !== null && b.dropped !== null ? p.dropped - b.dropped : null,
        };
      });
      const deliveredAll = panes.reduce((s, p) => s + p.delivered, 0);
      const perFrame: Record<string, number> = {};
      for (const m of COUNTED) perFrame[m] = +(((after.counts[m] ?? 0) - (before.counts[m] ?? 0)) / Math.max(1, deliveredAll)).toFixed(3);
      const report = {
        label: o.label,
        root: o.root,
        build: o.build ? 'production (vite build + preview)' : 'development (vite dev server)',
        path: o.path,
        seconds: +seconds.toFixed(1),
        cameraFps: o.fps,
        panes,
        gpuObjectsPerDeliveredFrame: perFrame,
        mainThread: {
          taskMsPerDeliveredFrame: +((tasksAfter - tasksBefore) / Math.max(1, deliveredAll)).toFixed(2),
          taskMsPerSecond: +((tasksAfter - tasksBefore) / seconds).toFixed(1),
          ...(hot ? { profile: hot } : {}),
        },
        notices,
        timeline,
      };
      console.log(JSON.stringify(report, null, 2));
      if (o.out) writeFileSync(o.out, JSON.stringify(report, null, 2) + '\n');
    } finally {
      await browser.close();
    }
  } finally {
    stopServer();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
