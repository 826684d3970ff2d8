/**
 * Results JSON → the markdown report (bench/results/README.md; a copy is committed as
 * bench/REPORT.md). Every time is "median [q1–q3]" in ms over R repetitions.
 */
import type { Summary } from '../app/bench/stats';
import type { BenchResults } from './run';

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

export function renderReport(r: BenchResults, opts: { chart: string | null; note?: string }): string {
  const L: string[] = [];
  const a = r.info.adapter;
  const software = a.isFallbackAdapter || /swiftshader/i.test(a.architecture + a.description);
  L.push('# SegArena benchmark');
  L.push('');
  L.push(`Run ${r.date} on commit \`${r.commit}\`, mode \`${r.plan.mode}\`: ${r.plan.warmup} warm-up run(s) excluded, then R = ${r.plan.reps} repetitions (${r.plan.scalingReps} for sections 3–4); every time is **median [q1–q3] in ms**. Took ${r.elapsedS.toFixed(0)} s.`);
  L.push('');
  L.push(`Adapter: ${a.vendor || '?'} / ${a.architecture || '?'} ${a.description ? `(${a.description})` : ''}, fallback: ${a.isFallbackAdapter}, timestamp-query: ${r.info.timestamps}. ORT wasm EP threads: ${r.info.crossOriginIsolated ? 'several' : '1 (page not cross-origin isolated)'}.`);
  if (software) {
    L.push('');
    L.push('> **The GPU here is SwiftShader, a CPU emulation of a GPU.** Absolute GPU times are those of the emulator on a 2-core machine, not of a real GPU; compare the *ratios* measured within this run, not the absolute numbers, with other machines.');
  }
  L.push('');
  L.push('Models: ' + r.info.models.map((m) => `\`${m.id}\` (${m.family}, ${m.input.join('x')})`).join(', ') + '.');
  const notes = r.info.models.filter((m) => m.notes).map((m) => `- \`${m.id}\`: ${m.notes}`);
  if (notes.length) L.push('', ...notes);
  if (opts.chart) L.push('', `![benchmark chart](${opts.chart})`);
  if (opts.note) L.push('', `_${opts.note}_`);

  // 1. Pipeline stages
  L.push('', '## 1. Where the time goes: the app\'s runners, per model, path and frame', '');
  L.push('The app\'s own `PaneRunner`s (`app/pipeline/runners`), fed a fresh `Frame` each repetition, settings = the manifest defaults (Fast NMS). Stage figures are `FrameResult.timings` as the app shows them, plus `draw` (frame + overlay + boxes into a 2D canvas, timed on the CPU) and `busy` (main-thread busy time, `app/bench/busy.ts`). `total` = the runner\'s total + draw. Source `gpu` = decode/nms/masks from timestamp queries.', '');
  L.push(`| model | path | frame | inst. | src | ${STAGES.join(' | ')} | read back |`);
  L.push(`|${'---|'.repeat(5 + STAGES.length + 1)}`);
  for (const p of r.pipeline) {
    L.push(`| ${p.model} | ${p.path} | ${p.frame} (${p.size.join('x')}) | ${p.instances} | ${p.timingSource} | ${STAGES.map((s) => ms(p.stages[s])).join(' | ')} | ${bytes(p.bytesReadBack)} |`);
  }

  // 2. Paths
  L.push('', '## 2. GPU post-processing against the CPU way, on identical model outputs', '');
  L.push('ORT (wasm EP) ran ONCE per frame; its outputs were uploaded once to GPU buffers; then each path starts from those buffers and ends when its result is on the CPU. **1** = ours (WGSL decode → top-k → Fast NMS → cap → masks → overlay; one compact read-back of records + timestamps; masks and overlay stay on the GPU), **2** = ours with greedy NMS, **3** = the CPU way (mapAsync of every raw output tensor, then TypeScript decode, greedy NMS, mask assembly and overlay). Ratio = path 3 / path 1 measured in this run. "agree": kept instances identical (1 vs the CPU reference with Fast NMS; 2 vs 3, both greedy).', '');
  L.push('| model | frame | mask | inst. | 1 gpu-fast | 2 gpu-greedy | 3 cpu | time 3/1 | bytes 1 | bytes 3 | bytes 3/1 | busy 1 | busy 3 | agree |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const p of r.paths) {
    const [f, g, c] = [p.paths['gpu-fast'], p.paths['gpu-greedy'], p.paths.cpu];
    L.push(`| ${p.model} | ${p.frame} | ${p.mask.join('x')} | ${f.instances} | ${ms(f.ms)} | ${ms(g.ms)} | ${ms(c.ms)} | **${ratio(c.ms.median, f.ms.median)}** | ${bytes(f.bytesReadBack)} | ${bytes(c.bytesReadBack)} | **${ratio(c.bytesReadBack, f.bytesReadBack)}** | ${ms(f.busyMs)} | ${ms(c.busyMs)} | ${p.agree.fastVsReference && p.agree.greedyVsCpu ? 'yes' : `no (${JSON.stringify(p.agree)})`} |`);
  }
  L.push('', 'Stage split (same runs): path 1 decode / nms / masks from ' + (r.paths[0]?.paths['gpu-fast'].timingSource ?? '?') + ' timers; path 3 readback / decode / nms / masks on the CPU.', '');
  L.push('| model | frame | 1: decode | 1: nms | 1: masks | 2: nms | 3: readback | 3: decode | 3: nms | 3: masks |');
  L.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const p of r.paths) {
    const [f, g, c] = [p.paths['gpu-fast'].stages, p.paths['gpu-greedy'].stages, p.paths.cpu.stages];
    L.push(`| ${p.model} | ${p.frame} | ${ms(f.decode)} | ${ms(f.nms)} | ${ms(f.masks)} | ${ms(g.nms)} | ${ms(c.readback)} | ${ms(c.decode)} | ${ms(c.nms)} | ${ms(c.masks)} |`);
  }

  // 3. Scaling
  L.push('', '## 3. How cost grows (synthetic YOLACT-550 outputs, 19248 priors, 80 classes)', '');
  L.push(`Seeded outputs with exactly N candidates above the confidence threshold and exactly K instances surviving NMS (\`app/bench/synthetic.ts\`); top-k 200 per class, IoU 0.5, score threshold 0.1, max 100 detections. Defaults while another axis varies: ${r.plan.scaling.candidatesAt} candidates, ${r.plan.scaling.keptAt} kept, mask ${r.plan.scaling.maskAt.join('x')}.`, '');
  for (const axis of ['candidates', 'kept', 'mask'] as const) {
    const rows = r.scaling.filter((s) => s.axis === axis);
    if (!rows.length) continue;
    L.push(`**Against ${axis === 'mask' ? 'mask (display) resolution' : axis === 'kept' ? 'kept instances' : 'candidates'}**`, '');
    L.push('| candidates | kept | mask | 1 gpu-fast | 2 gpu-greedy | 3 cpu | time 3/1 | 1: nms | 2: nms | 3: nms | 1: masks | 3: masks | bytes 1 | bytes 3 | agree |');
    L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const s of rows) {
      const [f, g, c] = [s.paths['gpu-fast'], s.paths['gpu-greedy'], s.paths.cpu];
      L.push(`| ${s.candidates} | ${f.instances} | ${s.mask.join('x')} | ${ms(f.ms)} | ${ms(g.ms)} | ${ms(c.ms)} | **${ratio(c.ms.median, f.ms.median)}** | ${ms(f.stages.nms)} | ${ms(g.stages.nms)} | ${ms(c.stages.nms)} | ${ms(f.stages.masks)} | ${ms(c.stages.masks)} | ${bytes(f.bytesReadBack)} | ${bytes(c.bytesReadBack)} | ${s.agree.fastVsReference && s.agree.greedyVsCpu ? 'yes' : 'no'} |`);
    }
    L.push('');
  }

  // 4. YOLO-seg peer path
  L.push('## 4. Path 4: a peer\'s own YOLO-seg post-processing (SYNTHETIC outputs)', '');
  if ('skipped' in r.yoloSeg) {
    L.push(`Skipped: ${r.yoloSeg.skipped}.`);
  } else {
    L.push('No YOLO-seg model is bundled yet, so these outputs are **synthetic** (seeded, plausible: `output0` [1, 116, 8400] with K objects × 21 anchors each, `output1` [1, 32, 160, 160]; `app/bench/synthetic.ts`). The peer\'s two ONNX graphs (Hyuto/yolov8-seg-onnxruntime-web, read from `../shared/peers` at bench time, not in this repository) run on ORT\'s wasm backend the way that app calls them: read back both outputs, NMS graph once, mask graph once per kept instance (each returns the whole RGBA overlay 640x640). For scale: our path 1 reads back 16 + 32 × maxDetections bytes (3.2 KiB at 100) whatever the instance count.', '');
    L.push('| objects | candidates | kept | total | readback | nms | masks | busy | bytes read back |');
    L.push('|---|---|---|---|---|---|---|---|---|');
    for (const y of r.yoloSeg) {
      const s = y.result;
      L.push(`| ${y.objects} | ${y.candidates} | ${s.instances} | ${ms(s.ms)} | ${ms(s.stages.readback)} | ${ms(s.stages.nms)} | ${ms(s.stages.masks)} | ${ms(s.busyMs)} | ${bytes(s.bytesReadBack)} |`);
    }
  }

  // 5. Eval
  L.push('', '## 5. Fast NMS against greedy NMS: accuracy on the val split', '');
  if ('skipped' in r.eval) {
    L.push(`Skipped: ${r.eval.skipped}.`);
  } else {
    L.push(`\`npm run eval -- --model ${r.plan.evalModel} --split val --limit ${r.plan.evalLimit} --nms fast|greedy\` (Node, ORT wasm, TypeScript reference post-processing). Only meaningful with a trained model: see the model notes above for what was in the tree.`, '');
    L.push('| NMS | images | mask AP | mask AP50 | box AP | post-processing ms/image (Node) | ONNX evaluated |');
    L.push('|---|---|---|---|---|---|---|');
    for (const e of r.eval) {
      if (e.error) L.push(`| ${e.nms} | – | error: ${e.error.replace(/\|/g, '/')} | | | |`);
      else L.push(`| ${e.nms} | ${e.images} | ${e.maskAp?.toFixed(4) ?? '–'} | ${e.maskAp50?.toFixed(4) ?? '–'} | ${e.boxAp?.toFixed(4) ?? '–'} | ${e.postprocessMs?.toFixed(1) ?? '–'} | ${e.onnx ? `${bytes(e.onnx.bytes)}, modified ${e.onnx.modified}` : '–'} |`);
    }
  }
  L.push('', '## Definitions, and how they match the app\'s live figures', '');
  L.push(
    '- Section 1 calls the app\'s own runners, so `upload`, `preprocess`, `inference`, `decode`, `nms`, `masks`, `readback` and bytes read back are computed by the same code as the per-pane figures (`FrameResult.timings`).',
    '- Differences: **draw** in the app runs from the React render to Konva\'s layout effect; here it is a plain 2D-canvas draw of frame + overlay + boxes, flushed with a 1-pixel `getImageData` (no React, no Konva). The app\'s **total** excludes draw; here total = runner total + draw. **busy** (main-thread busy time) exists only here.',
    '- `upload` is the write of the model outputs into GPU buffers on `wasm+gpu`, the frame texture copy on `webgpu`, absent on `wasm`. GPU `nms` spans top-k + NMS + the cross-class cap; `masks` spans coefficients + upsample + overlay compose. On the GPU paths `readback` is the wall time from submit to mapped records less the GPU stages; the overlay\'s W·H·4 read-back (how the overlay reaches Konva today) is counted in bytes and in total but in no stage. The bench runs the GPU runner with that read-back overlay mode (it has no pane canvas to draw into).',
    '- Paths 1–2 in sections 2–3 stop when the records are on the CPU (masks and overlay stay on the GPU); path 3 includes the CPU overlay compose; its `masks` = mask assembly + compose.',
    '- The all-GPU `webgpu` path (ORT WebGPU EP) is not benchmarked: on SwiftShader one inference takes tens of seconds.',
    '- Main-thread busy = sum of gaps > 1 ms in a MessageChannel ping loop during the measured work (a lower bound; work on other threads is not counted).',
  );
  L.push('');
  return L.join('\n');
}
