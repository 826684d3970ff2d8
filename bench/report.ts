/**
 * Results JSON → the markdown report (bench/results/README.md; a copy is committed as
 * bench/REPORT.md). Every time is "median [q1–q3]" in ms over R repetitions.
 */
import type { Summary } from '../app/bench/stats';
import type { OfficialResult, OfficialRow } from '../app/bench/official';
import { freshnessComment, freshnessData, type ModelState } from './freshness';
import type { BenchResults, EvalFigures, OfficialPart } from './run';

/** The one command that regenerates the committed report (and its chart and model hashes). */
export const REGENERATE_COMMAND = 'npm run bench';

const STAGES = ['upload', 'preprocess', 'inference', 'decode', 'nms', 'masks', 'readback', 'draw', 'total', 'busy'] as const;

function ms(s: Summary | undefined): string {
  if (!s || !Number.isFinite(s.median)) return '–';
  const f = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  return s.n > 1 ? `${f(s.median)} [${f(s.q1)}–${f(s.q3)}]` : f(s.median);
}

export function bytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

function ratio(a: number, b: number): string {
  const q = a / b;
  if (!(b > 0) || !Number.isFinite(q)) return '–';
  return `${q >= 10 ? q.toFixed(0) : q >= 1 ? q.toFixed(1) : q.toFixed(2)}×`;
}

