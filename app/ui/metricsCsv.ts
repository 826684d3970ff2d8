/**
 * The comparison table (MetricsTable) as CSV (RFC 4180): a header row, then one row per pane
 * with the same cells as the table, formatted as the table formats them, so the file and
 * the screen never disagree. A value the table shows as missing ("–", "n/a") is left empty.
 */
import type { PaneState } from '../state/store';
import type { RecordedAccuracy, StageTimings } from '../types';
import { apText, bytesText, evaluatedImagesText, fpsText, ms } from './format';

type Cell = string | number | null | undefined;

/** What the table's formatters write where there is no value. */
const MISSING = new Set(['–', 'n/a']);

/** A formatted figure, or null (an empty field) where the table shows it as missing. */
function figure(text: string): string | null {
  return MISSING.has(text) ? null : text;
}

/** One field: quoted when it holds a comma, a quote, a line break or edge spaces; quotes doubled. */
export function csvField(value: Cell): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows to CSV text, CRLF after every row (RFC 4180 §2). */
export function toCsv(rows: ReadonlyArray<ReadonlyArray<Cell>>): string {
  return rows.map((row) => row.map(csvField).join(',') + '\r\n').join('');
}

export interface MetricsCsvInput {
  panes: readonly PaneState[];
  /** The stage columns the table shows (stageColumns), in its order. */
  columns: ReadonlyArray<{ key: keyof Omit<StageTimings, 'source'>; label: string }>;
  /** The model's name as the table shows it. */
  modelName: (modelId: string) => string;
  /** The model's recorded accuracy (`npm run eval -- --record`), when it has one. */
  recorded: (modelId: string) => RecordedAccuracy | undefined;
}

/**
 * The table's header and rows: pane, model, path, status, instances, fps, [recorded AP],
 * [evaluated AP], stage ms, total ms, read-back. The bracketed groups are there when any pane has them.
 */
export function metricsRows({ panes, columns, modelName, recorded }: MetricsCsvInput): Cell[][] {
  const evaluated = panes.some((p) => p.evaluation);
  const anyRecorded = panes.some((p) => recorded(p.modelId));
  const header: Cell[] = [
    'pane',
    'model',
    'path',
    'status',
    'instances',
    'fps',
    ...(anyRecorded ? ['recorded mask AP', 'recorded box AP'] : []),
    ...(evaluated ? ['mask AP', 'AP50', 'box AP', 'evaluated on'] : []),
    ...columns.map((c) => `${c.label} ms`),
    'total ms',
    'read-back',
  ];
  const rows = panes.map((p, i): Cell[] => {
    const t = p.result?.timings;
    const e = p.evaluation;
    const r = recorded(p.modelId);
    return [
      i + 1,
      modelName(p.modelId),
      p.activePath ?? p.path,
      p.status,
      p.result ? p.result.detections.filter((d) => !p.hiddenClasses.includes(d.classIndex)).length : null,
      figure(fpsText(p.fps)),
      ...(anyRecorded ? (r ? [figure(apText(r.maskAP)), figure(apText(r.boxAP))] : [null, null]) : []),
      ...(evaluated
        ? e
          ? [figure(apText(e.maskAP)), figure(apText(e.maskAP50)), figure(apText(e.boxAP)), `${e.source} (${evaluatedImagesText(e)})`]
          : [null, null, null, null]
        : []),
      ...columns.map((c) => figure(ms(t?.[c.key]))),
      figure(ms(t?.total)),
      p.result ? bytesText(p.result.bytesReadBack) : null,
    ];
  });
  return [header, ...rows];
}

export function metricsCsv(input: MetricsCsvInput): string {
  return toCsv(metricsRows(input));
}
