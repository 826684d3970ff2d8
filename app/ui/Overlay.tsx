/**
 * The overlay of one pane, three layers stacked exactly: the frame (a Konva image layer
 * at the bottom of its own stage), the masks overlay — on the GPU paths a `<canvas>` with
 * a WebGPU context into which the engine draws the compose kernel's texture
 * (pipeline/overlayCanvas.ts, no read-back); on the 'wasm' path (or the read-back
 * fallback) the CPU reference's RGBA as a Konva image — and on top a transparent Konva
 * stage with boxes, labels and scores as shapes. Draws only from the store: each result on
 * the frame it was computed on (PaneState.resultFrame), with the pane's mask opacity and
 * box / label toggles. Hovering an instance highlights it; a click pins it (Escape unpins).
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Group, Image as KonvaImage, Label, Layer, Rect, Stage, Tag, Text } from 'react-konva';
import type Konva from 'konva';
import { engine } from '../pipeline/engine';
import { attachCanvas } from '../pipeline/overlayCanvas';
import { layoutLabels } from './labelLayout';
import { classColorCss } from '../pipeline/palette';
import { useShallow } from 'zustand/react/shallow';
import { getModel } from '../models/registry';
import { recordDraw } from '../state/drawTimes';
import { useRenderCount } from '../state/renderCounts';
import { useStore, type PaneState, type State } from '../state/store';
import type { FrameResult } from '../types';
import { auxiliaryMapCanvas, auxiliaryMapSummary } from './auxiliaryMap';

const MAX_STAGE_HEIGHT = 520;
/** Labels are drawn for this many instances (highest scores) plus the hovered one; boxes for all. */
const MAX_LABELS = 20;

/** Indices of the visible detections that get a label: the top MAX_LABELS by score, plus the highlighted one. */
function labelledInstances(pane: PaneState): Set<number> {
  const dets = pane.result?.detections ?? [];
  const order = dets
    .map((d, i) => ({ s: d.score, i, hidden: pane.hiddenClasses.includes(d.classIndex) }))
    .filter((x) => !x.hidden)
    .sort((a, b) => b.s - a.s || a.i - b.i);
  const keep = new Set(order.slice(0, MAX_LABELS).map((x) => x.i));
  if (pane.highlight !== null) keep.add(pane.highlight);
  return keep;
}

/** Index of the visible detection under (x, y) in image pixels: the smallest box containing it. */
function hitTest(pane: PaneState, x: number, y: number): number | null {
  let best: number | null = null;
  let bestArea = Infinity;
  pane.result?.detections.forEach((d, i) => {
    if (pane.hiddenClasses.includes(d.classIndex)) return;
    const [x1, y1, x2, y2] = d.box;
    if (x < x1 || x > x2 || y < y1 || y > y2) return;
    const area = (x2 - x1) * (y2 - y1);
    if (area < bestArea) {
      bestArea = area;
      best = i;
    }
  });
  return best;
}

/**
 * What the overlay shows under the result: the picture (the result's own frame when the
 * result is shown, else the current frame) and the frame's size. On the webcam a new frame
 * changes none of it until the pane's result for it comes, so a frame alone does not
 * re-render the overlay.
 */
function frameView(s: State, paneKey: number) {
  const pane = s.panes.find((p) => p.key === paneKey);
  // A stream (webcam, a playing video): each pane shows its last result on the frame it was computed on.
  const live = s.sourceKind === 'webcam' || s.sourceKind === 'video';
  const resultFrame = pane?.resultFrame;
  // Each result is drawn on the frame it was computed on (the pane keeps that frame): an image
  // shows only its own result (never the previous image's boxes while the new one runs); the
  // webcam shows the last result on its own frame, so masks never sit beside a moving object.
  const showResult =
    !!pane?.result &&
    !!resultFrame &&
    (pane.resultFrameId === s.frameId || (live && resultFrame.width === s.frameWidth && resultFrame.height === s.frameHeight));
  return {
    picture: showResult ? resultFrame!.bitmap : s.frameBitmap,
    frameW: s.frameWidth,
    frameH: s.frameHeight,
    showResult,
  };
}

