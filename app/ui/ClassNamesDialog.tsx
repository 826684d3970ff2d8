/**
 * Asks for the class names of a dropped model whose file does not carry them (no
 * Ultralytics `names` metadata): paste a list (one per line, or comma separated), or load
 * a .txt / .yaml with `names`; skipping gives "class 0", "class 1", …
 */
import { useEffect, useRef, useState } from 'react';
import { engine } from '../pipeline/engine';
import { useStore } from '../state/store';

export function ClassNamesDialog() {
  const request = useStore((s) => s.classNamesRequest);
  const [text, setText] = useState('');
  const file = useRef<HTMLInputElement>(null);
  const modelId = request?.modelId;
  useEffect(() => setText(''), [modelId]);
  if (!request) return null;
  return (
    <div className="dialog-backdrop">
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby="class-names-title" data-testid="class-names-dialog">
        <h2 id="class-names-title">Class names for {request.modelName}</h2>
        <p className="muted">
          The file does not name its classes{request.count !== null ? ` (it has ${request.count})` : ''}. Paste them, one a line or comma separated, or load a
          .txt or a .yaml with <code>names</code>.
        </p>
        <textarea data-testid="class-names-text" rows={8} value={text} onChange={(e) => setText(e.currentTarget.value)} placeholder={'person\nbicycle\ncar'} />
        {request.error && (
          <p className="dialog-error" role="alert" data-testid="class-names-error">
            {request.error}
          </p>
        )}
        <div className="dialog-actions">
          <button className="btn" onClick={() => file.current?.click()}>
            Load .txt / .yaml
          </button>
          <input
            ref={file}
            type="file"
            accept=".txt,.yaml,.yml,text/plain"
            className="visually-hidden"
            data-testid="class-names-file"
            onChange={(e) => {
              const f = e.currentTarget.files?.[0];
              if (f) void f.text().then(setText);
              e.currentTarget.value = '';
            }}
          />
          <span className="grow" />
          <button className="btn" data-testid="class-names-skip" onClick={() => void engine.answerClassNames(null)}>
            Skip (class 0…)
          </button>
          <button className="btn primary" data-testid="class-names-ok" onClick={() => void engine.answerClassNames(text)}>
            OK
          </button>
        </div>
      </div>
    </div>
  );
}
