import { getModel, recordedAccuracy } from '../models/registry';
import { downloadBlob } from '../pipeline/exports';
import { metricsCsv } from './metricsCsv';
import { useStore, type PaneEvaluation } from '../state/store';
import type { RecordedAccuracy, StageTimings } from '../types';
import { apText, bytesText, evaluatedImagesText, fpsText, ms, STAGES } from './format';

type StageColumn = { key: keyof Omit<StageTimings, 'source'>; label: string; title?: string };

/**
 * Stages only two-stage models (our Mask R-CNN) have, shown after `inference` (which is then
 * the backbone alone). Detections/NMS are `decode` + `nms`, the paste is `masks`.
 */
export const TWO_STAGE_STAGES: StageColumn[] = [
  { key: 'rpn', label: 'RPN', title: 'two-stage: RPN proposals (anchors, decode, per-level top-n, proposal NMS)' },
  { key: 'roi', label: 'RoI pool', title: 'two-stage: RoI features for the box head (7×7) and the mask head (14×14)' },
  { key: 'heads', label: 'heads', title: 'two-stage: box head + mask head inference' },
];

/**
 * The stage columns for a set of results: the one-stage stages, plus the two-stage ones
 * (after inference) only when one of the results has them, so a table of one-stage models
 * reads as before.
 */
export function stageColumns(timings: ReadonlyArray<StageTimings | undefined>): StageColumn[] {
  const twoStage = timings.some((t) => t && TWO_STAGE_STAGES.some((s) => t[s.key] !== undefined));
  if (!twoStage) return STAGES;
  const at = STAGES.findIndex((s) => s.key === 'inference') + 1;
  return [
    ...STAGES.slice(0, at).map((s) => (s.key === 'inference' ? { ...s, title: 'one-stage: the model; two-stage: the backbone (FPN + RPN head)' } : s)),
    ...TWO_STAGE_STAGES,
    ...STAGES.slice(at),
  ];
}

function EvaluationCells({ evaluation: e }: { evaluation: PaneEvaluation | null }) {
  if (!e) return <><td>–</td><td>–</td><td>–</td><td>–</td></>;
  return (
    <>
      <td data-testid="eval-mask-ap">{apText(e.maskAP)}</td>
      <td data-testid="eval-mask-ap50">{apText(e.maskAP50)}</td>
      <td data-testid="eval-box-ap">{apText(e.boxAP)}</td>
      <td title={`${e.instances} instances; ${e.path}, ${e.nmsKind} NMS, scores ≥ ${e.scoreThreshold}`}>
        {e.source} ({evaluatedImagesText(e)})
      </td>
    </>
  );
}

/** The model's accuracy as `npm run eval -- --record` measured it (models/…/accuracy.json). */
function recordedOf(modelId: string): RecordedAccuracy | undefined {
  const manifest = getModel(modelId);
  return manifest && recordedAccuracy(manifest);
}

function RecordedCells({ recorded: r }: { recorded: RecordedAccuracy | undefined }) {
  if (!r) return <><td>–</td><td>–</td></>;
  const title = `${r.images} ${r.split} images, ${r.nms} NMS (${r.date.slice(0, 10)})`;
  return (
    <>
      <td data-testid="recorded-mask-ap" title={title}>{apText(r.maskAP)}</td>
      <td data-testid="recorded-box-ap" title={title}>{apText(r.boxAP)}</td>
    </>
  );
}

/** One row per pane: the same numbers as the panes, side by side (and their accuracy once evaluated). */
export function MetricsTable() {
  const panes = useStore((s) => s.panes);
  const columns = stageColumns(panes.map((p) => p.result?.timings));
  const evaluated = panes.some((p) => p.evaluation);
  const anyRecorded = panes.some((p) => recordedOf(p.modelId));
  // The table as it stands, cell for cell (metricsCsv.ts), for a spreadsheet.
  const exportCsv = () => {
    const csv = metricsCsv({ panes, columns, modelName: (id) => getModel(id)?.name ?? id, recorded: recordedOf });
    downloadBlob(new Blob([csv], { type: 'text/csv;charset=utf-8' }), 'segarena-metrics.csv');
  };
  return (
    <section className="metrics">
      <div className="metrics-actions">
        <button className="btn" data-testid="export-metrics-csv" title="Download this table as CSV: one row per pane, the same figures" onClick={exportCsv}>
          Export CSV
        </button>
      </div>
      <table data-testid="metrics-table">
        <thead>
          <tr>
            <th>pane</th>
            <th>model</th>
            <th>path</th>
            <th>status</th>
            <th>instances</th>
            <th>fps</th>
            {anyRecorded && (
              <>
                <th title="mask AP recorded for the model by npm run eval (its validation set)">recorded mask AP</th>
                <th title="box AP recorded for the model by npm run eval">recorded box AP</th>
              </>
            )}
            {evaluated && (
              <>
                <th title="COCO mask AP (IoU .50:.95) of the last evaluation">mask AP</th>
                <th title="mask AP at IoU 0.5">AP50</th>
                <th title="COCO box AP">box AP</th>
                <th title="what the evaluation ran on">evaluated on</th>
              </>
            )}
            {columns.map((s) => (
              <th key={s.key} data-stage={s.key} title={s.title}>
                {s.label} ms
              </th>
            ))}
            <th>total ms</th>
            <th>read-back</th>
          </tr>
        </thead>
        <tbody>
          {panes.map((p, i) => {
            const t = p.result?.timings;
            return (
              <tr key={p.key} data-testid="metrics-row" data-pane-index={i}>
                <td>{i + 1}</td>
                <td className="model" title={getModel(p.modelId)?.name ?? p.modelId}>
                  {getModel(p.modelId)?.name ?? p.modelId}
                </td>
                <td>{p.activePath ?? p.path}</td>
                <td>{p.status}</td>
                <td>{p.result ? p.result.detections.filter((d) => !p.hiddenClasses.includes(d.classIndex)).length : '–'}</td>
                <td>{fpsText(p.fps)}</td>
                {anyRecorded && <RecordedCells recorded={recordedOf(p.modelId)} />}
                {evaluated && <EvaluationCells evaluation={p.evaluation} />}
                {columns.map((s) => (
                  <td key={s.key} data-stage={s.key}>
                    {ms(t?.[s.key])}
                  </td>
                ))}
                <td>{ms(t?.total)}</td>
                <td>{p.result ? bytesText(p.result.bytesReadBack) : '–'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
