import { dismissNotice, useStore } from '../state/store';

export function Notices() {
  const notices = useStore((s) => s.notices);
  if (notices.length === 0) return null;
  return (
    <div className="notices">
      {notices.map((n) => (
        <div key={n.id} className={`notice notice-${n.kind}`} role="alert" data-testid="notice" data-kind={n.kind}>
          <span className="notice-text">{n.text}</span>
          <button className="notice-close" aria-label="Dismiss" onClick={() => dismissNotice(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
