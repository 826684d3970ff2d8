/**
 * Models the user brings, as one compact "Models" menu in the top bar: an "Add model"
 * button (a file input for .onnx files; dropping one anywhere on the page does the same)
 * and the list of dropped models saved in IndexedDB, each with a delete button.
 * The file input stays outside the menu so that it exists while the menu is closed.
 */
import { useRef } from 'react';
import { engine } from '../pipeline/engine';
import { useStore } from '../state/store';
import { bytesText } from './format';

export function ModelLibrary() {
  const input = useRef<HTMLInputElement>(null);
  const menu = useRef<HTMLDetailsElement>(null);
  const saved = useStore((s) => s.savedModels);
  return (
    <div className="model-library">
      <input
        ref={input}
        type="file"
        accept=".onnx"
        data-testid="model-drop-input"
        className="visually-hidden"
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
                <button className="btn danger small" data-testid="delete-saved-model" aria-label={`Delete ${m.name}`} onClick={() => void engine.deleteSavedModel(m.id)}>
                  Delete
                </button>
              </li>
            ))}
          </ul>
        </div>
      </details>
    </div>
  );
}
