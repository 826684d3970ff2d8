import { engine, EXECUTION_PATHS } from '../pipeline/engine';
import { classColorCss } from '../pipeline/palette';
import { getModel, listModels, recordedAccuracy } from '../models/registry';
import { useShallow } from 'zustand/react/shallow';
import { timingsOf } from '../state/drawTimes';
import { useRenderCount } from '../state/renderCounts';
import { useStore, type PaneState } from '../state/store';
import type { Detection, ExecutionPath, NmsKind, Ranking } from '../types';
import { apText, evaluatedImagesText, ms } from './format';
import { figureText, LiveText, setText, useLiveFigure, visibleInstances } from './liveFigures';
import { hasTwoStageTimings, stageColumnsFor, type StageColumn } from './MetricsTable';
import { Overlay } from './Overlay';
import { NumberSetting } from './NumberSetting';
import { roiReadbackNote } from '../families/maskRcnn/manifest';
import { auxiliaryMapOf, qualityScore } from '../families/registry';
import { EXPORTED_CPU_NOTE, isExportedMaskRcnn } from '../families/maskRcnn/exported';

const PATH_LABELS: Record<ExecutionPath, string> = {
  webgpu: 'webgpu — ORT WebGPU + WGSL post-processing',
  'wasm+gpu': 'wasm+gpu — ORT wasm + WGSL post-processing',
  wasm: 'wasm — ORT wasm + TypeScript post-processing',
};

/**
 * What the pane's own markup shows of its state: none of it changes with a webcam frame, so
 * a frame does not re-render the pane. The per-frame figures are written into their nodes
 * (liveFigures.tsx); the result views (Overlay, class toggles, instance details and list)
 * subscribe to the result themselves.
 */
function paneView(p: PaneState) {
  return {
    modelId: p.modelId,
    path: p.path,
    activePath: p.activePath,
    pathNote: p.pathNote,
    settings: p.settings,
    status: p.status,
    message: p.message,
    maskOpacity: p.maskOpacity,
    hideBoxes: p.hideBoxes,
    hideLabels: p.hideLabels,
    evaluation: p.evaluation,
    hasResult: p.result !== null,
    resultPath: p.result?.path ?? null,
    twoStage: hasTwoStageTimings(p.result?.timings),
  };
}

