import { memo, useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { getModel, recordedAccuracy } from '../models/registry';
import { downloadBlob } from '../pipeline/exports';
import { metricsCsv } from './metricsCsv';
import { withDrawTime } from '../state/drawTimes';
import { useRenderCount } from '../state/renderCounts';
import { useStore, type PaneEvaluation } from '../state/store';
import type { RecordedAccuracy, StageTimings } from '../types';
import { apText, evaluatedImagesText, STAGES } from './format';
import { figureText, LiveText } from './liveFigures';
import { ParetoPlot } from './ParetoPlot';

export type StageColumn = { key: keyof Omit<StageTimings, 'source'>; label: string; title?: string };

/**
 * Stages only models of several ONNX parts (Mask R-CNN, CenterMask, B2Inst) have, shown after
 * `inference` (which is then the first part alone). Detections/NMS are `decode` + `nms`, the paste is `masks`.
 */
export const TWO_STAGE_STAGES: StageColumn[] = [
  { key: 'rpn', label: 'RPN', title: 'two-stage: RPN proposals (anchors, decode, per-level top-n, proposal NMS)' },
  {
    key: 'roi',
    label: 'RoI',
    title:
      "RoI features for the second ONNX parts: Mask R-CNN's box head (7×7) and mask head (14×14), CenterMask's mask head (14×14), B2Inst's scoring head (the bases at 56×56 and the boundary map)",
  },
  { key: 'heads', label: 'heads', title: 'the second ONNX parts: box + mask heads (Mask R-CNN), mask head (CenterMask), scoring head (B2Inst)' },
];

/** Whether the timings have two-stage stages (RPN, RoI, heads). */
export function hasTwoStageTimings(t: StageTimings | undefined): boolean {
  return !!t && TWO_STAGE_STAGES.some((s) => t[s.key] !== undefined);
}

/**
 * The stage columns for a set of results: the one-stage stages, plus the two-stage ones
 * (after inference) only when one of the results has them, so a table of one-stage models
 * reads as before.
 */
export function stageColumns(timings: ReadonlyArray<StageTimings | undefined>): StageColumn[] {
  return stageColumnsFor(timings.some(hasTwoStageTimings));
}

const TWO_STAGE_COLUMNS: StageColumn[] = (() => {
  const at = STAGES.findIndex((s) => s.key === 'inference') + 1;
  return [
    ...STAGES.slice(0, at).map((s) => (s.key === 'inference' ? { ...s, title: 'one-stage: the model; two-stage: the backbone (FPN + RPN head)' } : s)),
    ...TWO_STAGE_STAGES,
    ...STAGES.slice(at),
  ];
})();

/** The stage columns with or without the two-stage stages (the same array each time). */
export function stageColumnsFor(twoStage: boolean): StageColumn[] {
  return twoStage ? TWO_STAGE_COLUMNS : STAGES;
}

function EvaluationCells({ evaluation: e }: { evaluation: PaneEvaluation | null }) {
  if (!e)
    return (
      <>
        <td>–</td>
        <td>–</td>
        <td>–</td>
        <td>–</td>
      </>
    );
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
  if (!r)
    return (
      <>
        <td>–</td>
        <td>–</td>
      </>
    );
  const title = `${r.images} ${r.split} images, ${r.nms} NMS (${r.date.slice(0, 10)})`;
  return (
    <>
      <td data-testid="recorded-mask-ap" title={title}>
        {apText(r.maskAP)}
      </td>
      <td data-testid="recorded-box-ap" title={title}>
        {apText(r.boxAP)}
      </td>
    </>
  );
}

/**
 * One row per pane: the same numbers as the panes, side by side (and their accuracy once
 * evaluated), then the same panes as points of speed against accuracy (ParetoPlot.tsx). The
 * table re-renders when its columns or panes change; each row when its pane's model, path,
 * status or evaluation does; the per-frame figures are written into their cells. The plot
 * has its own throttled subscription (a few renders a second at most).
 */
export function MetricsTable() {
  useRenderCount('MetricsTable');
  const keys = useStore((s) => s.panes.map((p) => p.key).join(','));
  const twoStage = useStore((s) => s.panes.some((p) => hasTwoStageTimings(p.result?.timings)));
  const evaluated = useStore((s) => s.panes.some((p) => p.evaluation));
  const anyRecorded = useStore((s) => s.panes.some((p) => recordedOf(p.modelId)));
  const columns = stageColumnsFor(twoStage);
  const paneKeys = useMemo(() => (keys ? keys.split(',').map(Number) : []), [keys]);
  // The table as it stands, cell for cell (metricsCsv.ts), for a spreadsheet: read at the click.
  const exportCsv = () => {
    const panes = useStore.getState().panes.map((p) => (p.result ? { ...p, result: withDrawTime(p.result) } : p));
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
          {paneKeys.map((key, i) => (
            <MetricsRow key={key} paneKey={key} index={i} columns={columns} anyRecorded={anyRecorded} evaluated={evaluated} />
          ))}
        </tbody>
      </table>
      <ParetoPlot />
    </section>
  );
}

interface RowProps {
  paneKey: number;
  index: number;
  columns: StageColumn[];
  anyRecorded: boolean;
  evaluated: boolean;
}

/** A pane's row: its own cells from narrow selectors, its figures live (liveFigures.tsx). */
const MetricsRow = memo(function MetricsRow({ paneKey, index, columns, anyRecorded, evaluated }: RowProps) {
  useRenderCount('MetricsRow');
  const p = useStore(
    useShallow((s) => {
      const pane = s.panes.find((q) => q.key === paneKey);
      return { modelId: pane?.modelId ?? '', path: pane?.activePath ?? pane?.path ?? '', status: pane?.status ?? '', evaluation: pane?.evaluation ?? null };
    }),
  );
  useStore((s) => s.modelsVersion);
  const name = getModel(p.modelId)?.name ?? p.modelId;
  return (
    <tr data-testid="metrics-row" data-pane-index={index}>
      <td>{index + 1}</td>
      <td className="model" title={name}>
        {name}
      </td>
      <td>{p.path}</td>
      <td>{p.status}</td>
      <LiveText as="td" paneKey={paneKey} text={figureText.instances} />
      <LiveText as="td" paneKey={paneKey} text={figureText.fps} />
      {anyRecorded && <RecordedCells recorded={recordedOf(p.modelId)} />}
      {evaluated && <EvaluationCells evaluation={p.evaluation} />}
      {columns.map((s) => (
        <LiveText key={s.key} as="td" paneKey={paneKey} data-stage={s.key} text={(pane) => figureText.stage(pane, s.key)} />
      ))}
      <LiveText as="td" paneKey={paneKey} text={figureText.total} />
      <LiveText as="td" paneKey={paneKey} text={figureText.readBack} />
    </tr>
  );
});
