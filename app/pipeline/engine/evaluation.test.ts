/**
 * The evaluation without a DOM: fake sources (an image "opened" is a frame every pane
 * finishes at once), fake runners' masks, fake COCO sessions that count what they get.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { FrameResult, InstanceMasks, PostprocessSettings } from '../../types';
import type { CocoDataset } from '../../eval/dataset';
import type { EvalSessionResult } from '../../eval/session';
import type { EvalSource } from '../../eval/evalSource';
import type { PaneState } from '../../state/store';
import { catalog, FakeRunner, manifest, resetStore, result } from '../../../test/engine/fakes';
import { appStore } from './ports';
import { Evaluation, type EvalSessionLike } from './evaluation';
import type { PausedSource } from './frames';

const own: PostprocessSettings = { scoreThreshold: 0.4, topK: 100, nmsIou: 0.5, nmsKind: 'fast', maxDetections: 50 };

class CountingSession implements EvalSessionLike {
  readonly added: number[] = [];
  get imagesDone(): number {
    return this.added.length;
  }
  get imageIds(): ReadonlySet<number> {
    return new Set(this.added);
  }
  addFrame(imageId: number, _frame: FrameResult, _masks: InstanceMasks): void {
    this.added.push(imageId);
  }
  evaluate(): EvalSessionResult {
    const summary = { ap: 0.5, ap50: 0.7, ap75: 0.4 };
    return { imagesEvaluated: this.added.length, mask: { summary }, box: { summary }, boundary: { summary } } as unknown as EvalSessionResult;
  }
}

function rig(imageCount: number) {
  const m = manifest('m1');
  const models = catalog(m);
  appStore.setState({
    panes: [
      {
        key: 1,
        modelId: 'm1',
        path: 'wasm',
        activePath: 'wasm',
        settings: own,
        status: 'done',
        result: null,
        resultFrameId: 0,
        evaluation: null,
      } as unknown as PaneState,
    ],
  });
  const runner = new FakeRunner('wasm', m);
  runner.masks = { count: 0 } as unknown as InstanceMasks;
  const sessions: CountingSession[] = [];
  const opened: string[] = [];
  let onOpen: ((name: string) => void) | null = null;
  const putBack = vi.fn<(paused: PausedSource) => void>();
  const setSettings = vi.fn<(key: number, settings: PostprocessSettings) => void>();
  const evaluation = new Evaluation({
    store: appStore,
    models,
    frames: {
      openImage: (_blob, name) => {
        opened.push(name);
        onOpen?.(name);
        // The new frame, and every pane's result on it.
        const frameId = appStore.getState().frameId + 1;
        appStore.setState({ frameId });
        appStore.updatePane(1, { status: 'done', result: result(), resultFrameId: frameId });
        return Promise.resolve();
      },
      setAside: () => Promise.resolve({ kind: 'none' }),
      putBack,
    },
    panes: { runnerOf: () => runner, resume: () => {}, setSettings },
    samplesSource: () => Promise.resolve(source),
    droppedSource: () => Promise.reject(new Error('unused')),
    newSession: () => {
      const s = new CountingSession();
      sessions.push(s);
      return s;
    },
    evaluationSettings: (s) => ({ ...s, scoreThreshold: 0.05 }),
    onDatasetIds: () => {},
  });
  const dataset = { images: [], categories: [], gts: [], imageIdByFileName: new Map() } as unknown as CocoDataset;
  const source: EvalSource = {
    name: 'samples',
    dataset,
    images: Array.from({ length: imageCount }, (_, i) => ({ id: i + 1, fileName: `${i + 1}.jpg`, load: () => Promise.resolve(new Blob()) })),
    missing: [],
  };
  return { evaluation, sessions, opened, putBack, setSettings, whenOpened: (fn: (name: string) => void) => (onOpen = fn) };
}

beforeEach(() => resetStore());

describe('Evaluation', () => {
  it('runs every image through the panes at the evaluation threshold, scores them, then gives the settings back', async () => {
    const r = rig(3);
    const thresholds: number[] = [];
    r.whenOpened(() => thresholds.push(appStore.getPane(1)!.settings.scoreThreshold));
    await r.evaluation.evaluateSamples();
    expect(r.opened).toEqual(['1.jpg', '2.jpg', '3.jpg']);
    expect(thresholds).toEqual([0.05, 0.05, 0.05]);
    expect(r.sessions[0]!.added).toEqual([1, 2, 3]);
    expect(appStore.getPane(1)!.evaluation).toMatchObject({ source: 'samples', images: 3, of: 3, maskAP: 0.5, boxAP: 0.5 });
    expect(appStore.getState().evalRun).toBeNull();
    expect(r.setSettings).toHaveBeenCalledWith(1, own);
    expect(r.putBack).toHaveBeenCalledWith({ kind: 'none' });
  });

  it('stops after the current image when asked; the images done are scored', async () => {
    const r = rig(3);
    r.whenOpened((name) => {
      expect(appStore.getState().evalRun).toMatchObject({ source: 'samples', total: 3 });
      if (name === '1.jpg') r.evaluation.stop();
    });
    await r.evaluation.evaluateSamples();
    expect(r.opened).toEqual(['1.jpg']);
    expect(r.sessions[0]!.added).toEqual([1]); // the current image still counts
    expect(appStore.getPane(1)!.evaluation).toMatchObject({ images: 1, of: 3 });
    expect(appStore.getState().evalRun).toBeNull();
    expect(r.setSettings).toHaveBeenCalledWith(1, own);
  });

  it('a stop asked with no evaluation running does not stop the next one', async () => {
    const r = rig(2);
    r.evaluation.stop();
    await r.evaluation.evaluateSamples();
    expect(r.opened).toEqual(['1.jpg', '2.jpg']);
  });
});