/**
 * Times Konva's drawing of each result (its `draw` stage): from each layer's `beforeDraw`
 * to its `draw` event, summed over the layers Konva draws in the animation frame after the
 * result was committed, and recorded beside the result (state/drawTimes.ts) once that frame's
 * draws are done. Returns the callback ref for each layer and `expect(result)`, called when
 * a result is committed.
 */
function useDrawTiming(paneKey: number) {
  const pending = useRef<{ result: FrameResult | null; ms: number; queued: boolean }>({ result: null, ms: 0, queued: false });
  const shapesLayer = useRef<Konva.Layer | null>(null);
  const layerRef = useCallback(
    (layer: Konva.Layer | null) => {
      if (!layer) return;
      let start = 0;
      layer.on('beforeDraw.drawTime', () => {
        start = performance.now();
      });
      layer.on('draw.drawTime', () => {
        const t = pending.current;
        if (!t.result) return;
        t.ms += performance.now() - start;
        if (t.queued) return;
        t.queued = true;
        // Konva draws every layer waiting for a draw in one animation-frame callback: the
        // microtask comes after the last of them.
        queueMicrotask(() => {
          if (t.result) recordDraw(paneKey, t.result, t.ms);
          t.result = null;
          t.ms = 0;
          t.queued = false;
        });
      });
      return () => {
        layer.off('.drawTime');
      };
    },
    [paneKey],
  );
  const shapesRef = useCallback(
    (layer: Konva.Layer | null) => {
      shapesLayer.current = layer;
      const off = layerRef(layer);
      return () => {
        shapesLayer.current = null;
        off?.();
      };
    },
    [layerRef],
  );
  const expect = useCallback((result: FrameResult) => {
    const t = pending.current;
    t.result = result;
    t.ms = 0;
    // A result that changes nothing on the layers (nothing found, on an unchanged image) is
    // drawn all the same, so that every result has its draw time.
    shapesLayer.current?.batchDraw();
  }, []);
  return { timeFrameLayer: layerRef, timeShapesLayer: shapesRef, expect };
}

