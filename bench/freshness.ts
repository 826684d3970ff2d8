/**
 * Which model bytes a benchmark report belongs to. The bench records, for every bundled
 * model (each `models/**` manifest with an ONNX file in the tree), the sha256 of each ONNX
 * file it names, the model hash its `accuracy.json` record is keyed by (`onnxSha256`,
 * scripts/eval.ts `modelSha256`) and the manifest's own `sha256`, at the start and at the end
 * of the run. The report carries them twice: a table for people and a machine-readable
 * comment (`FRESHNESS_MARK`) that test/benchReportFresh.test.ts compares with the files on
 * disk, so a model cannot change without bench/REPORT.md being regenerated.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { modelFiles, modelSha256 } from '../scripts/eval';
import type { ModelManifest } from '../app/types';

/** The `accuracy.json` entry of a model, as far as the report shows it. */
export interface RecordSummary {
  onnxSha256: string;
  split?: string;
  images?: number;
  maskAP?: number;
  maskAP50?: number;
  boxAP?: number;
  nms?: string;
  date?: string;
  command?: string;
}

/** One bundled model as the bench found it on disk. */
export interface ModelState {
  id: string;
  name: string;
  family: string;
  /** Manifest path, relative to the repository. */
  manifest: string;
  input: [number, number];
  classes: number;
  /** Each ONNX file the manifest names (url → sha256 and size; null sha256 = missing). */
  files: Record<string, { sha256: string | null; bytes: number | null }>;
  /** The model's hash as accuracy records key it (one file: its sha256; several: a hash over the parts). */
  modelSha256: string | null;
  /** The manifest's own `sha256` field (the main file's digest), if any. */
  manifestSha256: string | null;
  /** Its `accuracy.json` record (same folder, keyed by id), or null. */
  record: RecordSummary | null;
}

/** The machine-readable line in the report: `<!-- bench-models: {...} -->`. */
export const FRESHNESS_MARK = 'bench-models:';

const SKIP_DIRS = new Set(['data', 'runs', 'checkpoints', 'node_modules', '__pycache__']);

/** JSON files under models/ that mean to be manifests (as app/models/registry.ts decides: id, family, url), with a local url. */
function manifestFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (!SKIP_DIRS.has(name)) walk(path);
      } else if (name.endsWith('.json') && name !== 'accuracy.json') {
        out.push(path);
      }
    }
  };
  walk(join(root, 'models'));
  return out.filter((path) => {
    try {
      const v = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      return typeof v.id === 'string' && typeof v.family === 'string' && typeof v.url === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(v.url);
    } catch {
      return false;
    }
  });
}

function sha256Of(path: string): { sha256: string | null; bytes: number | null } {
  try {
    const bytes = readFileSync(path);
    return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  } catch {
    return { sha256: null, bytes: null };
  }
}