/** Median of finite values (the headline ratios: one figure per model over its frames). */
function medianOf(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/**
 * The training steps a manifest's notes state: "step 1941" ("… for 1941 steps of batch 8 …"),
 * "steps 4483 + 3213" for a model trained in phases ("4483 steps of batch 8 …, then 3213
 * steps of batch 32 …"), else ''.
 */
export function trainingStep(notes: string): string {
  const phases = [...notes.matchAll(/(\d+)\s+(?:training\s+)?steps?\b/gi)].map((m) => m[1]!);
  if (phases.length > 1) return `steps ${phases.join(' + ')}`;
  const m = phases.length ? phases[0] : /\bstep\s+(\d+)/i.exec(notes)?.[1];
  return m ? `step ${m}` : '';
}

type PathSummaryLike = BenchResults['paths'][number]['paths']['gpu-fast'];

function agreeText(a: { fastVsReference: boolean; greedyVsCpu: boolean }): string {
  return a.fastVsReference && a.greedyVsCpu ? 'yes' : `no (${JSON.stringify(a)})`;
}

/** The ratios the note quotes, computed from this run's rows. */
function headline(r: BenchResults): string[] {
  const L: string[] = [];
  const byModel = new Map<string, BenchResults['paths']>();
  for (const p of r.paths) byModel.set(p.model, [...(byModel.get(p.model) ?? []), p]);
  for (const [model, rows] of byModel) {
    const t31 = medianOf(rows.map((p) => p.paths.cpu.ms.median / p.paths['gpu-fast'].ms.median));
    const b31 = medianOf(rows.map((p) => p.paths.cpu.bytesReadBack / p.paths['gpu-fast'].bytesReadBack));
    const peers = rows.filter((p) => p.peer);
    const t41 = medianOf(peers.map((p) => p.peer!.ms.median / p.paths['gpu-fast'].ms.median));
    const b41 = medianOf(peers.map((p) => p.peer!.bytesReadBack / p.paths['gpu-fast'].bytesReadBack));
    const family = rows[0]!.family;
    let line = `- \`${model}\` (${family}, real outputs, ${rows.length} frame(s)): path 3 / path 1 = **${ratio(t31, 1)}** in time, **${ratio(b31, 1)}** in bytes read back`;
    if (peers.length) line += `; path 4 (peer) / path 1 = **${ratio(t41, 1)}** in time, **${ratio(b41, 1)}** in bytes`;
    L.push(line + '.');
  }
  const axis = (name: 'candidates' | 'kept' | 'mask') => r.scaling.filter((s) => s.axis === name);
  const ends = (rows: BenchResults['scaling'], label: (s: BenchResults['scaling'][number]) => string) =>
    rows.length >= 2
      ? `${ratio(rows[0]!.paths.cpu.ms.median, rows[0]!.paths['gpu-fast'].ms.median)} at ${label(rows[0]!)} → ${ratio(rows.at(-1)!.paths.cpu.ms.median, rows.at(-1)!.paths['gpu-fast'].ms.median)} at ${label(rows.at(-1)!)}`
      : '';
  const growth = [
    ends(axis('candidates'), (s) => `${s.candidates} candidates`),
    ends(axis('kept'), (s) => `${s.paths['gpu-fast'].instances} kept`),
    ends(axis('mask'), (s) => s.mask.join('x')),
  ].filter(Boolean);
  if (growth.length) L.push(`- Growth (synthetic YOLACT-550, path 3 / path 1 in time): ${growth.join('; ')}.`);
  if (Array.isArray(r.yoloSeg) && r.yoloSeg.length) {
    const ys = r.yoloSeg.filter((y) => y.peer);
    if (ys.length) {
      L.push(
        `- Growth of path 4 (synthetic YOLO-seg 640, 80 classes): path 4 / path 1 = ${ys
          .map((y) => `${ratio(y.peer!.ms.median, y.paths['gpu-fast'].ms.median)} at ${y.objects} instance(s)`)
          .join(', ')}; path 4 reads back ${bytes(ys[0]!.peer!.bytesReadBack)} a frame, path 1 ${bytes(ys[0]!.paths['gpu-fast'].bytesReadBack)}.`,
      );
    }
  }
  const off = officialRows(r);
  if (off.length) {
    const cpu = off.filter((o) => o.device === 'cpu' && o.ranOn === 'cpu');
    const gpu = off.filter((o) => o.ranOn === 'webgpu');
    const parts: string[] = [];
    if (cpu.length) {
      const frame = medianOf(cpu.map((o) => o.peer.ms.median / o.ours.runnerMs.median));
      const post = medianOf(cpu.map((o) => o.peer.postprocess.median / o.ours.path1Ms.median));
      const busy = medianOf(cpu.map((o) => o.peer.busyMs.median / o.ours.runnerBusyMs.median));
      const matched = cpu.reduce((s, o) => s + o.vsFast.matched, 0);
      const same = cpu.reduce((s, o) => s + o.vsFast.sameClass, 0);
      const [ours, peer] = [cpu.reduce((s, o) => s + o.vsFast.ours, 0), cpu.reduce((s, o) => s + o.vsFast.peer, 0)];
      parts.push(
        `on the CPU (ORT wasm EP, like our 'wasm+gpu' inference), ${cpu.length} frame(s): whole frame peer / our runner = **${ratio(frame, 1)}**, its post-processing (its own timer) / our path 1 = **${ratio(post, 1)}**, main-thread busy peer / our runner = **${ratio(busy, 1)}**; instances ours ${ours} / peer ${peer}, ${matched} matched (box IoU ≥ 0.5), ${same} of the same class`,
      );
    }
    for (const o of gpu)
      parts.push(
        `on WebGPU (${o.frame}): GPU → CPU **${bytes(o.peer.gpuBytesReadBack)}** a frame against our path 1's ${bytes(o.ours.path1GpuBytesReadBack)} (**${ratio(o.peer.gpuBytesReadBack, o.ours.path1GpuBytesReadBack)}**); its whole frame there (ORT's WebGPU EP on this device) / our 'wasm+gpu' runner = ${ratio(o.peer.ms.median, o.ours.runnerMs.median)}`,
      );
    L.push(`- Path 5, the official runtime (\`${r.official!.package}\`) on \`${(r.official!.result as OfficialResult).model}\`: ${parts.join('; ')}.`);
  }
  const net = r.official?.requests ?? [];
  if (r.official && !r.official.skipped) {
    const bench = net.filter((q) => q.page === 'bench');
    const probe = net.filter((q) => q.page !== 'bench');
    L.push(
      `- Network: the bench page sent **${bench.length}** request(s) off its origin (all blocked); the deployment-like probe pages of the official runtime tried **${probe.length}**: ${[...new Set(probe.map((q) => new URL(q.url).host))].join(', ') || 'none'} (section 7).`,
    );
  }
  return L;
}

/** The path 5 rows of a run (none when it was skipped). */
function officialRows(r: BenchResults): OfficialRow[] {
  const res = r.official?.result;
  return res && 'rows' in res ? res.rows : [];
}

function fixed(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

/** The head: fresh or STALE, how to regenerate, and the machine-readable model hashes. */
function freshnessHead(r: BenchResults): string[] {
  const L: string[] = [];
  const stale = r.modelsAtStart ? (r.stale ?? []) : ['this run recorded no model hashes (results written by an older bench)'];
  if (stale.length) {
    L.push('> **STALE**: this report does not describe the models bundled when it was written:', '>');
    for (const s of stale) L.push(`> - ${s}`);
    L.push('>', `> Record the models' accuracy again where named, then regenerate: \`${REGENERATE_COMMAND}\`.`, '');
  }
  L.push(
    `_Regenerate everything (this report, \`chart.png\`, the model hashes below) with one command: \`${REGENERATE_COMMAND}\` (full mode, ~25 min on this machine; it installs the official Ultralytics runtime into a temporary folder for path 5 and removes it afterwards). \`test/benchReportFresh.test.ts\` fails when a bundled model's ONNX files no longer match the sha256 recorded here._`,
  );
  if (r.modelsAtStart) L.push('', freshnessComment(freshnessData(r.modelsAtStart, stale.length > 0)));
  return L;
}

/** The bundled models, described from their manifests and accuracy.json as read at bench time. */
function modelTable(states: ModelState[]): string[] {
  const L = [
    '| model | manifest `name` | family | input | classes | ONNX file(s): sha256 (size) | recorded accuracy (accuracy.json) | record of these bytes |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const s of states) {
    const files = Object.entries(s.files)
      .map(([url, f]) => `\`${url}\`: \`${f.sha256 ?? 'missing'}\` (${f.bytes != null ? bytes(f.bytes) : '–'})`)
      .join('<br>');
    const rec = s.record;
    const acc = rec
      ? `mask AP ${fixed(rec.maskAP ?? NaN, 4)}, AP50 ${fixed(rec.maskAP50 ?? NaN, 4)}, box AP ${fixed(rec.boxAP ?? NaN, 4)} (${rec.images ?? '?'} ${rec.split ?? ''} images, ${rec.nms ?? '?'} NMS, recorded ${rec.date?.slice(0, 10) ?? '?'})`
      : 'none';
    const matches = rec ? (rec.onnxSha256 === s.modelSha256 ? 'yes' : `**no** (record of \`${rec.onnxSha256.slice(0, 12)}…\`)`) : '–';
    L.push(`| \`${s.id}\` | ${s.name.replace(/\|/g, '/')} | ${s.family} | ${s.input.join('x')} | ${s.classes} | ${files} | ${acc} | ${matches} |`);
  }
  return L;
}

function officialSection(r: BenchResults): string[] {
  const o = r.official;
  const L: string[] = ['', '## 6. The official runtime as a peer: `@ultralytics/yolo` on the same model and frames (path 5)', ''];
  if (!o) return [...L, 'Not run (results written by an older bench).'];
  if (o.skipped) return [...L, `Skipped: ${o.skipped}.`];
  const res = o.result;
  if (!res || 'skipped' in res) return [...L, `Skipped: ${res ? res.skipped : 'no result'}.`];
  if (r.officialRerun)
    L.push(
      `_Path 5 (this section and section 7) was re-run on its own (\`npm run bench -- --official-only\`) on ${r.officialRerun.date}, commit \`${r.officialRerun.commit}\`, in ${r.officialRerun.elapsedS.toFixed(0)} s; the other sections are from the run of ${r.date}. Its own comparisons (ours against the peer, frame by frame) were all measured in that re-run._`,
      '',
    );
  L.push(
    `\`${o.package}\` (${o.license}), the Ultralytics browser runtime, installed by the bench into a temporary folder (\`npm install --prefix $(mktemp -d)\`, ${fixed(o.installS ?? NaN, 0)} s), served to the bench page from there and removed afterwards: never a dependency of the app, never in this repository. Its ONNX Runtime Web files (by default fetched from its CDN) are served from the app's own \`onnxruntime-web\` ${o.ortVersion} (it asks for pyke's build 1.27 from \`cdn.pyke.io\`); it loaded \`${res.model}\`'s bundled ONNX file as is (${res.loads.map((l) => (l.error ? `'${l.device}': failed: ${l.error}` : `'${l.device}' ran on ${l.ranOn}, task ${l.task}, load ${fixed(l.loadMs ?? NaN, 0)} ms`)).join('; ')}).`,
    '',
    "**What can be compared, and what cannot.** Its API takes an image and returns boxes and one RGBA overlay; pre-processing, inference (its own ORT instance) and post-processing run inside its wasm, so it cannot be given the model outputs our paths 1–4 start from. So: (a) **a whole frame** (image → result in JS) against the app's own 'wasm+gpu' runner on the same frame (ORT wasm inference + our WGSL post-processing; overlay read back, as in section 1); (b) **its post-processing** as its own `speed.postprocess` reports it against our **path 1** on the outputs our ORT gave for the same frame; (c) **GPU → CPU bytes**, counted for both by wrapping `GPUBuffer.prototype.mapAsync` (READ) during the call: on the CPU device the peer has no GPU (0 B); on WebGPU it reads back the raw outputs. (d) **Instances**: both get the same thresholds (its `conf` = our max(confThreshold, scoreThreshold), `iou` = our NMS IoU; it keeps up to 300, we keep up to maxDetections); ours = path 1's kept records (checked equal to the TypeScript reference's, whose image-resolution masks are used), matched to its boxes greedily by box IoU ≥ 0.5; its mask of an instance = its overlay's pixels inside the box in the box's colour.",
    '',
  );
  L.push(
    '| device (ran on) | frame | inst. ours / peer | matched (fast / greedy) | same class | box IoU | mask IoU | peer frame | our runner | frame peer/ours | peer pre / inf / post | our path 1 | post peer/path 1 | GPU→CPU peer | GPU→CPU path 1 | result to JS, peer | busy peer / runner | main tasks peer / runner | path 1 = ref. |',
  );
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const x of res.rows) {
    L.push(
      `| ${x.device} (${x.ranOn}) | ${x.frame} (${x.size.join('x')}) | ${x.ours.instances} / ${x.peer.instances} | ${x.vsFast.matched} / ${x.vsGreedy.matched} | ${x.vsFast.sameClass} | ${fixed(x.vsFast.meanBoxIou)} | ${fixed(x.vsFast.meanMaskIou)} | ${ms(x.peer.ms)} | ${ms(x.ours.runnerMs)} | **${ratio(x.peer.ms.median, x.ours.runnerMs.median)}** | ${ms(x.peer.preprocess)} / ${ms(x.peer.inference)} / ${ms(x.peer.postprocess)} | ${ms(x.ours.path1Ms)} | **${ratio(x.peer.postprocess.median, x.ours.path1Ms.median)}** | ${bytes(x.peer.gpuBytesReadBack)} | ${bytes(x.ours.path1GpuBytesReadBack)} | ${bytes(x.peer.resultBytes)} | ${ms(x.peer.busyMs)} / ${ms(x.ours.runnerBusyMs)} | ${x.peer.mainTaskMs != null ? x.peer.mainTaskMs.toFixed(0) : '–'} / ${x.ours.runnerMainTaskMs != null ? x.ours.runnerMainTaskMs.toFixed(0) : '–'} | ${x.ours.path1MatchesReference ? 'yes' : 'no'} |`,
    );
  }
  const t = res.rows[0]?.thresholds;
  if (t)
    L.push(
      '',
      `Thresholds: conf ${t.conf}, IoU ${t.iou}; ours keeps ≤ ${t.maxDetections}. Our runner's inference alone: ${res.rows.map((x) => `${x.frame.replace(/^.*\//, '')} ${ms(x.ours.runnerInference)}`).join(', ')} ms.`,
    );
  L.push('', 'Classes (indices) kept per frame, ours (Fast NMS) | peer:', '');
  for (const x of res.rows) L.push(`- ${x.device}, ${x.frame}: [${x.vsFast.oursClasses.join(', ')}] | [${x.vsFast.peerClasses.join(', ')}]`);
  for (const n of res.notes) L.push('', `Not measured: ${n}.`);
  return L;
}

function networkSection(o: OfficialPart | undefined): string[] {
  const L: string[] = ['', '## 7. What the official runtime sends over the network', ''];
  if (!o) return [...L, 'Not run (results written by an older bench).'];
  if (o.skipped && !o.requests.length) return [...L, `Not probed: ${o.skipped}.`];
  L.push(
    "SegArena promises that nothing leaves the browser. The bench page's context records and aborts every request to another origin (so nothing was sent). Two more pages probe the peer where nothing keeps it quiet: a routed https origin that is not localhost, with `navigator.webdriver` false (its telemetry skips localhost, `file:`, WebDriver and Cypress); **default-loader** = `YOLO.load` without `ortBaseUrl`, as a site gets it by default; **local-ort** = with the local ORT files, then one prediction on the CPU.",
    '',
  );
  if (o.declared.length) {
    L.push('URLs in its installed code:', '');
    for (const d of o.declared) L.push(`- \`${d.file}\`: ${d.urls.map((u) => `\`${u}\``).join(', ')}`);
    L.push('');
  }
  for (const p of o.probes) L.push(`- Probe **${p.scenario}** (hostname ${p.hostname}, webdriver ${p.webdriver}): ${p.outcome}.`);
  if (o.probes.some((p) => p.scenario === 'default-loader' && /not settled/.test(p.outcome)))
    L.push(
      '  (With its CDN unreachable its default loader never settles: the `<script>` error handler of its ORT loader rejects with `event.error`, which is undefined for a script that failed to load, so the page gets an uncaught TypeError and `YOLO.load` hangs instead of failing.)',
    );
  const beacon = o.requests.find((q) => q.method === 'POST' && q.page !== 'bench');
  if (beacon)
    L.push(
      `- The POST is its telemetry beacon (\`navigator.sendBeacon\`, once per page at its first session): ${beacon.bodyBytes} bytes = a 1-byte kind, a 4-byte tag, then the page's **hostname** and the ORT binding's version, each length-prefixed. It is skipped on localhost, \`file:\`, under WebDriver or Cypress, i.e. in every test and on the bench page, and sent from any deployed site.`,
    );
  L.push('', '| page | method | type | URL | body |', '|---|---|---|---|---|');
  if (!o.requests.length) L.push('| – | – | – | (no request left any page) | – |');
  for (const q of o.requests)
    L.push(
      `| ${q.page} | ${q.method} | ${q.type} | \`${q.url}\` | ${q.bodyBytes ? `${q.bodyBytes} B: \`${q.body.replace(/\|/g, '/').replace(/`/g, "'")}\`` : '–'} |`,
    );
  const bench = o.requests.filter((q) => q.page === 'bench');
  L.push(
    '',
    bench.length
      ? `**The measured bench page itself tried ${bench.length} off-origin request(s)** (blocked): see the rows marked \`bench\`.`
      : 'The measured bench page (localhost, under WebDriver) sent nothing off its origin: the peer ran entirely from the local files.',
  );
  return L;
}

