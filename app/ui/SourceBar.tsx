import { useEffect, useRef, useState } from 'react';
import { loadSamples } from '../eval/evalSource';
import { engine } from '../pipeline/engine';
import { useStore } from '../state/store';
import { useRenderCount } from '../state/renderCounts';
import { ModelLibrary } from './ModelLibrary';
import { RunsOnLine } from './HelpPanel';
import { useVideoTransport, videoTimeText } from '../pipeline/videoSource';

/** Play / pause, one frame forward and the position, while a video file is the source. */
function VideoTransportRow() {
  const t = useVideoTransport((s) => s.transport);
  if (!t) return null;
  const duration = Number.isFinite(t.duration) ? t.duration : 0;
  return (
    <div className="group video-transport" role="group" aria-label="Video">
      {t.playing ? (
        <button className="btn" data-testid="video-pause" onClick={() => engine.pauseVideo()}>
          ❚❚ Pause
        </button>
      ) : (
        <button className="btn primary" data-testid="video-play" onClick={() => void engine.playVideo()}>
          ▶ Play
        </button>
      )}
      <button className="btn" data-testid="video-step" title="One frame forward (pauses)" disabled={t.atEnd} onClick={() => engine.stepVideo()}>
        ▸❘ Step
      </button>
      <input
        type="range"
        className="video-position"
        data-testid="video-position"
        aria-label="Video position"
        min={0}
        max={duration}
        step="any"
        value={Math.min(t.time, duration)}
        aria-valuetext={`${videoTimeText(t.time)} of ${videoTimeText(duration)}`}
        onChange={(e) => engine.seekVideo(Number(e.currentTarget.value))}
      />
      <span className="video-time" data-testid="video-time">
        {videoTimeText(t.time)} / {videoTimeText(duration)}
      </span>
    </div>
  );
}

/** Sample images come from public/samples/annotations.json (COCO GT of the samples). */
function useSamples(): string[] {
  const [samples, setSamples] = useState<string[]>([]);
  useEffect(() => {
    let alive = true;
    loadSamples(import.meta.env.BASE_URL)
      .then((gt) => {
        if (alive) setSamples(gt.images.flatMap((i) => (i.fileName ? [i.fileName] : [])));
      })
      .catch(() => undefined);
    return () => {
      alive = false;
    };
  }, []);
  return samples;
}

export function SourceBar() {
  useRenderCount('SourceBar');
  const input = useRef<HTMLInputElement>(null);
  const samples = useSamples();
  const sourceName = useStore((s) => s.sourceName);
  const sourceKind = useStore((s) => s.sourceKind);
  const size = useStore((s) => (s.frameWidth ? `${s.frameWidth}×${s.frameHeight}` : ''));
  const cameras = useStore((s) => s.cameras);
  const cameraId = useStore((s) => s.cameraId);
  const webcamActive = useStore((s) => s.webcamActive);
  const webgpu = useStore((s) => s.webgpu);
  const fallback = useStore((s) => s.fallbackAdapter);
  const adapter = useStore((s) => s.adapterName);
  const envReady = useStore((s) => s.envReady);
  const evalRun = useStore((s) => s.evalRun);
  // The full camera label as a tooltip: the select itself is truncated to keep the bar on one line.
  const cameraLabel = cameras.find((c) => c.deviceId === cameraId)?.label ?? cameras[0]?.label ?? 'default camera';

  return (
    <>
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden>
            ◧
          </span>
          <h1>SegArena</h1>
        </div>
        <div className="sources">
          <div className="group" role="group" aria-label="Image">
            <button className="btn primary" onClick={() => input.current?.click()}>
              Open image or video
            </button>
            {/* Opened by the button above: out of the tab order and the accessibility tree (no "Choose File" stop). */}
            <input
              ref={input}
              type="file"
              accept="image/*,video/*"
              data-testid="image-input"
              className="visually-hidden"
              tabIndex={-1}
              aria-hidden
              onChange={(e) => {
                const file = e.currentTarget.files?.[0];
                if (file) void engine.openFile(file); // an image, or a video (the transport row appears)
                e.currentTarget.value = '';
              }}
            />
            <label className="field">
              <span>Sample</span>
              <select
                data-testid="sample-picker"
                value={sourceKind === 'image' && samples.includes(sourceName) ? sourceName : ''}
                onChange={(e) => e.currentTarget.value && void engine.openSample(e.currentTarget.value)}
              >
                <option value="">— pick a sample —</option>
                {samples.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <button
              className="btn evaluate"
              data-testid="evaluate"
              disabled={evalRun !== null || samples.length === 0}
              title="Run every pane over the samples and score it against their ground truth (COCO mask / box / Boundary AP). Or drop a COCO ground-truth .json together with its images."
              onClick={() => void engine.evaluateSamples()}
            >
              {evalRun ? `Evaluating ${evalRun.done}/${evalRun.total}…` : 'Evaluate'}
            </button>
            {evalRun && (
              <button
                className="btn danger"
                data-testid="evaluate-stop"
                title="Stop after the current image; the images done so far are scored"
                onClick={() => engine.stopEvaluation()}
              >
                ■ Stop evaluation
              </button>
            )}
          </div>
          <span className="sep" />
          <div className="group" role="group" aria-label="Webcam">
            <label className="field">
              <span>Camera</span>
              <select
                data-testid="camera-picker"
                className="camera-select"
                title={cameraLabel}
                value={cameraId ?? ''}
                onChange={(e) => engine.selectCamera(e.currentTarget.value)}
                onFocus={() => void engine.refreshCameras()}
              >
                {cameras.length === 0 && <option value="">default camera</option>}
                {cameras.map((c) => (
                  <option key={c.deviceId} value={c.deviceId} title={c.label}>
                    {c.label}
                  </option>
                ))}
              </select>
            </label>
            <button className="btn" data-testid="webcam-start" disabled={webcamActive} onClick={() => void engine.startWebcam()}>
              ● <span className="wide-only">Start </span>webcam
            </button>
            {/* Named in full even where "webcam" is hidden (narrow windows): it sits near the evaluation's Stop. */}
            <button className="btn danger" data-testid="webcam-stop" aria-label="Stop webcam" disabled={!webcamActive} onClick={() => engine.stopWebcam()}>
              ■ Stop<span className="wide-only"> webcam</span>
            </button>
          </div>
          <span className="sep" />
          <div className="group" role="group" aria-label="Panes and models">
            <button className="btn" data-testid="add-pane" onClick={() => engine.addPane()}>
              + Add pane
            </button>
            <ModelLibrary />
          </div>
          <VideoTransportRow />
        </div>
        <div className="env">
          {sourceName && (
            <span className="source-name" title={sourceName}>
              {sourceKind === 'webcam' ? 'webcam' : sourceName} {size && <em>{size}</em>}
            </span>
          )}
          {envReady && (
            <span className={`chip ${webgpu ? (fallback ? 'warn' : 'ok') : 'off'}`} title={adapter}>
              {webgpu ? (fallback ? 'WebGPU · software' : 'WebGPU') : 'no WebGPU'}
            </span>
          )}
        </div>
      </header>
      {/* Under the bar: where the panes run, in one sentence, and the help link. */}
      <RunsOnLine />
    </>
  );
}
