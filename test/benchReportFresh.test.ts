/**
 * bench/REPORT.md must describe the models bundled now: it records the sha256 of every ONNX
 * file of every bundled model (and the hash its accuracy.json record is keyed by) in a
 * `<!-- bench-models: … -->` line, and this test compares them with the files on disk. A
 * model replaced, added or removed without a new report fails here, with the command that
 * regenerates it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshnessComment, freshnessData, modelStates, parseFreshness, reportProblems, staleReasons, type ModelState } from '../bench/freshness';

const ROOT = join(__dirname, '..');
const REGENERATE = 'bench/REPORT.md is stale: regenerate it with `npm run bench` (full mode; it publishes bench/REPORT.md and bench/chart.png)';

describe('bench/REPORT.md belongs to the bundled models', () => {
  const now = modelStates(ROOT);
  const report = readFileSync(join(ROOT, 'bench/REPORT.md'), 'utf8');

  it('finds the bundled models and hashes their files', () => {
    const ids = now.map((s) => s.id);
    for (const id of ['yolact-550', 'yoloseg-416', 'maskrcnn-512']) expect(ids).toContain(id);
    for (const s of now) for (const f of Object.values(s.files)) expect(f.sha256, s.id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records the sha256 of every bundled model file, as they are on disk now', () => {
    expect(reportProblems(report, now), REGENERATE).toEqual([]);
  });

  it('fails when one hash differs (a model replaced after the report was written)', () => {
    const data = parseFreshness(report) ?? freshnessData(now, false);
    const [id, entry] = Object.entries(data.models).find(([, m]) => Object.keys(m.files).length > 0)!;
    const url = Object.keys(entry.files)[0]!;
    const flipped = (entry.files[url] ?? '0'.repeat(64)).replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const tampered = freshnessComment({ ...data, models: { ...data.models, [id]: { ...entry, files: { ...entry.files, [url]: flipped } } } });
    const problems = reportProblems(tampered, now);
    expect(problems.some((p) => p.includes(id) && p.includes(url))).toBe(true);
  });

  it('fails on a model missing from the report, a report without the line, and a report marked STALE', () => {
    const data = freshnessData(now, false);
    expect(reportProblems(freshnessComment(data), now)).toEqual([]);
    const { [now[0]!.id]: _dropped, ...rest } = data.models;
    expect(reportProblems(freshnessComment({ ...data, models: rest }), now)).toEqual([expect.stringContaining('not in the report')]);
    expect(reportProblems('# SegArena benchmark\n', now)[0]).toContain('no `<!-- bench-models:');
    expect(reportProblems(freshnessComment({ ...data, stale: true }), now)).toEqual(['the report marked itself STALE when it was written']);
  });

  it('calls a run STALE when an accuracy record, a manifest digest or the bytes during the run disagree', () => {
    expect(staleReasons(now, now)).toEqual([]);
    const one = now.find((s) => s.record)!;
    const otherRecord: ModelState = { ...one, record: { ...one.record!, onnxSha256: 'f'.repeat(64) } };
    expect(staleReasons([otherRecord])).toEqual([expect.stringContaining('accuracy.json record is of ONNX ffffffffffff')]);
    const otherManifest: ModelState = { ...one, manifestSha256: 'e'.repeat(64) };
    expect(staleReasons([otherManifest])).toEqual([expect.stringContaining('says sha256 eeeeeeeeeeee')]);
    expect(staleReasons([one], [{ ...one, modelSha256: 'd'.repeat(64) }])).toEqual([expect.stringContaining('changed during the run')]);
  });
});
