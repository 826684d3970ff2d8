/**
 * A number field of a pane's settings that tells when a typed value is out of range:
 * aria-invalid and the valid range beside it, while the last valid value stays in effect.
 * Leaving the field shows the value in effect again.
 */
import { useId, useState } from 'react';

interface Props {
  label: string;
  /** Tooltip of the whole control (what the setting does). */
  title?: string;
  testId: string;
  /** The value in effect (from the store). */
  value: number;
  min: number;
  max: number;
  step: number;
  /** Whole numbers only: a typed 2.5 is taken as 3. */
  integer?: boolean;
  onValid: (value: number) => void;
}

export function NumberSetting({ label, title, testId, value, min, max, step, integer = false, onValid }: Props) {
  // What the user typed while the field is being edited; null shows the value in effect.
  const [draft, setDraft] = useState<string | null>(null);
  const id = useId();
  const typed = draft === null || draft.trim() === '' ? null : Number(draft);
  // Only a complete number out of range is flagged: an empty field (mid-edit) is not.
  const outOfRange = typed !== null && (!Number.isFinite(typed) || typed < min || typed > max);
  return (
    <label className="ctl" title={title}>
      <span id={`${id}-label`}>{label}</span>
      <input
        type="number"
        data-testid={testId}
        min={min}
        max={max}
        step={step}
        value={draft ?? String(value)}
        aria-labelledby={`${id}-label`}
        aria-invalid={outOfRange}
        aria-describedby={`${id}-range`}
        onChange={(e) => {
          const raw = e.currentTarget.value;
          setDraft(raw);
          const v = raw.trim() === '' ? NaN : Number(raw);
          if (Number.isFinite(v) && v >= min && v <= max) {
            const next = integer ? Math.round(v) : v;
            if (next !== value) onValid(next);
          }
        }}
        onBlur={() => setDraft(null)}
      />
      {/* Always present, so that screen readers announce the range when it appears. */}
      <span className={`ctl-range${outOfRange ? ' shown' : ''}`} id={`${id}-range`} aria-live="polite" data-testid={`${testId}-range`}>
        {outOfRange ? `must be ${min}–${max} (${value} in use)` : ''}
      </span>
    </label>
  );
}