/** Every bundled model's manifest, files, hashes and accuracy record, read now. */
export function modelStates(root: string): ModelState[] {
  const states: ModelState[] = [];
  for (const path of manifestFiles(root)) {
    const m = JSON.parse(readFileSync(path, 'utf8')) as ModelManifest & { sha256?: string };
    if (states.some((s) => s.id === m.id)) continue;
    const files: ModelState['files'] = {};
    for (const url of modelFiles(m)) files[url] = sha256Of(join(root, url));
    let model: string | null;
    try {
      model = modelSha256(m, path).sha256;
    } catch {
      model = null;
    }
    let record: RecordSummary | null = null;
    try {
      const records = JSON.parse(readFileSync(join(path, '..', 'accuracy.json'), 'utf8')) as Record<string, RecordSummary>;
      const r = records[m.id];
      if (r) {
        const { onnxSha256, split, images, maskAP, maskAP50, boxAP, nms, date, command } = r;
        record = { onnxSha256, split, images, maskAP, maskAP50, boxAP, nms, date, command };
      }
    } catch {
      record = null;
    }
    states.push({
      id: m.id,
      name: m.name ?? m.id,
      family: m.family,
      manifest: relative(root, path),
      input: [m.input?.width ?? 0, m.input?.height ?? 0],
      classes: Array.isArray(m.classes) ? m.classes.length : 0,
      files,
      modelSha256: model,
      manifestSha256: m.sha256 ?? null,
      record,
    });
  }
  return states.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Why a report made from `start` (and `end`, the same read at the end of the run) would not
 * describe the bundled models: a missing file, a manifest digest that is not its file's, an
 * accuracy record of other bytes, a model replaced while the bench ran. Empty = fresh.
 */
export function staleReasons(start: ModelState[], end: ModelState[] = start): string[] {
  const reasons: string[] = [];
  for (const s of start) {
    for (const [url, f] of Object.entries(s.files)) if (!f.sha256) reasons.push(`\`${s.id}\`: ${url} is missing`);
    const main = Object.values(s.files)[0]?.sha256 ?? null;
    if (s.manifestSha256 && main && s.manifestSha256 !== main)
      reasons.push(`\`${s.id}\`: ${s.manifest} says sha256 ${s.manifestSha256.slice(0, 12)}…, the file is ${main.slice(0, 12)}…`);
    if (s.record && s.modelSha256 && s.record.onnxSha256 !== s.modelSha256)
      reasons.push(
        `\`${s.id}\`: its accuracy.json record is of ONNX ${s.record.onnxSha256.slice(0, 12)}…, the bundled model is ${s.modelSha256.slice(0, 12)}… (record again: ${s.record.command ?? 'npm run eval -- --record'})`,
      );
    const e = end.find((x) => x.id === s.id);
    if (!e) reasons.push(`\`${s.id}\`: its manifest disappeared during the run`);
    else if (e.modelSha256 !== s.modelSha256)
      reasons.push(`\`${s.id}\`: the ONNX bytes changed during the run (${s.modelSha256?.slice(0, 12)}… → ${e.modelSha256?.slice(0, 12)}…)`);
  }
  for (const e of end) if (!start.some((s) => s.id === e.id)) reasons.push(`\`${e.id}\`: bundled during the run, not benchmarked`);
  return reasons;
}

/** What the report's comment carries: per model id, the sha256 of each ONNX file, and the accuracy record's hash. */
export interface FreshnessData {
  models: Record<string, { files: Record<string, string | null>; record: string | null }>;
  stale: boolean;
}

export function freshnessData(states: ModelState[], stale: boolean): FreshnessData {
  return {
    models: Object.fromEntries(
      states.map((s) => [s.id, { files: Object.fromEntries(Object.entries(s.files).map(([u, f]) => [u, f.sha256])), record: s.record?.onnxSha256 ?? null }]),
    ),
    stale,
  };
}

export function freshnessComment(data: FreshnessData): string {
  return `<!-- ${FRESHNESS_MARK} ${JSON.stringify(data)} -->`;
}

export function parseFreshness(markdown: string): FreshnessData | null {
  const at = markdown.indexOf(`<!-- ${FRESHNESS_MARK} `);
  if (at < 0) return null;
  const end = markdown.indexOf(' -->', at);
  if (end < 0) return null;
  try {
    return JSON.parse(markdown.slice(at + `<!-- ${FRESHNESS_MARK} `.length, end)) as FreshnessData;
  } catch {
    return null;
  }
}

/**
 * How a report differs from the models on disk now (empty = it describes them): each
 * bundled model must be in it with the same file digests and the same accuracy-record hash,
 * no model in it may have left the tree, and it must not have marked itself STALE.
 */
export function reportProblems(markdown: string, now: ModelState[]): string[] {
  const data = parseFreshness(markdown);
  if (!data) return [`the report has no \`<!-- ${FRESHNESS_MARK} … -->\` line: it was not written by this bench`];
  const problems: string[] = [];
  if (data.stale) problems.push('the report marked itself STALE when it was written');
  for (const s of now) {
    const r = data.models[s.id];
    if (!r) {
      problems.push(`\`${s.id}\` (${s.manifest}) is bundled but not in the report`);
      continue;
    }
    for (const [url, f] of Object.entries(s.files)) {
      if (r.files[url] !== f.sha256)
        problems.push(`\`${s.id}\`: ${url} is ${f.sha256 ?? 'missing'} now, the report benchmarked ${r.files[url] ?? 'no such file'}`);
    }
    for (const url of Object.keys(r.files)) if (!(url in s.files)) problems.push(`\`${s.id}\`: the report has ${url}, the manifest no longer names it`);
    const record = s.record?.onnxSha256 ?? null;
    if (r.record !== record) problems.push(`\`${s.id}\`: accuracy.json's record is of ${record ?? 'nothing'} now, the report showed ${r.record ?? 'none'}`);
  }
  for (const id of Object.keys(data.models)) if (!now.some((s) => s.id === id)) problems.push(`\`${id}\` is in the report but no longer bundled`);
  return problems;
}
