/**
 * Speed against accuracy, under the comparison table: each pane's model as a point at its
 * measured time a frame (the table's "total ms") and its mask AP, the Pareto front drawn
 * through the points nothing beats. Filled: AP evaluated here (Evaluate); hollow: the AP
 * recorded for the bundled model (accuracy.json, checked by sha256). The layout is
 * pareto.ts (pure, unit-tested); this draws it as SVG, which also gives the PNG export
 * (paretoPng.ts) and the text alternative.
 *
 * Not on the frame path: the plot reads the store through its own subscription and
 * re-renders at most every REFRESH_MS, and only when a figure it shows changed (a webcam
 * frame changes the times in every pane; the plot follows a few times a second).
 */
import { memo, useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import { getModel, recordedAccuracy } from '../models/registry';
import { downloadBlob } from '../pipeline/exports';
import { useRenderCount } from '../state/renderCounts';
import { notify, useStore } from '../state/store';
import { describePlotLines, paneFigures, plotLayout, type FigureSources, type PaneFigures, type PlacedPoint } from './pareto';
import { PARETO_PNG_NAME, svgToPng } from './paretoPng';

/** The plot follows the panes' figures at most this often. */
const REFRESH_MS = 250;

/** The app's theme (styles.css :root), as attributes: the SVG is also drawn alone, as the PNG. */
const COLOR = { bg: '#161b22', grid: '#2a323d', axis: '#56606d', text: '#d7dde5', muted: '#8b96a5', front: '#4fa3ff', beaten: '#8b96a5' };
const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif';

const sources: FigureSources = {
  modelName: (id) => getModel(id)?.name ?? id,
  recorded: (id) => {
    const manifest = getModel(id);
    return manifest && recordedAccuracy(manifest);
  },
};

function currentFigures(): PaneFigures[] {
  return useStore.getState().panes.map((p, i) => paneFigures(p, i, sources));
}

/** The panes' figures, refreshed at most every REFRESH_MS after a store write, and only when one changed. */
function usePlotFigures(): PaneFigures[] {
  const [figures, setFigures] = useState(currentFigures);
  useEffect(() => {
    let shown = JSON.stringify(currentFigures());
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refresh = () => {
      timer = null;
      const next = currentFigures();
      const key = JSON.stringify(next);
      if (key === shown) return;
      shown = key;
      setFigures(next);
    };
    const unsubscribe = useStore.subscribe((s, prev) => {
      if (s.panes === prev.panes && s.modelsVersion === prev.modelsVersion) return;
      timer ??= setTimeout(refresh, REFRESH_MS);
    });
    refresh(); // a write between the first render and this subscription
    return () => {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
    };
  }, []);
  return figures;
}

function Marker({ p, r }: { p: PlacedPoint; r: number }) {
  const color = p.onFront ? COLOR.front : COLOR.beaten;
  return <circle cx={p.cx} cy={p.cy} r={r} fill={p.apSource === 'evaluated' ? color : COLOR.bg} stroke={color} strokeWidth={2} />;
}

function Legend({ x, y }: { x: number; y: number }) {
  const items: Array<{ w: number; mark: ReactNode; text: string }> = [
    { w: 114, mark: <circle cx={5} cy={0} r={4.5} fill={COLOR.front} stroke={COLOR.front} strokeWidth={2} />, text: 'evaluated here' },
    { w: 88, mark: <circle cx={5} cy={0} r={4.5} fill={COLOR.bg} stroke={COLOR.front} strokeWidth={2} />, text: 'recorded' },
    { w: 102, mark: <line x1={-2} x2={12} y1={0} y2={0} stroke={COLOR.front} strokeWidth={2} strokeDasharray="4 3" />, text: 'Pareto front' },
    { w: 60, mark: <circle cx={5} cy={0} r={4.5} fill={COLOR.bg} stroke={COLOR.beaten} strokeWidth={2} />, text: 'beaten' },
  ];
  let at = x;
  return (
    <g data-testid="pareto-legend" fontSize={11} fill={COLOR.muted}>
      {items.map((it) => {
        const g = (
          <g key={it.text} transform={`translate(${at} ${y})`}>
            {it.mark}
            <text x={17} y={0} dominantBaseline="middle">
              {it.text}
            </text>
          </g>
        );
        at += it.w;
        return g;
      })}
    </g>
  );
}

export const ParetoPlot = memo(function ParetoPlot() {
  useRenderCount('ParetoPlot');
  const figures = usePlotFigures();
  const layout = useMemo(() => plotLayout(figures), [figures]);
  const description = useMemo(() => describePlotLines(layout), [layout]);
  const svgRef = useRef<SVGSVGElement>(null);
  const captionId = useId();
  const { area, x, y, points } = layout;
  const anyTime = figures.some((f) => f.timeMs !== null);
  const empty = points.length === 0 ? (anyTime ? 'No pane has an accuracy yet: Evaluate the models' : 'Run a frame to place the panes') : null;

  const exportPng = async () => {
    try {
      if (!svgRef.current) return;
      downloadBlob(await svgToPng(svgRef.current), PARETO_PNG_NAME);
    } catch (err) {
      notify('error', `Export failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  return (
    <figure className="pareto" data-testid="pareto-plot" data-points={points.length}>
      <div className="pareto-actions">
        <button className="btn" data-testid="export-pareto-png" title={`Download the plot as ${PARETO_PNG_NAME}`} onClick={() => void exportPng()}>
          Export plot PNG
        </button>
      </div>
      <svg
        ref={svgRef}
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="img"
        aria-labelledby={captionId}
        fontFamily={FONT}
        data-testid="pareto-svg"
      >
        <rect x={0} y={0} width={layout.width} height={layout.height} fill={COLOR.bg} />
        <text x={12} y={20} fontSize={13} fontWeight={600} fill={COLOR.text} dominantBaseline="middle">
          Speed against accuracy
        </text>
        <Legend x={200} y={20} />
        {/* grid, ticks and tick labels */}
        <g fontSize={10.5} fill={COLOR.muted}>
          {x.positions.map((px, i) => (
            <g key={`x${i}`}>
              <line x1={px} x2={px} y1={area.top} y2={area.bottom} stroke={COLOR.grid} />
              <line x1={px} x2={px} y1={area.bottom} y2={area.bottom + 4} stroke={COLOR.axis} />
              <text x={px} y={area.bottom + 15} textAnchor="middle" dominantBaseline="middle" data-testid="pareto-x-tick">
                {x.labels[i]}
              </text>
            </g>
          ))}
          {y.positions.map((py, i) => (
            <g key={`y${i}`}>
              <line x1={area.left} x2={area.right} y1={py} y2={py} stroke={COLOR.grid} />
              <line x1={area.left - 4} x2={area.left} y1={py} y2={py} stroke={COLOR.axis} />
              <text x={area.left - 7} y={py} textAnchor="end" dominantBaseline="middle" data-testid="pareto-y-tick">
                {y.labels[i]}
              </text>
            </g>
          ))}
        </g>
        <polyline points={`${area.left},${area.top} ${area.left},${area.bottom} ${area.right},${area.bottom}`} fill="none" stroke={COLOR.axis} />
        <text x={(area.left + area.right) / 2} y={layout.height - 10} textAnchor="middle" fontSize={11.5} fill={COLOR.text}>
          time a frame on this device (ms) — faster is left
        </text>
        <text
          x={14}
          y={(area.top + area.bottom) / 2}
          textAnchor="middle"
          dominantBaseline="middle"
          fontSize={11.5}
          fill={COLOR.text}
          transform={`rotate(-90 14 ${(area.top + area.bottom) / 2})`}
        >
          mask AP — better is up
        </text>
        {empty && (
          <text
            x={(area.left + area.right) / 2}
            y={(area.top + area.bottom) / 2}
            textAnchor="middle"
            dominantBaseline="middle"
            fontSize={13}
            fill={COLOR.muted}
            data-testid="pareto-empty"
          >
            {empty}
          </text>
        )}
        {layout.frontPath.length > 1 && (
          <polyline
            data-testid="pareto-front-line"
            points={layout.frontPath.map(([px, py]) => `${px},${py}`).join(' ')}
            fill="none"
            stroke={COLOR.front}
            strokeWidth={2}
            strokeDasharray="5 4"
          />
        )}
        {points.map((p) => (
          <g
            key={p.key}
            data-testid="pareto-point"
            data-pane-index={p.index}
            data-model={p.modelId}
            data-path={p.path}
            data-time-ms={p.timeMs}
            data-ap={p.ap}
            data-ap-source={p.apSource ?? ''}
            data-front={p.onFront ? 'true' : 'false'}
          >
            <title>{`${p.label}: ${p.timeMs.toFixed(1)} ms a frame, mask AP ${p.ap.toFixed(3)} (${p.apDetail})`}</title>
            <Marker p={p} r={layout.pointRadius} />
            <text
              x={p.labelX}
              y={p.labelY}
              textAnchor={p.labelAnchor}
              dominantBaseline="middle"
              fontSize={layout.labelFontPx}
              fill={p.onFront ? COLOR.text : COLOR.muted}
            >
              {p.label}
            </text>
          </g>
        ))}
      </svg>
      <figcaption id={captionId} className="pareto-caption" data-testid="pareto-caption">
        {description.map((line) => (
          <p key={line}>{line}</p>
        ))}
      </figcaption>
    </figure>
  );
});
