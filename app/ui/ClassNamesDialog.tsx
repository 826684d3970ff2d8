/**
 * Asks for the class names of a dropped model whose file does not carry them (no
 * Ultralytics `names` metadata): paste a list (one per line, or comma separated), or load
 * a .txt / .yaml with `names`; skipping gives "class 0", "class 1", …
 */
import { useEffect, useRef, useState } from 'react';
import { engine } from '../pipeline/engine';
import { useStore } from '../state/store';

/** What Tab may reach inside the dialog (the hidden file input is out of the tab order). */
const TABBABLE = 'textarea, button:not([disabled]), input:not([tabindex="-1"]), select, [tabindex="0"]';

export function ClassNamesDialog() {
  const request = useStore((s) => s.classNamesRequest);
  // The text typed for the model the dialog asks about: a new request starts empty.
  const [draft, setDraft] = useState<{ modelId: string | undefined; text: string }>({ modelId: undefined, text: '' });
  const file = useRef<HTMLInputElement>(null);
  const dialog = useRef<HTMLDivElement>(null);
  const field = useRef<HTMLTextAreaElement>(null);
  const modelId = request?.modelId;
  const text = draft.modelId === modelId ? draft.text : '';
  const setText = (next: string) => setDraft({ modelId, text: next });

  // A modal dialog: focus on its field while open, Tab kept inside, Escape skips (as the
  // Skip button does), and focus goes back to where it was when the dialog closes.
  useEffect(() => {
    if (!modelId) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    field.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      const box = dialog.current;
      if (!box) return;
      if (e.key === 'Escape') {
        e.preventDefault();
        void engine.answerClassNames(null);
      } else if (e.key === 'Tab') {
        const stops = [...box.querySelectorAll<HTMLElement>(TABBABLE)];
        const first = stops[0];
        const last = stops[stops.length - 1];
        if (!first || !last) return;
        const inside = box.contains(document.activeElement);
        if (!inside || (e.shiftKey && document.activeElement === first) || (!e.shiftKey && document.activeElement === last)) {
          e.preventDefault();
          (e.shiftKey ? last : first).focus();
        }
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      if (before?.isConnected) before.focus();
    };
  }, [modelId]);

  if (!request) return null;
  return (
    <div className="dialog-backdrop">
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby="class-names-title" data-testid="class-names-dialog" ref={dialog}>
        <h2 id="class-names-title">Class names for {request.modelName}</h2>
        <p className="muted">
          The file does not name its classes{request.count !== null ? ` (it has ${request.count})` : ''}. Paste them, one a line or comma separated, or load a
          .txt or a .yaml with <code>names</code>.
        </p>
        <textarea
          ref={field}
          aria-label="Class names"
          data-testid="class-names-text"
          rows={8}
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
          placeholder={'person\nbicycle\ncar'}
        />
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
            tabIndex={-1}
            aria-hidden
            onChange={(e) => {
              const f = e.currentTarget.files?.[0];
              if (f) void f.text().then(setText);
              e.currentTarget.value = '';
            }}
          />
          <span className="grow" />
          <button
            className="btn"
            data-testid="class-names-skip"
            title="Skip (Esc): the classes are named class 0, class 1, …"
            onClick={() => void engine.answerClassNames(null)}
          >
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
