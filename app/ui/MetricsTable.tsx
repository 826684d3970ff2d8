import { getModel } from '../models/registry';
import { useStore } from '../state/store';
import { bytesText, fpsText, ms, STAGES } from './format';

/** One row per pane: the same numbers as the panes, side by side. */
export function MetricsTable() {
  const panes = useStore((s) => s.panes);
  return (
    <section className="metrics">
      <table data-testid="metrics-table">
        <thead>
          <tr>
            <th>pane</th>
            <th>model</th>
            <th>path</th>
            <th>status</th>
            <th>instances</th>
            <th>fps</th>
            {STAGES.map((s) => (
              <th key={s.key}>{s.label} ms</th>
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
                {STAGES.map((s) => (
                  <td key={s.key}>{ms(t?.[s.key])}</td>
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