export function renderReport(r: BenchResults, opts: { chart: string | null; note?: string }): string {
  const L: string[] = [];
  const a = r.info.adapter;
  const software = a.isFallbackAdapter || /swiftshader/i.test(a.architecture + a.description);
  L.push('# SegArena benchmark');
  L.push('', ...freshnessHead(r), '');
  L.push(
    `Run ${r.date} on commit \`${r.commit}\`, mode \`${r.plan.mode}\`: ${r.plan.warmup} warm-up run(s) excluded, then R = ${r.plan.reps} repetitions (${r.plan.scalingReps} for sections 3–4); every time is **median [q1–q3] in ms**. Took ${r.elapsedS.toFixed(0)} s.`,
  );
  L.push('');
  L.push(
    `Adapter: ${a.vendor || '?'} / ${a.architecture || '?'} ${a.description ? `(${a.description})` : ''}, fallback: ${a.isFallbackAdapter}, timestamp-query: ${r.info.timestamps}. ORT wasm EP threads: ${r.info.crossOriginIsolated ? 'several' : '1 (page not cross-origin isolated)'}.`,
  );
  L.push('');
  if (software) {
    L.push(
      '> **Device = SwiftShader, a CPU emulation of a GPU** (on a 2-core machine shared with other jobs). Absolute GPU times are the emulator\'s, not a real GPU\'s: quote the *ratios* measured within this run, below, not the absolute numbers. On SwiftShader every WGSL dispatch is run by the same CPU cores that run the TypeScript path, so ratios below 1× for time mean "the emulated GPU was slower than plain TypeScript on this CPU", not that the GPU path is slower on a GPU; the bytes read back do not depend on the device.',
    );
  } else {
    L.push(`> Device: ${a.vendor} / ${a.architecture} ${a.description}. Ratios below are measured within this run.`);
  }
  L.push('', '**Ratios measured in this run** (time = median wall time of the path; bytes = GPU → CPU bytes a frame):', '', ...headline(r));
  L.push('');
  L.push('Models benchmarked: ' + r.info.models.map((m) => `\`${m.id}\` (${m.family}, ${m.input.join('x')})`).join(', ') + '.');
  if (r.modelsAtStart) {
    L.push(
      '',
      'The bundled models as their manifests and `accuracy.json` described them when the bench started (read by `bench/freshness.ts`; nothing here is written by hand):',
      '',
    );
    L.push(...modelTable(r.modelsAtStart));
  }
  const extra = r.info.models.filter((m) => !r.modelsAtStart?.some((s) => s.id === m.id));
  for (const m of extra) L.push('', `- \`${m.id}\` (not bundled: the bench's stand-in): ${m.notes}`);
  if (r.skipped?.length) {
    L.push('', 'Not benchmarked (reason as the bench printed it):', '');
    for (const s of r.skipped)
      L.push(`- \`${s.model}\` (${s.family}), ${s.part === 'peer' ? 'path 4' : s.part === 'paths' ? 'section 2' : 'section 1'}: ${s.reason}`);
  }
  if (opts.chart) L.push('', `![benchmark chart](${opts.chart})`);
  if (opts.note) L.push('', `_${opts.note}_`);

  // 1. Pipeline stages
  L.push('', "## 1. Where the time goes: the app's runners, per model, path and frame", '');
  L.push(
    "The app's own runners (`createRunner`, `app/pipeline/stages/`; the 'wasm' path in the CPU worker, `app/pipeline/cpu/`), fed a fresh `Frame` each repetition, settings = the manifest defaults (Fast NMS). Stage figures are `FrameResult.timings` as the app shows them, plus `draw` (frame + overlay + boxes into a 2D canvas, timed on the CPU) and `busy` (main-thread busy time, `app/bench/busy.ts`). `total` = the runner's total + draw. Source `gpu` = decode/nms/masks from timestamp queries. **main tasks**: the page’s main-thread task time (the browser’s `TaskDuration`, CDP) of one more run without the busy probe — unlike `busy`, it does not count the time the thread waited for a core. **compiles**: compute pipelines compiled (`app/gpu/kernelCache.ts`) when the runner was made (a model switch; shown on its first frame) + during the frame's runs (a new image size: 0 expected).",
    '',
  );
  L.push(`| model | path | frame | inst. | src | ${STAGES.join(' | ')} | main tasks | read back | compiles |`);
  L.push(`|${'---|'.repeat(5 + STAGES.length + 3)}`);
  for (const p of r.pipeline) {
    const compiles = p.compiles ? `${p.compiles.onCreate ?? '–'} + ${p.compiles.onFrame}` : '–';
    L.push(
      `| ${p.model} | ${p.path} | ${p.frame} (${p.size.join('x')}) | ${p.instances} | ${p.timingSource} | ${STAGES.map((s) => ms(p.stages[s])).join(' | ')} | ${p.mainTaskMs != null ? p.mainTaskMs.toFixed(1) : '–'} | ${bytes(p.bytesReadBack)} | ${compiles} |`,
    );
  }

  // 2. Paths on real outputs
  L.push('', "## 2. GPU post-processing against the CPU way and a peer's, on identical REAL model outputs", '');
  L.push(
    "ORT (wasm EP) ran each model ONCE per frame on the real frame; its outputs were uploaded once to GPU buffers; then each path starts from those buffers and ends when its result is on the CPU. **1** = ours (WGSL decode → top-k → Fast NMS → cap → masks → overlay; one compact read-back of records + timestamps; masks and overlay stay on the GPU), **2** = ours with greedy NMS, **3** = the CPU way (mapAsync of every raw output tensor, then the family's TypeScript decode, greedy NMS, mask assembly and overlay), **4** = YOLO-seg models only: the peer's own post-processing (Hyuto/yolov8-seg-onnxruntime-web's two ONNX graphs on ORT wasm, read from `../shared/peers` at bench time, never copied into this repository: read back `output0` + prototypes, NMS graph once, mask graph once per kept instance, each returning the whole S×S RGBA overlay). Paths 1–3 use the manifest defaults; path 4 gets the same thresholds as its `config` (top-k = maxDetections, IoU, score = max(conf, score threshold)); its NMS is class-agnostic (ours is per class), so its kept count can differ. \"agree\": kept instances identical (1 vs the CPU reference with Fast NMS; 2 vs 3, both greedy).",
    '',
  );
  L.push(
    '| model | frame | mask | inst. 1 / 4 | 1 gpu-fast | 2 gpu-greedy | 3 cpu | 4 peer | time 3/1 | time 4/1 | bytes 1 | bytes 3 | bytes 4 | bytes 3/1 | bytes 4/1 | busy 1 | busy 3 | busy 4 | agree |',
  );
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const p of r.paths) {
    const [f, g, c, d] = [p.paths['gpu-fast'], p.paths['gpu-greedy'], p.paths.cpu, p.peer as PathSummaryLike | undefined];
    L.push(
      `| ${p.model} | ${p.frame} | ${p.mask.join('x')} | ${f.instances} / ${d ? d.instances : '–'} | ${ms(f.ms)} | ${ms(g.ms)} | ${ms(c.ms)} | ${d ? ms(d.ms) : 'n/a'} | **${ratio(c.ms.median, f.ms.median)}** | ${d ? `**${ratio(d.ms.median, f.ms.median)}**` : '–'} | ${bytes(f.bytesReadBack)} | ${bytes(c.bytesReadBack)} | ${d ? bytes(d.bytesReadBack) : '–'} | **${ratio(c.bytesReadBack, f.bytesReadBack)}** | ${d ? `**${ratio(d.bytesReadBack, f.bytesReadBack)}**` : '–'} | ${ms(f.busyMs)} | ${ms(c.busyMs)} | ${d ? ms(d.busyMs) : '–'} | ${agreeText(p.agree)} |`,
    );
  }
  L.push(
    '',
    'Stage split (same runs): path 1 decode / nms / masks from ' +
      (r.paths[0]?.paths['gpu-fast'].timingSource ?? '?') +
      ' timers; paths 3 and 4 readback / decode / nms / masks on the CPU (path 4 decodes inside its NMS graph).',
    '',
  );
  L.push('| model | frame | 1: decode | 1: nms | 1: masks | 2: nms | 3: readback | 3: decode | 3: nms | 3: masks | 4: readback | 4: nms | 4: masks |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const p of r.paths) {
    const [f, g, c] = [p.paths['gpu-fast'].stages, p.paths['gpu-greedy'].stages, p.paths.cpu.stages];
    const d = p.peer?.stages;
    L.push(
      `| ${p.model} | ${p.frame} | ${ms(f.decode)} | ${ms(f.nms)} | ${ms(f.masks)} | ${ms(g.nms)} | ${ms(c.readback)} | ${ms(c.decode)} | ${ms(c.nms)} | ${ms(c.masks)} | ${ms(d?.readback)} | ${ms(d?.nms)} | ${ms(d?.masks)} |`,
    );
  }

  // 3. Scaling
  L.push('', '## 3. How cost grows (SYNTHETIC YOLACT-550 outputs, 19248 priors, 80 classes)', '');
  L.push(
    `Seeded outputs with exactly N candidates above the confidence threshold and exactly K instances surviving NMS (\`app/bench/synthetic.ts\`); top-k 200 per class, IoU 0.5, score threshold 0.1, max 100 detections. Defaults while another axis varies: ${r.plan.scaling.candidatesAt} candidates, ${r.plan.scaling.keptAt} kept, mask ${r.plan.scaling.maskAt.join('x')}.`,
    '',
  );
  for (const axis of ['candidates', 'kept', 'mask'] as const) {
    const rows = r.scaling.filter((s) => s.axis === axis);
    if (!rows.length) continue;
    L.push(`**Against ${axis === 'mask' ? 'mask (display) resolution' : axis === 'kept' ? 'kept instances' : 'candidates'}**`, '');
    L.push(
      '| candidates | kept | mask | 1 gpu-fast | 2 gpu-greedy | 3 cpu | time 3/1 | 1: nms | 2: nms | 3: nms | 1: masks | 3: masks | bytes 1 | bytes 3 | agree |',
    );
    L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const s of rows) {
      const [f, g, c] = [s.paths['gpu-fast'], s.paths['gpu-greedy'], s.paths.cpu];
      L.push(
        `| ${s.candidates} | ${f.instances} | ${s.mask.join('x')} | ${ms(f.ms)} | ${ms(g.ms)} | ${ms(c.ms)} | **${ratio(c.ms.median, f.ms.median)}** | ${ms(f.stages.nms)} | ${ms(g.stages.nms)} | ${ms(c.stages.nms)} | ${ms(f.stages.masks)} | ${ms(c.stages.masks)} | ${bytes(f.bytesReadBack)} | ${bytes(c.bytesReadBack)} | ${s.agree.fastVsReference && s.agree.greedyVsCpu ? 'yes' : 'no'} |`,
      );
    }
    L.push('');
  }

  // 4. YOLO-seg paths 1–4 against the instance count, synthetic
  L.push('## 4. How path 4 grows with the instance count (SYNTHETIC YOLO-seg outputs)', '');
  if ('skipped' in r.yoloSeg) {
    L.push(`Skipped: ${r.yoloSeg.skipped}.`);
  } else {
    L.push(
      'Seeded **synthetic** outputs of the YOLOv8-seg layout at 640x640, 80 classes (`output0` [1, 116, 8400] with K objects × ' +
        `${r.plan.yoloSeg.duplicates + 1}` +
        " anchors each, prototypes [1, 32, 160, 160]; `app/bench/synthetic.ts`): the real-output rows of section 2 are the comparison that counts; these show how each path grows with K. Every path gets the peer's defaults (top-k 100, IoU 0.45, score 0.25), so all keep exactly K instances; mask = the 640x640 input.",
      '',
    );
    L.push(
      '| objects | candidates | kept 1 / 4 | 1 gpu-fast | 2 gpu-greedy | 3 cpu | 4 peer | time 4/1 | time 3/1 | 4: readback | 4: nms | 4: masks | bytes 1 | bytes 4 | bytes 4/1 | busy 4 | agree |',
    );
    L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const y of r.yoloSeg) {
      const [f, g, c, d] = [y.paths['gpu-fast'], y.paths['gpu-greedy'], y.paths.cpu, y.peer as PathSummaryLike | undefined];
      L.push(
        `| ${y.objects} | ${y.candidates} | ${f.instances} / ${d?.instances ?? '–'} | ${ms(f.ms)} | ${ms(g.ms)} | ${ms(c.ms)} | ${d ? ms(d.ms) : '–'} | **${d ? ratio(d.ms.median, f.ms.median) : '–'}** | ${ratio(c.ms.median, f.ms.median)} | ${ms(d?.stages.readback)} | ${ms(d?.stages.nms)} | ${ms(d?.stages.masks)} | ${bytes(f.bytesReadBack)} | ${d ? bytes(d.bytesReadBack) : '–'} | ${d ? ratio(d.bytesReadBack, f.bytesReadBack) : '–'} | ${d ? ms(d.busyMs) : '–'} | ${agreeText(y.agree)} |`,
      );
    }
  }

  // 5. Eval
  L.push('', '## 5. Fast NMS against greedy NMS: accuracy on the val split', '');
  if ('skipped' in r.eval) {
    L.push(`Skipped: ${r.eval.skipped}.`);
  } else {
    if (r.evalRerun)
      L.push(
        `_This section was re-run on its own (\`npm run bench -- --eval-only\`) on ${r.evalRerun.date}, commit \`${r.evalRerun.commit}\`, in ${r.evalRerun.elapsedS.toFixed(0)} s; the sections above are from the run of ${r.date}._`,
        '',
      );
    L.push(
      `\`npm run eval -- --model <manifest> --split val --limit ${r.plan.evalLimit} --nms fast|greedy\` for each model, in this run (Node, ORT wasm, the family's TypeScript reference post-processing; score threshold 0, ≤ 100 detections an image, as COCO evaluation takes them). Both NMS kinds evaluate one frozen copy of the manifest and ONNX file (\`eval-snapshot/\`), taken before the pair: training jobs rewrite them during a run. "NMS ms" is the NMS stage alone (CPU reference), "post ms" decode + NMS + masks, per image. Weights: the ONNX file's sha256 and the training step its manifest states.`,
      '',
    );
    L.push('| model | NMS | images | mask AP | mask AP50 | box AP | NMS ms/image | post ms/image | run s | weights |');
    L.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const e of r.eval) {
      const w = e.onnx
        ? `\`${e.onnx.path}\` sha256 \`${e.onnx.sha256.slice(0, 12)}…\`${trainingStep(e.onnx.notes) ? `, ${trainingStep(e.onnx.notes)}` : ''} (${bytes(e.onnx.bytes)}, modified ${e.onnx.modified})`
        : '–';
      const model = e.model.replace(/^.*\//, '').replace(/\.json$/, '');
      if (e.error) L.push(`| ${model} | ${e.nms} | – | error: ${e.error.replace(/\|/g, '/')} | | | | | ${e.wallS?.toFixed(0) ?? '–'} | ${w} |`);
      else
        L.push(
          `| ${model} | ${e.nms} | ${e.images} | ${e.maskAp?.toFixed(4) ?? '–'} | ${e.maskAp50?.toFixed(4) ?? '–'} | ${e.boxAp?.toFixed(4) ?? '–'} | ${e.nmsMs?.toFixed(2) ?? '–'} | ${e.postprocessMs?.toFixed(1) ?? '–'} | ${e.wallS?.toFixed(0) ?? '–'} | ${w} |`,
        );
    }
    const models = [...new Set(r.eval.map((e) => e.model))];
    const diffs = models.flatMap((m) => {
      const f = (r.eval as EvalFigures[]).find((e) => e.model === m && e.nms === 'fast' && !e.error);
      const g = (r.eval as EvalFigures[]).find((e) => e.model === m && e.nms === 'greedy' && !e.error);
      if (!f || !g || f.maskAp === undefined || g.maskAp === undefined) return [];
      const nms = f.nmsMs !== undefined && g.nmsMs !== undefined && g.nmsMs > 0 ? `; NMS time fast / greedy = ${ratio(f.nmsMs, g.nmsMs)}` : '';
      return [
        `- \`${m.replace(/^.*\//, '').replace(/\.json$/, '')}\`: mask AP fast − greedy = ${(f.maskAp - g.maskAp >= 0 ? '+' : '') + (f.maskAp - g.maskAp).toFixed(4)}, mask AP50 ${((f.maskAp50 ?? 0) - (g.maskAp50 ?? 0) >= 0 ? '+' : '') + ((f.maskAp50 ?? 0) - (g.maskAp50 ?? 0)).toFixed(4)}${nms}.`,
      ];
    });
    if (diffs.length) L.push('', ...diffs);
  }
  for (const s of r.evalSkipped ?? []) L.push('', `Not evaluated: ${s}.`);
  L.push(...officialSection(r), ...networkSection(r.official));
  L.push('', "## Definitions, and how they match the app's live figures", '');
  L.push(
    "- Section 1 calls the app's own runners, so `upload`, `preprocess`, `inference`, `decode`, `nms`, `masks`, `readback` and bytes read back are computed by the same code as the per-pane figures (`FrameResult.timings`).",
    "- Differences: **draw** in the app runs from the React render to Konva's layout effect; here it is a plain 2D-canvas draw of frame + overlay + boxes, flushed with a 1-pixel `getImageData` (no React, no Konva). The app's **total** excludes draw; here total = runner total + draw. **busy** (main-thread busy time) exists only here.",
    "- `upload` is the write of the model outputs into GPU buffers on `wasm+gpu`, the frame texture copy on `webgpu`, absent on `wasm`. GPU `nms` spans top-k + NMS + the cross-class cap; `masks` spans coefficients + upsample + overlay compose. On the GPU paths `readback` is the wall time from submit to mapped records less the GPU stages; the overlay's W·H·4 read-back (how the overlay reaches Konva today) is counted in bytes and in total but in no stage. The bench runs the GPU runner with that read-back overlay mode (it has no pane canvas to draw into).",
    '- Paths 1–2 in sections 2–4 stop when the records are on the CPU (masks and overlay stay on the GPU); path 3 includes the CPU overlay compose; its `masks` = mask assembly + compose; path 4 stops when its last mask graph has returned the overlay.',
    '- The all-GPU `webgpu` path (ORT WebGPU EP) is not benchmarked: on SwiftShader one inference takes tens of seconds.',
    '- Main-thread busy = sum of gaps > 1 ms in a MessageChannel ping loop during the measured work (a lower bound; work on other threads is not counted).',
  );
  L.push('');
  return L.join('\n');
}
