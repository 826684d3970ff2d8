import { beforeEach, describe, expect, it } from 'vitest';
import { dismissNotice, newPaneKey, notify, snapshot, updatePane, useStore, type PaneState } from './store';

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
  beforeEach(() => useStore.setState({ panes: [], notices: [] }));

  it('notices: the same text is shown once, the newest last; dismiss removes one', () => {
    notify('info', 'a');
    const b = notify('error', 'b');
    notify('info', 'a');
    expect(useStore.getState().notices.map((n) => n.text)).toEqual(['b', 'a']);
    dismissNotice(b);
    expect(useStore.getState().notices.map((n) => n.text)).toEqual(['a']);
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
    const round = JSON.parse(JSON.stringify(snap));
    expect(round).toEqual(snap);
    expect(snap.panes[0]!.index).toBe(0);
    expect(snap.panes[0]!.result!.detections[0]!.classIndex).toBe(3);
    expect(JSON.stringify(snap)).not.toContain('"overlay"');
  });
});
