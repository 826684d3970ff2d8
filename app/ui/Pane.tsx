import { engine, EXECUTION_PATHS } from '../pipeline/engine';
import { classColorCss } from '../pipeline/palette';
import { getModel, listModels, recordedAccuracy } from '../models/registry';
import { useStore } from '../state/store';
import type { ExecutionPath, NmsKind } from '../types';
import { apText, bytesText, evaluatedImagesText, fpsText, ms } from './format';
import { stageColumns } from './MetricsTable';
import { Overlay } from './Overlay';
import { NumberSetting } from './NumberSetting';
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
  const webgpu = useStore((s) => s.webgpu);
  const webcamActive = useStore((s) => s.webcamActive);
  const evaluating = useStore((s) => s.evalRun !== null);
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
        <button className="icon-btn" data-testid="remove-pane" title="Remove pane" aria-label={`Remove pane ${index + 1}`} disabled={paneCount <= 1 && false} onClick={() => engine.removePane(paneKey)}>
          ×
        </button>
      </div>

      {/* What a screen reader is told as the pane works: its status and, when done, the count (not per webcam frame). */}
      <p className="visually-hidden" aria-live="polite" data-testid="pane-live">
        {paneAnnouncement(index, pane.status, pane.message, visible.length, webcamActive, evaluating)}
      </p>

      <div className="pane-sub">
        <span className="sub-label">path</span>
        <select
          data-testid="path-picker"
          aria-label="Execution path"
          value={pane.path}
          onChange={(e) => engine.setPath(paneKey, e.currentTarget.value as ExecutionPath)}
        >
          {EXECUTION_PATHS.map((p) => {
            // Every path but wasm runs WGSL: without WebGPU it could only fall back to wasm.
            const unavailable = !webgpu && p !== 'wasm';
            return (
              <option key={p} value={p} title={unavailable ? `${PATH_LABELS[p]}: needs WebGPU, which this browser does not offer` : PATH_LABELS[p]} disabled={unavailable}>
                {unavailable ? `${p} (needs WebGPU)` : p}
              </option>
            );
          })}
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
      {!webgpu && (
        <p className="path-note no-webgpu-note" data-testid="no-webgpu-note">
          No WebGPU in this browser: the webgpu and wasm+gpu paths need it, so this pane runs on wasm (CPU).
        </p>
      )}

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
        <NumberSetting
          label="top-k per class"
          title="Candidates kept per class before NMS"
          testId="top-k"
          value={s.topK}
          min={1}
          max={1000}
          step={1}
          integer
          onValid={(topK) => engine.setSettings(paneKey, { topK })}
        />
        <NumberSetting
          label="NMS IoU"
          title="Overlap (IoU) above which NMS suppresses the lower-scored box"
          testId="nms-iou"
          value={s.nmsIou}
          min={0}
          max={1}
          step={0.05}
          onValid={(nmsIou) => engine.setSettings(paneKey, { nmsIou })}
        />
        <label className="ctl">
          <span>NMS</span>
          <select data-testid="nms-kind" value={s.nmsKind} onChange={(e) => engine.setSettings(paneKey, { nmsKind: e.currentTarget.value as NmsKind })}>
            <option value="fast">fast</option>
            <option value="greedy">greedy</option>
          </select>
        </label>
      </div>

      {/* How the result is drawn (and exported as PNG); nothing runs again. */}
      <div className="controls view-controls" data-testid="view-controls">
        <label className="ctl">
          <span>masks <b>{Math.round((pane.maskOpacity ?? 1) * 100)}%</b></span>
          <input
            type="range"
            data-testid="mask-opacity"
            aria-label="Mask opacity"
            min={0}
            max={1}
            step={0.05}
            value={pane.maskOpacity ?? 1}
            onChange={(e) => engine.setDisplay(paneKey, { maskOpacity: Number(e.currentTarget.value) })}
          />
        </label>
        <label className="ctl">
          <input type="checkbox" data-testid="show-boxes" checked={!pane.hideBoxes} onChange={(e) => engine.setDisplay(paneKey, { hideBoxes: !e.currentTarget.checked })} />
          <span>boxes</span>
        </label>
        <label className="ctl">
          <input type="checkbox" data-testid="show-labels" checked={!pane.hideLabels} onChange={(e) => engine.setDisplay(paneKey, { hideLabels: !e.currentTarget.checked })} />
          <span>labels</span>
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

      <div className="instance-details" data-testid="instance-details" data-pinned={pane.pinned && hovered ? '1' : '0'}>
        {hovered ? (
          <>
            {pane.pinned && (
              <span className="pinned" title="Click it again, or press Escape, to unpin">
                pinned ·{' '}
              </span>
            )}
            <i style={{ background: classColorCss(hovered.classIndex) }} />
            <b>{className(hovered.classIndex)}</b> score {hovered.score.toFixed(3)} · box [{hovered.box.map((v) => v.toFixed(0)).join(', ')}] ·{' '}
            {(hovered.box[2] - hovered.box[0]).toFixed(0)}×{(hovered.box[3] - hovered.box[1]).toFixed(0)} px · mask {hovered.maskArea} px
          </>
        ) : (
          <span className="muted">Hover or focus an instance for its details; click to pin it</span>
        )}
      </div>

      <ol className="instance-list" data-testid="instance-list" onMouseLeave={() => engine.setHighlight(paneKey, null)}>
        {visible.map(({ d, i }) => (
          <li
            key={i}
            className={`instance-row${pane.highlight === i ? ' hot' : ''}`}
            data-testid="instance-row"
            data-pinned={pane.pinned && pane.highlight === i ? '1' : undefined}
            title={pane.pinned && pane.highlight === i ? 'Pinned: click again or press Escape to unpin' : 'Click to pin'}
            onClick={() => engine.pinHighlight(paneKey, i)}
            data-class={className(d.classIndex)}
            data-score={d.score.toFixed(2)}
            data-box={d.box.map((v) => v.toFixed(1)).join(',')}
            data-index={i}
            // Focusable, with the details on focus as on hover; its name says them to screen readers.
            tabIndex={0}
            aria-label={instanceText(className(d.classIndex), d)}
            onMouseEnter={() => engine.setHighlight(paneKey, i)}
            onFocus={() => engine.setHighlight(paneKey, i)}
            onBlur={(e) => {
              // Moving to another row highlights that one; leaving the list clears.
              if (!(e.relatedTarget instanceof Node && e.currentTarget.parentElement?.contains(e.relatedTarget))) engine.setHighlight(paneKey, null);
            }}
            onKeyDown={(e) => {
              // Enter or Space pins it, as a click does.
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                engine.pinHighlight(paneKey, i);
                return;
              }
              const next = e.key === 'ArrowDown' ? e.currentTarget.nextElementSibling : e.key === 'ArrowUp' ? e.currentTarget.previousElementSibling : null;
              if (next instanceof HTMLElement) {
                e.preventDefault();
                next.focus();
              }
            }}
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

/** One instance in words: the row's accessible name (the same facts as the details line). */
function instanceText(name: string, d: { score: number; box: [number, number, number, number]; maskArea: number }): string {
  const [x1, y1, x2, y2] = d.box.map((v) => v.toFixed(0));
  return `${name}, score ${d.score.toFixed(2)}, box ${x1}, ${y1} to ${x2}, ${y2}, mask ${d.maskArea} px`;
}

/** The pane's live-region text. On the webcam or in an evaluation, results change every frame: the status only. */
function paneAnnouncement(index: number, status: string, message: string, count: number, webcam: boolean, evaluating: boolean): string {
  const name = `Pane ${index + 1}`;
  if (status === 'error') return `${name}: error. ${message}`;
  if (status === 'loading') return `${name}: ${message || 'loading'}`;
  if (evaluating) return `${name}: evaluating`;
  if (webcam && status === 'running') return `${name}: segmenting the webcam`;
  if (status === 'done') return `${name}: done, ${count} ${count === 1 ? 'instance' : 'instances'}`;
  return `${name}: ${status}`;
}
