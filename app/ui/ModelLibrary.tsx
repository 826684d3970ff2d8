/**
 * Models the user brings, as one compact "Models" menu in the top bar: an "Add model"
 * button (a file input for .onnx files; dropping one anywhere on the page does the same)
 * and the list of dropped models saved in IndexedDB, each with a delete button that asks
 * first, in its row, saying which panes run the model and what they switch to.
 * The file input stays outside the menu so that it exists while the menu is closed.
 */
import { useRef, useState } from 'react';
import { engine } from '../pipeline/engine';
import { useStore } from '../state/store';
import { bytesText } from './format';
import './modelLibrary.css';

export function ModelLibrary() {
  const input = useRef<HTMLInputElement>(null);
  const menu = useRef<HTMLDetailsElement>(null);
  const saved = useStore((s) => s.savedModels);
  /** The saved model whose delete waits for Delete / Cancel. */
  const [confirming, setConfirming] = useState<string | null>(null);
  // Re-render the question when the panes' models change (not on every result).
  useStore((s) => (confirming ? s.panes.map((p) => p.modelId).join('\n') : ''));
  return (
    <div className="model-library">
      {/* Opened by "Add model" in the menu: out of the tab order and the accessibility tree. */}
      <input
        ref={input}
        type="file"
        accept=".onnx"
        data-testid="model-drop-input"
        className="visually-hidden"
        tabIndex={-1}
        aria-hidden
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          if (file) void engine.addOnnxModel(file);
          e.currentTarget.value = '';
        }}
      />
      <details className="saved-models" ref={menu}>
        <summary className="btn" title="Add a YOLACT or YOLO-seg ONNX export, or manage the saved ones">
          Models{saved.length > 0 ? ` (${saved.length})` : ''} ▾
        </summary>
        <div className="menu">
          <button
            className="btn"
            title="Add a YOLACT or YOLO-seg ONNX export (also by dropping it on the page)"
            onClick={() => {
              if (menu.current) menu.current.open = false;
              input.current?.click();
            }}
          >
            + Add model (.onnx)
          </button>
          <div className="menu-title">Saved models ({saved.length})</div>
          <ul data-testid="saved-models">
            {saved.length === 0 && <li className="muted">Dropped models are kept here across visits.</li>}
            {saved.map((m) => (
              <li key={m.id} data-testid="saved-model-row" data-model-id={m.id}>
                <span className="saved-name" title={m.id}>
                  {m.name}
                </span>
                <span className="muted">
                  {m.family} · {m.classes} classes · {bytesText(m.bytes)}
                </span>
                {confirming === m.id ? (
                  <DeleteConfirm
                    modelId={m.id}
                    onDone={(doIt) => {
                      setConfirming(null);
                      if (doIt) void engine.deleteSavedModel(m.id);
                    }}
                  />
                ) : (
                  <button className="btn danger small" data-testid="delete-saved-model" aria-label={`Delete ${m.name}`} onClick={() => setConfirming(m.id)}>
                    Delete
                  </button>
                )}
              </li>
            ))}
          </ul>
        </div>
      </details>
    </div>
  );
}

/** The inline question of a delete: what it does to the panes, then Delete or Cancel (Escape). */
function DeleteConfirm({ modelId, onDone }: { modelId: string; onDone: (doIt: boolean) => void }) {
  const { panes, fallbackName } = engine.deleteImpact(modelId);
  const uses =
    panes.length === 0
      ? 'No pane uses it.'
      : `${panes.length === 1 ? `Pane ${panes[0]} uses it` : `Panes ${panes.join(', ')} use it`}: ${panes.length === 1 ? 'it' : 'they'} will switch to ${fallbackName}.`;
  return (
    <div
      className="delete-confirm"
      role="group"
      aria-label="Confirm delete"
      data-testid="delete-confirm"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onDone(false);
      }}
    >
      <span>Delete? {uses}</span>
      <button className="btn danger small" data-testid="delete-confirm-yes" onClick={() => onDone(true)}>
        Delete
      </button>
      <button className="btn small" data-testid="delete-confirm-cancel" autoFocus onClick={() => onDone(false)}>
        Cancel
      </button>
    </div>
  );
}
