import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dismissNotice, holdNoticeFading, INFO_FADE_MS, newPaneKey, NOTICE_LOG_LENGTH, notify, snapshot, updatePane, useStore, type PaneState } from './store';
import { recordDraw } from './drawTimes';
import { countStoreWrites, renderCounts, resetRenderCounts } from './renderCounts';
import type { FrameResult } from '../types';

function pane(key: number): PaneState {
  return {
    key,
    modelId: 'm',
    path: 'wasm',
    activePath: null,
    pathNote: '',
    settings: { scoreThreshold: 0.15, topK: 200, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 100 },
    status: 'idle',
    message: '',
    result: null,
    resultFrameId: 0,
    overlay: null,
    overlayOnCanvas: false,
    hiddenClasses: [],
    highlight: null,
    fps: 0,
    frames: 0,
    evaluation: null,
  };
}

describe('store', () => {
  beforeEach(() => {
    // Dismissed one by one, so that no fading is left over from the last test.
    for (const n of useStore.getState().notices) dismissNotice(n.id);
    useStore.setState({ panes: [], notices: [], noticeLog: [] });
  });

  it('notices: the same text is shown once, the newest last; dismiss removes one', () => {
    notify('info', 'a');
    const b = notify('error', 'b');
    notify('info', 'a');
    expect(useStore.getState().notices.map((n) => n.text)).toEqual(['b', 'a']);
    dismissNotice(b);
    expect(useStore.getState().notices.map((n) => n.text)).toEqual(['a']);
  });

  describe('notices', () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => {
      holdNoticeFading(false);
      vi.useRealTimers();
    });
    const shown = () => useStore.getState().notices.map((n) => `${n.kind}:${n.text}×${n.count}`);

    it('repeats (same kind and text) collapse into one with a count, moved to the end; same text of another kind stays apart', () => {
      const first = notify('error', 'bad file');
      notify('error', 'other');
      expect(notify('error', 'bad file')).toBe(first);
      notify('error', 'bad file');
      notify('info', 'bad file');
      expect(shown()).toEqual(['error:other×1', 'error:bad file×3', 'info:bad file×1']);
      expect(snapshot().notices).toEqual([
        { kind: 'error', text: 'other', count: 1 },
        { kind: 'error', text: 'bad file', count: 3 },
        { kind: 'info', text: 'bad file', count: 1 },
      ]);
    });

    it('infos fade after INFO_FADE_MS, errors stay until dismissed; a repeat restarts the fade', () => {
      const error = notify('error', 'broken');
      notify('info', 'hello');
      vi.advanceTimersByTime(INFO_FADE_MS - 1000);
      notify('info', 'hello');
      vi.advanceTimersByTime(INFO_FADE_MS - 1);
      expect(shown()).toEqual(['error:broken×1', 'info:hello×2']);
      vi.advanceTimersByTime(1);
      expect(shown()).toEqual(['error:broken×1']);
      vi.advanceTimersByTime(10 * INFO_FADE_MS);
      expect(shown()).toEqual(['error:broken×1']);
      dismissNotice(error);
      expect(shown()).toEqual([]);
    });

    it('held (pointer or focus on the notices), infos do not fade; released, they get INFO_FADE_MS again', () => {
      notify('info', 'before');
      holdNoticeFading(true);
      notify('info', 'during');
      vi.advanceTimersByTime(3 * INFO_FADE_MS);
      expect(shown()).toEqual(['info:before×1', 'info:during×1']);
      holdNoticeFading(false);
      vi.advanceTimersByTime(INFO_FADE_MS - 1);
      expect(shown()).toHaveLength(2);
      vi.advanceTimersByTime(1);
      expect(shown()).toEqual([]);
    });

    it('a notice with a topic replaces the shown one of that topic (device lost → recovered → lost again)', () => {
      notify('error', 'unrelated');
      notify('error', 'device lost', { topic: 'gpu' });
      notify('info', 'device recovered', { topic: 'gpu' });
      expect(shown()).toEqual(['error:unrelated×1', 'info:device recovered×1']);
      notify('error', 'device lost', { topic: 'gpu' });
      expect(shown()).toEqual(['error:unrelated×1', 'error:device lost×1']);
      // The replaced info's fade is cancelled: it does not take the new notice with it.
      vi.advanceTimersByTime(2 * INFO_FADE_MS);
      expect(shown()).toEqual(['error:unrelated×1', 'error:device lost×1']);
      // Without a topic nothing is replaced.
      notify('info', 'device recovered');
      expect(shown()).toHaveLength(3);
    });

    it('noticeLog keeps what faded, was dismissed or replaced, with counts, bounded to NOTICE_LOG_LENGTH', () => {
      const e = notify('error', 'lost', { topic: 'gpu' });
      notify('info', 'recovered', { topic: 'gpu' });
      notify('info', 'recovered', { topic: 'gpu' });
      dismissNotice(e);
      vi.advanceTimersByTime(INFO_FADE_MS);
      expect(shown()).toEqual([]);
      expect(snapshot().noticeLog).toEqual([
        { kind: 'error', text: 'lost', count: 1 },
        { kind: 'info', text: 'recovered', count: 2 },
      ]);
      for (let i = 0; i < NOTICE_LOG_LENGTH + 5; i++) notify('error', `e${i}`);
      const log = snapshot().noticeLog;
      expect(log).toHaveLength(NOTICE_LOG_LENGTH);
      expect(log.at(-1)!.text).toBe(`e${NOTICE_LOG_LENGTH + 4}`);
      expect(log[0]!.text).toBe('e5');
    });

    it('the notices kept are bounded (oldest dropped), however many errors come', () => {
      for (let i = 0; i < 200; i++) notify('error', `e${i}`);
      const n = useStore.getState().notices;
      expect(n.length).toBeLessThan(200);
      expect(n.at(-1)!.text).toBe('e199');
    });
  });

  it('updatePane changes only the pane with that key', () => {
    const k1 = newPaneKey();
    const k2 = newPaneKey();
    useStore.setState({ panes: [pane(k1), pane(k2)] });
    updatePane(k2, (p) => ({ frames: p.frames + 3, status: 'done' }));
    const [p1, p2] = useStore.getState().panes;
    expect([p1!.frames, p1!.status]).toEqual([0, 'idle']);
    expect([p2!.frames, p2!.status]).toEqual([3, 'done']);
  });

  it('updatePane with a patch that changes nothing is no write (no subscriber woken, the pane kept)', () => {
    const k = newPaneKey();
    useStore.setState({ panes: [{ ...pane(k), status: 'running' }] });
    const before = useStore.getState().panes;
    const listener = vi.fn();
    const unsubscribe = useStore.subscribe(listener);
    updatePane(k, { status: 'running', message: '' });
    updatePane(k, (p) => ({ frames: p.frames }));
    updatePane(k + 1000, { status: 'done' });
    expect(listener).not.toHaveBeenCalled();
    expect(useStore.getState().panes).toBe(before);
    updatePane(k, { status: 'done', message: '' });
    expect(listener).toHaveBeenCalledTimes(1);
    expect(useStore.getState().panes[0]!.status).toBe('done');
    unsubscribe();
  });

  it('counts store writes, and per pane the writes that replaced that pane', () => {
    countStoreWrites(useStore);
    const [k1, k2] = [newPaneKey(), newPaneKey()];
    useStore.setState({ panes: [pane(k1), pane(k2)] });
    resetRenderCounts();
    updatePane(k1, { frames: 1 });
    updatePane(k1, { frames: 2 });
    updatePane(k2, { frames: 1 });
    updatePane(k2, { frames: 1 }); // no change: no write
    useStore.setState({ frameId: 7 });
    expect(renderCounts()).toEqual({ renders: {}, writes: 4, paneWrites: { [k1]: 2, [k2]: 1 } });
  });

  it('snapshot gives a result its draw time, recorded beside it without a store write', () => {
    const k = newPaneKey();
    const result: FrameResult = {
      imageWidth: 4,
      imageHeight: 2,
      detections: [],
      maskWidth: 4,
      maskHeight: 2,
      timings: { inference: 1, source: 'cpu' },
      bytesReadBack: 0,
      path: 'wasm',
    };
    useStore.setState({ panes: [{ ...pane(k), result }] });
    expect(snapshot().panes[0]!.result!.timings.draw).toBeUndefined();
    const listener = vi.fn();
    const unsubscribe = useStore.subscribe(listener);
    recordDraw(k, result, 2.5);
    expect(listener).not.toHaveBeenCalled();
    expect(snapshot().panes[0]!.result!.timings).toEqual({ inference: 1, draw: 2.5, source: 'cpu' });
    // The stored result itself is left as the engine wrote it.
    expect(result.timings.draw).toBeUndefined();
    unsubscribe();
  });

  it('snapshot is JSON-serialisable, indexes panes and leaves bitmaps out', () => {
    const k = newPaneKey();
    const overlay = { close() {} } as unknown as ImageBitmap;
    useStore.setState({
      panes: [
        {
          ...pane(k),
          overlay,
          result: {
            imageWidth: 4,
            imageHeight: 2,
            detections: [{ box: [0, 0, 2, 1], score: 0.5, classIndex: 3, maskArea: 2 }],
            maskWidth: 4,
            maskHeight: 2,
            timings: { inference: 1, source: 'cpu' },
            bytesReadBack: 0,
            path: 'wasm',
          },
        },
      ],
    });
    const snap = snapshot();
    const round = JSON.parse(JSON.stringify(snap)) as unknown;
    expect(round).toEqual(snap);
    expect(snap.panes[0]!.index).toBe(0);
    expect(snap.panes[0]!.result!.detections[0]!.classIndex).toBe(3);
    expect(JSON.stringify(snap)).not.toContain('"overlay"');
  });
});
