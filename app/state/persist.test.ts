import { afterEach, describe, expect, it, vi } from 'vitest';
import { LAYOUT_KEY, layoutOf, layoutSaver, loadLayout, restorePlan, urlGivesLayout, type SavedPane } from './persist';

/** A Storage stand-in: a map, with an optional failure on write (quota). */
function fakeStorage(failWrites = false) {
  const map = new Map<string, string>();
  const writes: string[] = [];
  return {
    map,
    writes,
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => {
      if (failWrites) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      writes.push(v);
      map.set(k, v);
    },
  };
}

const pane = (patch: Partial<SavedPane> = {}): SavedPane => ({
  modelId: 'yolact-384',
  path: 'wasm+gpu',
  settings: { scoreThreshold: 0.3, topK: 200, nmsIou: 0.5, nmsKind: 'greedy', maxDetections: 100 },
  hiddenClasses: [2],
  ...patch,
});

afterEach(() => vi.useRealTimers());

describe('layout persistence', () => {
  it('writes once, after the changes settle, and reads back what was written', () => {
    vi.useFakeTimers();
    const storage = fakeStorage();
    const saver = layoutSaver(storage, () => undefined, 400);
    saver.update(layoutOf([pane()]));
    saver.update(layoutOf([pane(), pane({ modelId: 'my-model', path: 'wasm', hiddenClasses: [] })]));
    expect(storage.writes).toHaveLength(0);
    vi.advanceTimersByTime(399);
    expect(storage.writes).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(storage.writes).toHaveLength(1);
    const { layout, problem } = loadLayout(storage);
    expect(problem).toBeUndefined();
    expect(layout!.panes.map((p) => [p.modelId, p.path, p.settings.nmsKind, p.hiddenClasses])).toEqual([
      ['yolact-384', 'wasm+gpu', 'greedy', [2]],
      ['my-model', 'wasm', 'greedy', []],
    ]);
    // The same layout again writes nothing; flush writes a pending change at once.
    saver.update(layoutOf(layout!.panes));
    vi.advanceTimersByTime(1000);
    expect(storage.writes).toHaveLength(1);
    // The same layout over and over (a pane's results coming in) does not put the write off.
    saver.update(layoutOf([pane({ path: 'wasm' })]));
    for (let t = 0; t < 10; t++) {
      vi.advanceTimersByTime(100);
      saver.update(layoutOf([pane({ path: 'wasm' })]));
    }
    expect(storage.writes).toHaveLength(2);
    saver.update(layoutOf([pane({ path: 'webgpu' })]));
    saver.flush();
    expect(storage.writes).toHaveLength(3);
    expect(loadLayout(storage).layout!.panes.map((p) => p.path)).toEqual(['webgpu']);
  });

  it('reports a refused write once, and keeps working', () => {
    vi.useFakeTimers();
    const errors: string[] = [];
    const saver = layoutSaver(fakeStorage(true), (m) => errors.push(m), 10);
    saver.update(layoutOf([pane()]));
    vi.advanceTimersByTime(10);
    saver.update(layoutOf([pane({ path: 'wasm' })]));
    vi.advanceTimersByTime(10);
    expect(errors).toEqual(['The pane layout could not be saved for the next visit (The quota has been exceeded.).']);
  });

  it('nothing saved: no layout and no problem; a broken value: no layout and why', () => {
    const storage = fakeStorage();
    expect(loadLayout(storage)).toEqual({ layout: null });
    expect(loadLayout(null)).toEqual({ layout: null });
    const bad = (value: string) => {
      storage.map.set(LAYOUT_KEY, value);
      return loadLayout(storage);
    };
    expect(bad('{not json')).toEqual({ layout: null, problem: 'it is not valid JSON' });
    expect(bad(JSON.stringify({ version: 99, panes: [pane()] }))).toEqual({ layout: null, problem: 'it was written by another version of SegArena' });
    expect(bad(JSON.stringify({ version: 1, panes: [] })).problem).toBe('a pane in it is malformed');
    expect(bad(JSON.stringify({ version: 1, panes: [pane({ path: 'cuda' as never })] })).problem).toBe('a pane in it is malformed');
    expect(bad(JSON.stringify({ version: 1, panes: [{ ...pane(), settings: { ...pane().settings, scoreThreshold: 7 } }] })).problem).toBe(
      'a pane in it is malformed',
    );
    expect(bad(JSON.stringify({ version: 1, panes: [pane({ hiddenClasses: [-1] })] })).problem).toBe('a pane in it is malformed');
    // More panes than the app opens: the first six.
    expect(bad(JSON.stringify(layoutOf(Array.from({ length: 9 }, () => pane())))).layout!.panes).toHaveLength(6);
    const throwing = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => undefined,
    };
    expect(loadLayout(throwing)).toEqual({ layout: null, problem: 'it could not be read (denied)' });
  });

  it('a model that is gone falls back to the default with a note naming the pane; hidden classes are kept within the model', () => {
    const classes: Record<string, number> = { 'yolact-384': 3, 'yolact-550': 80 };
    const plan = restorePlan(layoutOf([pane({ hiddenClasses: [1, 5] }), pane({ modelId: 'deleted-model' })]), {
      classCount: (id) => classes[id],
      fallbackId: 'yolact-550',
      modelName: (id) => (id === 'yolact-550' ? 'YOLACT-550' : id),
    });
    expect(plan.panes.map((p) => [p.modelId, p.settings === null, p.hiddenClasses])).toEqual([
      ['yolact-384', false, [1]],
      ['yolact-550', true, []],
    ]);
    expect(plan.notes).toEqual(["pane 2's model “deleted-model” is no longer available: it runs YOLACT-550"]);
  });

  it('the URL describes a layout when it names a model, a pane count, a path or a manifest', () => {
    expect(urlGivesLayout(new URLSearchParams(''))).toBe(false);
    expect(urlGivesLayout(new URLSearchParams('overlay=readback'))).toBe(false);
    for (const q of ['model=x', 'panes=2', 'path=wasm', 'manifest=/m.json']) expect(urlGivesLayout(new URLSearchParams(q)), q).toBe(true);
  });

  it('keeps how a pane draws (mask opacity, boxes, labels) and refuses nonsense there', () => {
    const storage = fakeStorage();
    const saved = layoutOf([pane({ maskOpacity: 0.4, hideBoxes: true, hideLabels: false }), pane()]);
    expect(saved.panes[1]).not.toHaveProperty('maskOpacity');
    storage.setItem(LAYOUT_KEY, JSON.stringify(saved));
    expect(loadLayout(storage).layout!.panes[0]).toMatchObject({ maskOpacity: 0.4, hideBoxes: true, hideLabels: false });
    storage.setItem(LAYOUT_KEY, JSON.stringify({ ...saved, panes: [{ ...saved.panes[0], maskOpacity: 7 }] }));
    expect(loadLayout(storage).layout).toBeNull();
  });
});