export function Overlay({ paneKey }: { paneKey: number }) {
  useRenderCount('Overlay');
  const container = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(480);
  // The overlay draws the pane's result: it re-renders with each result (and hover, toggles).
  const pane = useStore((s) => s.panes.find((p) => p.key === paneKey));
  const { picture, frameW, frameH, showResult } = useStore(useShallow((s) => frameView(s, paneKey)));
  const overlayMode = useStore((s) => s.overlayMode);
  const webgpu = useStore((s) => s.webgpu);
  // The pane's WebGPU canvas, registered with the engine by pane key.
  const setCanvas = useCallback((el: HTMLCanvasElement | null) => attachCanvas(paneKey, el), [paneKey]);
  const { timeFrameLayer, timeShapesLayer, expect: expectDraw } = useDrawTiming(paneKey);

  useEffect(() => {
    const el = container.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(200, el.clientWidth)));
    ro.observe(el);
    setWidth(Math.max(200, el.clientWidth));
    return () => ro.disconnect();
  }, []);

  // Each result shown is timed as Konva draws it (its `draw` stage), once.
  const result = pane?.result ?? null;
  // The auxiliary map's pixels, made once per result that carries one.
  const auxiliaryMap = result?.auxiliaryMap;
  const auxiliaryImage = useMemo(() => (auxiliaryMap ? auxiliaryMapCanvas(auxiliaryMap) : null), [auxiliaryMap]);
  useLayoutEffect(() => {
    if (result && showResult) expectDraw(result);
  }, [result, showResult, expectDraw]);

  // A pointer resting on the overlay keeps pointing at whatever is under it when a new
  // result comes (the webcam): the hover is tested again at the same place.
  const pointer = useRef<{ x: number; y: number } | null>(null);
  useEffect(() => {
    if (!pane || !result || !pointer.current) return;
    engine.setHighlight(paneKey, hitTest(pane, pointer.current.x, pointer.current.y));
    // Only a new result asks for it; hidden classes and the highlight itself do not.
  }, [result]);

  // Escape unpins a pinned instance.
  const pinned = !!pane?.pinned;
  useEffect(() => {
    if (!pinned) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') engine.pinHighlight(paneKey, null);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [pinned, paneKey]);

  if (!pane) return null;
  const manifest = getModel(pane.modelId);
  const auxiliary = showResult ? (result?.auxiliaryMap ?? null) : null;
  if (!picture || !frameW) {
    return (
      <div ref={container} className="overlay empty" data-testid="overlay">
        <div className="empty-hint">
          <strong>Drop, paste or open an image</strong>
          <span>or pick a sample, or start the webcam — drop an .onnx YOLACT or YOLO-seg export to add a model</span>
        </div>
      </div>
    );
  }

  // The result, when it is drawn (on its own frame).
  const drawn = showResult ? result : null;
  const scale = Math.min(width / frameW, MAX_STAGE_HEIGHT / frameH);
  const stageW = Math.round(frameW * scale);
  const stageH = Math.round(frameH * scale);
  const maskOpacity = pane.maskOpacity ?? 1;
  const label = Math.max(10, Math.min(13, 11 / Math.sqrt(scale)));

  const onMove = (e: Konva.KonvaEventObject<MouseEvent>) => {
    const pos = e.target.getStage()?.getPointerPosition();
    if (!pos) return;
    pointer.current = { x: pos.x / scale, y: pos.y / scale };
    engine.setHighlight(pane.key, hitTest(pane, pointer.current.x, pointer.current.y));
  };

  // A click pins the instance under it (again on it, or beside every instance: unpins).
  const onClick = (e: Konva.KonvaEventObject<MouseEvent | TouchEvent>) => {
    const pos = e.target.getStage()?.getPointerPosition();
    if (!pos || !drawn) return;
    engine.pinHighlight(pane.key, hitTest(pane, pos.x / scale, pos.y / scale));
  };

  const gpuPane = pane.activePath !== null && pane.activePath !== 'wasm';
  const labelled = drawn && !pane.hideLabels ? labelledInstances(pane) : new Set<number>();
  const labelText = (i: number) => {
    const d = drawn!.detections[i]!;
    return `${manifest?.classes[d.classIndex] ?? d.classIndex} ${d.score.toFixed(2)}`;
  };
  // Label spots that never cover each other (labelLayout.ts), highest score first; a label
  // with no room is left out until its instance is hovered. Width: ~0.6 em a character + padding.
  const labelSpots = drawn
    ? layoutLabels(
        [...labelled]
          .filter((i) => i < drawn.detections.length)
          .sort((a, b) => drawn.detections[b]!.score - drawn.detections[a]!.score || a - b)
          .map((i) => {
            const [x1, y1, x2, y2] = drawn.detections[i]!.box;
            return { id: i, box: [x1 * scale, y1 * scale, x2 * scale, y2 * scale] as const, width: labelText(i).length * 0.6 * label + 4, height: label + 4 };
          }),
        stageW,
        stageH,
        pane.highlight,
      )
    : new Map<number, { x: number; y: number }>();
  const visibleCount = drawn ? drawn.detections.filter((d) => !pane.hiddenClasses.includes(d.classIndex)).length : 0;
  const readbackNote = gpuPane && overlayMode === 'readback';
  // The highlighted instance is drawn last, so that its box and label sit on top of the others.
  const drawOrder = drawn ? drawn.detections.map((_, i) => i).filter((i) => i !== pane.highlight) : [];
  if (drawn && pane.highlight !== null && pane.highlight < drawn.detections.length) drawOrder.push(pane.highlight);
  return (
    <div ref={container} className="overlay" data-testid="overlay">
      <div className="overlay-stack" style={{ width: stageW, height: stageH }}>
        <Stage className="overlay-frame" width={stageW} height={stageH} listening={false}>
          <Layer listening={false} ref={timeFrameLayer}>
            <KonvaImage image={picture} width={stageW} height={stageH} />
            {drawn && pane.overlay && <KonvaImage image={pane.overlay} width={stageW} height={stageH} opacity={maskOpacity} />}
          </Layer>
        </Stage>
        {webgpu && overlayMode === 'canvas' && (
          <canvas
            ref={setCanvas}
            className="overlay-gpu"
            data-testid="overlay-gpu-canvas"
            data-shown={drawn && pane.overlayOnCanvas ? '1' : '0'}
            style={{ width: stageW, height: stageH, opacity: maskOpacity, visibility: drawn && pane.overlayOnCanvas ? 'visible' : 'hidden' }}
          />
        )}
        <Stage
          className="overlay-shapes"
          width={stageW}
          height={stageH}
          onMouseMove={onMove}
          onClick={onClick}
          onTap={onClick}
          onMouseLeave={() => {
            pointer.current = null;
            engine.setHighlight(pane.key, null);
          }}
        >
          <Layer listening={false} ref={timeShapesLayer}>
            {auxiliaryImage && auxiliary && (
              <KonvaImage
                image={auxiliaryImage}
                x={auxiliary.imageRect[0] * scale}
                y={auxiliary.imageRect[1] * scale}
                width={(auxiliary.imageRect[2] - auxiliary.imageRect[0]) * scale}
                height={(auxiliary.imageRect[3] - auxiliary.imageRect[1]) * scale}
              />
            )}
            {drawn &&
              drawOrder.map((i) => {
                const d = drawn.detections[i]!;
                if (pane.hiddenClasses.includes(d.classIndex)) return null;
                const [x1, y1, x2, y2] = d.box;
                const hot = pane.highlight === i;
                const dim = pane.highlight !== null && !hot;
                const color = classColorCss(d.classIndex);
                const spot = labelSpots.get(i);
                return (
                  <Group key={i} opacity={dim ? 0.35 : 1}>
                    {!pane.hideBoxes && (
                      <Rect x={x1 * scale} y={y1 * scale} width={(x2 - x1) * scale} height={(y2 - y1) * scale} stroke={color} strokeWidth={hot ? 3 : 1.5} />
                    )}
                    {spot && (
                      <Label x={spot.x} y={spot.y}>
                        <Tag fill={color} opacity={0.9} cornerRadius={2} />
                        <Text text={labelText(i)} fontSize={label} fontStyle="600" fill="#0b0d10" padding={2} />
                      </Label>
                    )}
                  </Group>
                );
              })}
          </Layer>
        </Stage>
      </div>
      {(readbackNote || visibleCount > MAX_LABELS || auxiliary) && (
        <div className="overlay-foot">
          {auxiliary && (
            <span className="auxiliary-note" data-testid="auxiliary-map-note" title="Drawn in cyan over the frame, opacity = the map's value">
              {auxiliaryMapSummary(auxiliary)}
            </span>
          )}
          {visibleCount > MAX_LABELS && (
            <span className="labels-note" data-testid="labels-note" title="Boxes are drawn for every instance; the instance list below lists them all.">
              labels for the top {MAX_LABELS} shown ({visibleCount} instances)
            </span>
          )}
          {readbackNote && (
            <span
              className="overlay-note"
              data-testid="overlay-note"
              title="A WebGPU canvas loses the device on this software GPU: the overlay is read back to the CPU every frame instead."
            >
              software GPU: overlay read back each frame (fallback)
            </span>
          )}
        </div>
      )}
    </div>
  );
}
