import { useEffect, useRef, useState } from 'react';
import { dismissNotice, holdNoticeFading, useStore } from '../state/store';
import { useRenderCount } from '../state/renderCounts';

/** Notices shown while collapsed (the newest); the rest wait behind "+N more" so the panes stay on the first screen. */
const MAX_SHOWN = 3;

/**
 * The notices between the source bar and the panes, newest last. The list has a bounded
 * height (styles.css) and scrolls to the newest; infos fade (store: INFO_FADE_MS) except
 * while the pointer is over the notices or keyboard focus is in them.
 */
export function Notices() {
  useRenderCount('Notices');
  const notices = useStore((s) => s.notices);
  // Expanded only while there is more than fits: a list that shrank back collapses by itself.
  const [expandAsked, setExpanded] = useState(false);
  /** Where the list has more out of view: that edge fades (styles.css), to say so. */
  const [clipped, setClipped] = useState('');
  const box = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const hovered = useRef(false);

  // Keyboard focus is read from the document, not tracked by events: a dismissed notice takes its
  // focused button away without a blur. A mouse click's focus does not hold (no :focus-visible).
  const updateHold = () => {
    if (!box.current) hovered.current = false;
    holdNoticeFading(hovered.current || !!box.current?.querySelector(':focus-visible'));
  };

  const updateClipped = () => {
    const el = list.current;
    if (!el) return;
    const above = el.scrollTop > 0;
    const below = el.scrollTop + el.clientHeight < el.scrollHeight - 1;
    setClipped(`${above ? ' more-above' : ''}${below ? ' more-below' : ''}`);
  };
  const scrollList = (to: 'oldest' | 'newest') => {
    list.current?.scrollTo({ top: to === 'oldest' ? 0 : list.current.scrollHeight });
    updateClipped();
  };

  const overflow = notices.length > MAX_SHOWN;
  const expanded = expandAsked && overflow;
  // The list fits again: the next overflow starts collapsed (state adjusted while rendering, as React advises for a reset).
  if (!overflow && expandAsked) setExpanded(false);
  // A new notice: the newest is in view.
  useEffect(() => {
    updateHold();
    scrollList('newest');
  }, [notices, overflow]);
  // Expanded, the list starts at the notices that were hidden (the oldest).
  useEffect(() => scrollList(expanded ? 'oldest' : 'newest'), [expanded]);
  useEffect(() => () => holdNoticeFading(false), []);

  if (notices.length === 0) return null;
  const hidden = expanded ? 0 : Math.max(0, notices.length - MAX_SHOWN);
  return (
    <div
      ref={box}
      className="notices"
      onMouseEnter={() => {
        hovered.current = true;
        updateHold();
      }}
      onMouseLeave={() => {
        hovered.current = false;
        updateHold();
      }}
      onFocus={updateHold}
      // After the blur, activeElement is the next focused element (or body).
      onBlur={() => setTimeout(updateHold)}
    >
      {overflow && (
        <button className="notices-more" aria-expanded={expanded} onClick={() => setExpanded(!expanded)}>
          {expanded ? 'Show fewer' : `+${hidden} more ${hidden === 1 ? 'notice' : 'notices'}`}
        </button>
      )}
      <div ref={list} className={`notices-list${clipped}`} onScroll={updateClipped}>
        {notices.slice(hidden).map((n) => (
          // Keyed by the count too: a repeat is a new element, so screen readers announce it again.
          <div
            key={`${n.id}:${n.count}`}
            className={`notice notice-${n.kind}`}
            role={n.kind === 'error' ? 'alert' : 'status'}
            data-testid="notice"
            data-kind={n.kind}
          >
            <span className="notice-text">{n.text}</span>
            {n.count > 1 && (
              <span className="notice-count" title={`shown ${n.count} times`}>
                ×{n.count}
              </span>
            )}
            <button className="notice-close" aria-label="Dismiss" onClick={() => dismissNotice(n.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </div>
  );
}
