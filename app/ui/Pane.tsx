import { engine, EXECUTION_PATHS } from '../pipeline/engine';
import { classColorCss } from '../pipeline/palette';
import { getModel, listModels, recordedAccuracy } from '../models/registry';
import { useStore } from '../state/store';
import type { ExecutionPath, NmsKind } from '../types';
import { apText, bytesText, evaluatedImagesText, fpsText, ms } from './format';
import { stageColumns } from './MetricsTable';
import { Overlay } from './Overlay';
import { roiReadbackNote } from '../families/maskRcnn/manifest';
import { EXPORTED_CPU_NOTE, isExportedMaskRcnn } from '../families/maskRcnn/exported';

const PATH_LABELS: Record<ExecutionPath, string> = {
  webgpu: 'webgpu — ORT WebGPU + WGSL post-processing',
  'wasm+gpu': 'wasm+gpu — ORT wasm + WGSL post-processing',
  wasm: 'wasm — ORT wasm + TypeScript post-processing',
};

export function Pane({ paneKey, index }: { paneKey: number; index: number }) {
  const pane = useStore((s) => s.panes.find((p) => p.key === paneKey));
  const paneCount = useStore((s) => s.panes.length);
  // Re-render the model picker (and class names) when models are added, renamed or deleted.
  useStore((s) => s.modelsVersion);
  if (!pane) return null;
  const manifest = getModel(pane.modelId);
  const recorded = manifest ? recordedAccuracy(manifest) : undefined;
  const result = pane.result;
  const detections = result?.detections ?? [];
  const visible = detections.map((d, i) => ({ d, i })).filter(({ d }) => !pane.hiddenClasses.includes(d.classIndex));
  const className = (c: number) => manifest?.classes[c] ?? String(c);
  const classesShown = [...new Set([...detections.map((d) => d.classIndex), ...pane.hiddenClasses])].sort((a, b) => a - b);
  const hovered = pane.highlight !== null ? detections[pane.highlight] : undefined;
  const s = pane.settings;

  return (
    <section className="pane" data-testid="pane" data-pane-index={index}>
      <div className="pane-head">
        <span className="pane-title">Pane {index + 1}</span>
        <select
          data-testid="model-picker"
          className="model-picker"
          aria-label="Model"
          value={pane.modelId}
          title={[manifest?.name, manifest?.notes].filter(Boolean).join(' — ')}
          onChange={(e) => engine.setModel(paneKey, e.currentTarget.value)}
        >
          {listModels().map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
          {!manifest && <option value={pane.modelId}>{pane.modelId || 'no model'}</option>}
        </select>
        <span className={`status status-${pane.status}`} data-testid="pane-status" data-state={pane.status} title={pane.message}>
          {pane.status}
        </span>
        <button className="icon-btn" data-testid="remove-pane" title="Remove pane" disabled={paneCount <= 1 && false} onClick={() => engine.removePane(paneKey)}>
          ×
        </button>
      </div>

      <div className="pane-sub">
        <span className="sub-label">path</span>
        <select
          data-testid="path-picker"
          aria-label="Execution path"
          value={pane.path}
          onChange={(e) => engine.setPath(paneKey, e.currentTarget.value as ExecutionPath)}
        >
          {EXECUTION_PATHS.map((p) => (
            <option key={p} value={p} title={PATH_LABELS[p]}>
              {p}
            </option>
          ))}
        </select>
        <span
          className={`badge path-${(pane.activePath ?? pane.path).replace('+', '-')}`}
          data-testid="path-badge"
          title={pane.activePath ? PATH_LABELS[pane.activePath] : 'not started'}
        >
          {pane.activePath ?? pane.path}
        </span>
        {pane.pathNote && (
          <span className="path-note" title={pane.pathNote}>
            {pane.pathNote}
          </span>
        )}
      </div>

      <div className="controls">
        <label className="ctl">
          <span>score ≥ <b>{s.scoreThreshold.toFixed(2)}</b></span>
          <input
            type="range"
            data-testid="score-threshold"
            min={0}
            max={1}
            step={0.01}
            value={s.scoreThreshold}
            onChange={(e) => engine.setSettings(paneKey, { scoreThreshold: Number(e.currentTarget.value) })}
          />
        </label>
        <label className="ctl">
          <span>top-k</span>
          <input
            type="number"
            data-testid="top-k"
            min={1}
            max={1000}
            step={1}
            value={s.topK}
            onChange={(e) => {
              const v = Math.round(Number(e.currentTarget.value));
              if (v >= 1) engine.setSettings(paneKey, { topK: Math.min(1000, v) });
            }}
          />
        </label>
        <label className="ctl">
          <span>NMS IoU</span>
          <input
            type="number"
            data-testid="nms-iou"
            min={0}
            max={1}
            step={0.05}
            value={s.nmsIou}
            onChange={(e) => {
              const v = Number(e.currentTarget.value);
              if (e.currentTarget.value !== '' && v >= 0 && v <= 1) engine.setSettings(paneKey, { nmsIou: v });
            }}
          />
        </label>
        <label className="ctl">
          <span>NMS</span>
          <select data-testid="nms-kind" value={s.nmsKind} onChange={(e) => engine.setSettings(paneKey, { nmsKind: e.currentTarget.value as NmsKind })}>
            <option value="fast">fast</option>
            <option value="greedy">greedy</option>
          </select>
        </label>
      </div>

      <Overlay pane={pane} />

      <div className="stats">
        <div className="stat">
          <span>instances</span>
          <b data-testid="instance-count">{visible.length}</b>
        </div>
        <div className="stat">
          <span>fps</span>
          <b data-testid="fps">{fpsText(pane.fps)}</b>
        </div>
        <div className="stat">
          <span>total</span>
          <b>{ms(result?.timings.total)} ms</b>
        </div>
        <div className="stat">
          <span>read-back</span>
          <b>{result ? bytesText(result.bytesReadBack) : '–'}</b>
        </div>
        <div className="actions">
          <button className="btn small" data-testid="export-json" disabled={!result} onClick={() => void engine.exportJson(paneKey)}>
            Export JSON
          </button>
          <button className="btn small" data-testid="export-png" disabled={!result} onClick={() => void engine.exportPng(paneKey)}>
            Export PNG
          </button>
        </div>
      </div>

      <dl className="timings" data-testid="stage-timings" data-source={result?.timings.source ?? ''}>
        {stageColumns([result?.timings]).map(({ key, label, title }) => (
          <div key={key} className={result?.timings[key] === undefined ? 'na' : ''} data-stage={key} title={title}>
            <dt>{label}</dt>
            <dd>{ms(result?.timings[key])}</dd>
          </div>
        ))}
        <div className="timing-source">
          <dt>clock</dt>
          <dd>{result?.timings.source ?? '–'}</dd>
        </div>
      </dl>

      {result && manifest && roiReadbackNote(manifest, result.path, s.maxDetections) && (
        <p className="path-note" data-testid="readback-note">
          {roiReadbackNote(manifest, result.path, s.maxDetections)}
        </p>
      )}

      {manifest && isExportedMaskRcnn(manifest) && (
        <p className="path-note" data-testid="model-cpu-note" title="torchvision / ONNX-zoo export: its NonMaxSuppression and RoiAlign ops have no WebGPU kernels in onnxruntime-web">
          {EXPORTED_CPU_NOTE}
        </p>
      )}

      {recorded && (
        <p className="path-note" data-testid="recorded-accuracy" title={`${recorded.command} (${recorded.date.slice(0, 10)})`}>
          Recorded on {recorded.images} {recorded.split} images: mask AP {apText(recorded.maskAP)} · AP50 {apText(recorded.maskAP50)} · box AP{' '}
          {apText(recorded.boxAP)}
        </p>
      )}

      {pane.evaluation && (
        <p className="path-note evaluation" data-testid="pane-evaluation" title={`${pane.evaluation.instances} instances; ${pane.evaluation.path}, ${pane.evaluation.nmsKind} NMS, scores ≥ ${pane.evaluation.scoreThreshold}`}>
          Evaluated on {pane.evaluation.source} ({evaluatedImagesText(pane.evaluation)}): mask AP{' '}
          <b>{apText(pane.evaluation.maskAP)}</b> · AP50 <b>{apText(pane.evaluation.maskAP50)}</b> · AP75 {apText(pane.evaluation.maskAP75)} · box AP{' '}
          {apText(pane.evaluation.boxAP)} · Boundary AP {apText(pane.evaluation.boundaryAP)}
        </p>
      )}

      {pane.status === 'error' && <p className="pane-error">{pane.message}</p>}

      {classesShown.length > 0 && (
        <div className="class-toggles">
          {classesShown.map((c) => {
            const hidden = pane.hiddenClasses.includes(c);
            return (
              <button
                key={c}
                className={`class-toggle${hidden ? ' off' : ''}`}
                data-testid="class-toggle"
                data-class={className(c)}
                aria-pressed={!hidden}
                title={hidden ? 'Show this class' : 'Hide this class'}
                onClick={() => engine.toggleClass(paneKey, c)}
              >
                <i style={{ background: classColorCss(c) }} />
                {className(c)}
              </button>
            );
          })}
        </div>
      )}

      <div className="instance-details" data-testid="instance-details">
        {hovered ? (
          <>
            <i style={{ background: classColorCss(hovered.classIndex) }} />
            <b>{className(hovered.classIndex)}</b> score {hovered.score.toFixed(3)} · box [{hovered.box.map((v) => v.toFixed(0)).join(', ')}] ·{' '}
            {(hovered.box[2] - hovered.box[0]).toFixed(0)}×{(hovered.box[3] - hovered.box[1]).toFixed(0)} px · mask {hovered.maskArea} px
          </>
        ) : (
          <span className="muted">Hover an instance for its details</span>
        )}
      </div>

      <ol className="instance-list" data-testid="instance-list" onMouseLeave={() => engine.setHighlight(paneKey, null)}>
        {visible.map(({ d, i }) => (
          <li
            key={i}
            className={`instance-row${pane.highlight === i ? ' hot' : ''}`}
            data-testid="instance-row"
            data-class={className(d.classIndex)}
            data-score={d.score.toFixed(2)}
            data-box={d.box.map((v) => v.toFixed(1)).join(',')}
            data-index={i}
            onMouseEnter={() => engine.setHighlight(paneKey, i)}
          >
            <i style={{ background: classColorCss(d.classIndex) }} />
            <span className="cls">{className(d.classIndex)}</span>
            <span className="score">{d.score.toFixed(2)}</span>
            <span className="area">{d.maskArea} px</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
