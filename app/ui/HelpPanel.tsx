/**
 * The line under the top bar: one plain sentence on where the panes run (runsOn.ts) and a
 * "What am I looking at?" link that opens a short help panel: what a pane is, the three
 * paths, what the timings and the AP figures mean.
 */
import { useEffect, useRef, useState } from 'react';
import { useStore } from '../state/store';
import { runsOnSentence } from './runsOn';
import './help.css';

export function RunsOnLine() {
  const envReady = useStore((s) => s.envReady);
  const webgpu = useStore((s) => s.webgpu);
  const fallbackAdapter = useStore((s) => s.fallbackAdapter);
  const defaultPath = useStore((s) => s.defaultPath);
  const adapter = useStore((s) => s.adapterName);
  const [open, setOpen] = useState(false);
  return (
    <div className="runs-on">
      {envReady && (
        <span data-testid="runs-on" title={adapter ? `GPU adapter: ${adapter}` : undefined}>
          {runsOnSentence({ webgpu, fallbackAdapter, defaultPath })}
        </span>
      )}
      <button className="link-button" data-testid="help-open" aria-haspopup="dialog" onClick={() => setOpen(true)}>
        What am I looking at?
      </button>
      {open && <HelpPanel onClose={() => setOpen(false)} />}
    </div>
  );
}

function HelpPanel({ onClose }: { onClose: () => void }) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    close.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="dialog-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div className="dialog help" role="dialog" aria-modal="true" aria-labelledby="help-title" data-testid="help-panel">
        <h2 id="help-title">What am I looking at?</h2>
        <p>
          <strong>A pane</strong> is one model looking at the image: the picture with the model’s masks (coloured), boxes and labels drawn over it. Hover an
          object to single it out; the list under the pane names every object found. Add panes to compare models, paths or settings on the same picture.
        </p>
        <p>
          <strong>The three paths</strong> (each pane’s path picker):
        </p>
        <ul>
          <li>
            <b>webgpu</b>: the model and its post-processing both run on the GPU; nothing leaves it until the result.
          </li>
          <li>
            <b>wasm+gpu</b>: the model runs on the CPU (WebAssembly), its outputs go to the GPU once for the post-processing. The fastest where the GPU is a
            software emulation.
          </li>
          <li>
            <b>wasm</b>: everything on the CPU (WebAssembly and JavaScript). Works without WebGPU.
          </li>
        </ul>
        <p>
          <strong>Timings</strong> are milliseconds per stage for the last picture: preprocess (resize, normalise), inference (the model), decode, NMS (removing
          duplicate boxes), masks, read-back (results copied to the CPU) and draw. “clock: gpu” means GPU timestamps, “cpu” timers around each step. fps counts
          pictures per second on the webcam.
        </p>
        <p>
          <strong>AP figures</strong> come from <em>Evaluate</em>: every pane runs over the sample images and is compared with their ground-truth outlines. AP
          (average precision) goes from 0 (nothing right) to 1 (every object found, outlined exactly); mask AP scores the outlines, box AP the boxes, AP50
          counts an object as found when it overlaps the truth by half. The recorded figures under a pane come from a larger validation set.
        </p>
        <div className="dialog-actions">
          <span className="grow" />
          <button ref={close} className="btn primary" data-testid="help-close" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