export function Pane({ paneKey, index }: { paneKey: number; index: number }) {
  useRenderCount('Pane');
  const pane = useStore(
    useShallow((s) => {
      const p = s.panes.find((q) => q.key === paneKey);
      return p ? paneView(p) : null;
    }),
  );
  const paneCount = useStore((s) => s.panes.length);
  // Re-render the model picker (and class names) when models are added, renamed or deleted.
  useStore((s) => s.modelsVersion);
  const webgpu = useStore((s) => s.webgpu);
  const cpuThreads = useStore((s) => s.cpuThreads);
  // The live region's text (on the webcam, the status only: it does not change per frame).
  const announcement = useStore((s) => {
    const p = s.panes.find((q) => q.key === paneKey);
    return p ? paneAnnouncement(index, p.status, p.message, visibleInstances(p) ?? 0, s.webcamActive, s.evalRun !== null) : '';
  });
  // The clock the stage times come from, on the list itself.
  const timingsRef = useLiveFigure<HTMLElement>(paneKey, (el, p) => {
    const source = p.result?.timings.source ?? '';
    if (el.dataset.source !== source) el.dataset.source = source;
  });
  if (!pane) return null;
  const manifest = getModel(pane.modelId);
  const recorded = manifest ? recordedAccuracy(manifest) : undefined;
  const s = pane.settings;
  const readbackNote = pane.resultPath && manifest ? roiReadbackNote(manifest, pane.resultPath, s.maxDetections) : '';
  const quality = manifest ? qualityScore(manifest) : undefined;
  const auxiliary = manifest ? auxiliaryMapOf(manifest) : undefined;

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
        <button
          className="icon-btn"
          data-testid="remove-pane"
          title="Remove pane"
          aria-label={`Remove pane ${index + 1}`}
          disabled={paneCount <= 1 && false}
          onClick={() => engine.removePane(paneKey)}
        >
          ×
        </button>
      </div>

      {/* What a screen reader is told as the pane works: its status and, when done, the count (not per webcam frame). */}
      <p className="visually-hidden" aria-live="polite" data-testid="pane-live">
        {announcement}
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
              <option
                key={p}
                value={p}
                title={unavailable ? `${PATH_LABELS[p]}: needs WebGPU, which this browser does not offer` : PATH_LABELS[p]}
                disabled={unavailable}
              >
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
        {pane.activePath && pane.activePath !== 'webgpu' && cpuThreads !== null && (
          <span
            className="path-note"
            data-testid="cpu-threads"
            title="ORT's wasm EP runs in a Web Worker, off the page's main thread; it gets several threads only when the page is cross-origin isolated"
          >
            CPU worker: {cpuThreads} thread{cpuThreads === 1 ? '' : 's'}
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
          <span>
            score ≥ <b>{s.scoreThreshold.toFixed(2)}</b>
          </span>
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
        {auxiliary && (
          <label className="ctl" title={`Draw the ${auxiliary.name} the model predicts over the frame (${auxiliary.description})`}>
            <input
              type="checkbox"
              data-testid="show-auxiliary-map"
              checked={s.showAuxiliaryMap === true}
              onChange={(e) => engine.setSettings(paneKey, { showAuxiliaryMap: e.currentTarget.checked })}
            />
            <span>{auxiliary.name}</span>
          </label>
        )}
        {quality && (
          <label className="ctl" title={`Rank instances by the ${quality.description}`}>
            <span>rank by</span>
            <select
              data-testid="ranking"
              value={s.ranking ?? (quality.byDefault ? 'quality' : 'class')}
              onChange={(e) => engine.setSettings(paneKey, { ranking: e.currentTarget.value as Ranking })}
            >
              <option value="quality">{quality.name}</option>
              <option value="class">class score</option>
            </select>
          </label>
        )}
      </div>

      {/* How the result is drawn (and exported as PNG); nothing runs again. */}
      <div className="controls view-controls" data-testid="view-controls">
        <label className="ctl">
          <span>
            masks <b>{Math.round((pane.maskOpacity ?? 1) * 100)}%</b>
          </span>
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
          <input
            type="checkbox"
            data-testid="show-boxes"
            checked={!pane.hideBoxes}
            onChange={(e) => engine.setDisplay(paneKey, { hideBoxes: !e.currentTarget.checked })}
          />
          <span>boxes</span>
        </label>
        <label className="ctl">
          <input
            type="checkbox"
            data-testid="show-labels"
            checked={!pane.hideLabels}
            onChange={(e) => engine.setDisplay(paneKey, { hideLabels: !e.currentTarget.checked })}
          />
          <span>labels</span>
        </label>
      </div>

      <Overlay paneKey={paneKey} />

      {/* Per-frame figures: written into these nodes as results come (liveFigures.tsx), not rendered. */}
      <div className="stats">
        <div className="stat">
          <span>instances</span>
          <LiveText as="b" paneKey={paneKey} data-testid="instance-count" text={(p) => figureText.instances(p, '0')} />
        </div>
        <div className="stat">
          <span>fps</span>
          <LiveText as="b" paneKey={paneKey} data-testid="fps" text={figureText.fps} />
        </div>
        <div className="stat">
          <span>total</span>
          <LiveText as="b" paneKey={paneKey} text={(p) => `${figureText.total(p)} ms`} />
        </div>
        <div className="stat">
          <span>read-back</span>
          <LiveText as="b" paneKey={paneKey} text={figureText.readBack} />
        </div>
        <div className="actions">
          <button className="btn small" data-testid="export-json" disabled={!pane.hasResult} onClick={() => void engine.exportJson(paneKey)}>
            Export JSON
          </button>
          <button className="btn small" data-testid="export-png" disabled={!pane.hasResult} onClick={() => void engine.exportPng(paneKey)}>
            Export PNG
          </button>
        </div>
      </div>

      <dl className="timings" data-testid="stage-timings" ref={timingsRef}>
        {stageColumnsFor(pane.twoStage).map((stage) => (
          <StageTiming key={stage.key} paneKey={paneKey} stage={stage} />
        ))}
        <div className="timing-source">
          <dt>clock</dt>
          <LiveText as="dd" paneKey={paneKey} text={figureText.clock} />
        </div>
      </dl>

      {readbackNote && (
        <p className="path-note" data-testid="readback-note">
          {readbackNote}
        </p>
      )}

      {manifest && isExportedMaskRcnn(manifest) && (
        <p
          className="path-note"
          data-testid="model-cpu-note"
          title="torchvision / ONNX-zoo export: its NonMaxSuppression and RoiAlign ops have no WebGPU kernels in onnxruntime-web"
        >
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
        <p
          className="path-note evaluation"
          data-testid="pane-evaluation"
          title={`${pane.evaluation.instances} instances; ${pane.evaluation.path}, ${pane.evaluation.nmsKind} NMS, scores ≥ ${pane.evaluation.scoreThreshold}`}
        >
          Evaluated on {pane.evaluation.source} ({evaluatedImagesText(pane.evaluation)}): mask AP <b>{apText(pane.evaluation.maskAP)}</b> · AP50{' '}
          <b>{apText(pane.evaluation.maskAP50)}</b> · AP75 {apText(pane.evaluation.maskAP75)} · box AP {apText(pane.evaluation.boxAP)} · Boundary AP{' '}
          {apText(pane.evaluation.boundaryAP)}
        </p>
      )}

      {pane.status === 'error' && <p className="pane-error">{pane.message}</p>}

      <ClassToggles paneKey={paneKey} />
      <InstanceDetails paneKey={paneKey} />
      <InstanceList paneKey={paneKey} />
    </section>
  );
}

/** One stage's time: 'na' (greyed) where the stage did not run on this path. */
function StageTiming({ paneKey, stage }: { paneKey: number; stage: StageColumn }) {
  const ref = useLiveFigure<HTMLDivElement>(paneKey, (el, p) => {
    const value = timingsOf(p.result)?.[stage.key];
    el.classList.toggle('na', value === undefined);
    setText(el.lastElementChild as HTMLElement, ms(value));
  });
  return (
    <div ref={ref} data-stage={stage.key} title={stage.title}>
      <dt>{stage.label}</dt>
      <dd />
    </div>
  );
}

/** A class's name in the pane's model (its index when the model has none for it). */
function useClassName(modelId: string): (c: number) => string {
  useStore((s) => s.modelsVersion);
  const manifest = getModel(modelId);
  return (c) => manifest?.classes[c] ?? String(c);
}

/** One toggle per class found or hidden; re-rendered when that set changes, not per frame. */
function ClassToggles({ paneKey }: { paneKey: number }) {
  useRenderCount('ClassToggles');
  const view = useStore(
    useShallow((s) => {
      const p = s.panes.find((q) => q.key === paneKey);
      const found = p?.result?.detections.map((d) => d.classIndex) ?? [];
      const classes = [...new Set([...found, ...(p?.hiddenClasses ?? [])])].sort((a, b) => a - b);
      return { classes: classes.join(','), hiddenClasses: p?.hiddenClasses ?? [], modelId: p?.modelId ?? '' };
    }),
  );
  const className = useClassName(view.modelId);
  if (!view.classes) return null;
  return (
    <div className="class-toggles">
      {view.classes
        .split(',')
        .map(Number)
        .map((c) => {
          const hidden = view.hiddenClasses.includes(c);
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
  );
}

/** The hovered (or pinned) instance's details; re-rendered when that instance changes. */
function InstanceDetails({ paneKey }: { paneKey: number }) {
  useRenderCount('InstanceDetails');
  const view = useStore(
    useShallow((s) => {
      const p = s.panes.find((q) => q.key === paneKey);
      const hovered = p && p.highlight !== null ? p.result?.detections[p.highlight] : undefined;
      return { hovered, pinned: !!p?.pinned, modelId: p?.modelId ?? '' };
    }),
  );
  const className = useClassName(view.modelId);
  const { hovered, pinned } = view;
  return (
    <div className="instance-details" data-testid="instance-details" data-pinned={pinned && hovered ? '1' : '0'}>
      {hovered ? (
        <>
          {pinned && (
            <span className="pinned" title="Click it again, or press Escape, to unpin">
              pinned ·{' '}
            </span>
          )}
          <i style={{ background: classColorCss(hovered.classIndex) }} />
          <b>{className(hovered.classIndex)}</b> score {hovered.score.toFixed(3)} · box [{hovered.box.map((v) => v.toFixed(0)).join(', ')}] ·{' '}
          {(hovered.box[2] - hovered.box[0]).toFixed(0)}×{(hovered.box[3] - hovered.box[1]).toFixed(0)} px · mask {hovered.maskArea} px
          {hovered.qualities && (
            <span data-testid="instance-qualities" title="The model's own predictions of this mask's quality">
              {Object.entries(hovered.qualities).map(([name, v]) => ` · ${name} ${v.toFixed(3)}`)}
            </span>
          )}
        </>
      ) : (
        <span className="muted">Hover or focus an instance for its details; click to pin it</span>
      )}
    </div>
  );
}

/** The result's instances, one focusable row each: a result view, committed once per result. */
function InstanceList({ paneKey }: { paneKey: number }) {
  useRenderCount('InstanceList');
  const view = useStore(
    useShallow((s) => {
      const p = s.panes.find((q) => q.key === paneKey);
      return {
        detections: p?.result?.detections,
        hiddenClasses: p?.hiddenClasses ?? [],
        highlight: p?.highlight ?? null,
        pinned: !!p?.pinned,
        modelId: p?.modelId ?? '',
      };
    }),
  );
  const className = useClassName(view.modelId);
  const { highlight, pinned } = view;
  const visible = (view.detections ?? []).map((d, i) => ({ d, i })).filter(({ d }) => !view.hiddenClasses.includes(d.classIndex));
  return (
    <ol className="instance-list" data-testid="instance-list" onMouseLeave={() => engine.setHighlight(paneKey, null)}>
      {visible.map(({ d, i }) => (
        <li
          key={i}
          className={`instance-row${highlight === i ? ' hot' : ''}`}
          data-testid="instance-row"
          data-pinned={pinned && highlight === i ? '1' : undefined}
          title={pinned && highlight === i ? 'Pinned: click again or press Escape to unpin' : 'Click to pin'}
          onClick={() => engine.pinHighlight(paneKey, i)}
          data-class={className(d.classIndex)}
          data-score={d.score.toFixed(2)}
          data-qualities={
            d.qualities
              ? Object.entries(d.qualities)
                  .map(([name, v]) => `${name}=${v.toFixed(3)}`)
                  .join(',')
              : undefined
          }
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
  );
}

/** One instance in words: the row's accessible name (the same facts as the details line). */
function instanceText(name: string, d: Detection): string {
  const [x1, y1, x2, y2] = d.box.map((v) => v.toFixed(0));
  const qualities = Object.entries(d.qualities ?? {}).map(([q, v]) => `, ${q} ${v.toFixed(2)}`);
  return `${name}, score ${d.score.toFixed(2)}, box ${x1}, ${y1} to ${x2}, ${y2}, mask ${d.maskArea} px${qualities.join('')}`;
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
