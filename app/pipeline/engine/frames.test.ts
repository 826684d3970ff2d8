/**
 * The sources without a DOM: a fake camera the test presents frames on, a capture that
 * hands out countable bitmaps, the panes as a recorder the test makes full (no pane can take
 * a frame) or not.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DecodedImage } from '../sources';
import { resetStore, settle } from '../../../test/engine/fakes';
import { appStore } from './ports';
import { FrameSources, type VideoLike } from './frames';

function bitmap(name: string): ImageBitmap & { closed: boolean; name: string } {
  const b = { name, closed: false, close: () => void (b.closed = true) };
  return b as unknown as ImageBitmap & { closed: boolean; name: string };
}

function rig() {
  let busy = false;
  const panes = {
    canTakeFrame: () => !busy,
    isBusy: () => busy,
    framesInFlight: () => new Set<ImageBitmap | undefined>(),
    resumeAll: vi.fn(),
    pumpAll: vi.fn(),
  };
  let present: ((video: HTMLVideoElement) => void) | null = null;
  const captures: ReturnType<typeof bitmap>[] = [];
  const sources = new FrameSources({
    store: appStore,
    panes,
    decodeImage: (_blob, name) => Promise.resolve({ bitmap: bitmap(name), width: 10, height: 8, notes: [], downscaledFrom: null } as unknown as DecodedImage),
    samples: { firstFileName: () => Promise.resolve(undefined), fetch: () => Promise.resolve(new Blob()), warmIds: () => {} },
    openWebcam: (onFrame) => {
      present = onFrame;
      return { start: () => Promise.resolve(), stop: () => {}, deviceId: () => 'cam' };
    },
    openVideo: () => ({}) as VideoLike,
    listCameras: () => Promise.resolve([]),
    capture: () => {
      const b = bitmap(`webcam${captures.length + 1}`);
      captures.push(b);
      return Promise.resolve(b);
    },
    setTransport: () => {},
  });
  return { sources, panes, captures, setBusy: (b: boolean) => (busy = b), present: () => present!({ videoWidth: 640, videoHeight: 480 } as HTMLVideoElement) };
}

beforeEach(() => resetStore());

describe('FrameSources', () => {
  it('an image becomes the current frame; the panes are resumed and pumped', async () => {
    const r = rig();
    await r.sources.openImage(new Blob(), 'a.png');
    expect(r.sources.current()).toMatchObject({ frame: { id: 1, width: 10, height: 8 }, source: { kind: 'image', name: 'a.png', original: null } });
    expect(appStore.getState()).toMatchObject({ sourceKind: 'image', sourceName: 'a.png', frameId: 1 });
    expect(r.panes.resumeAll).toHaveBeenCalledTimes(1);
    expect(r.panes.pumpAll).toHaveBeenCalledTimes(1);
  });

  it('the webcam: frames presented while no pane can take one are skipped, never queued, and counted in the stream', async () => {
    const r = rig();
    await r.sources.startWebcam();
    expect(r.sources.streaming()).toBe(true);
    r.present();
    await settle();
    expect(r.captures).toHaveLength(1);
    expect(r.sources.current()?.source).toMatchObject({ kind: 'webcam' });
    r.setBusy(true);
    r.present();
    r.present();
    await settle();
    expect(r.captures).toHaveLength(1);
    r.setBusy(false);
    r.present();
    await settle();
    expect(r.captures).toHaveLength(2);
    expect(r.sources.current()?.frame.id).toBe(2);
    // The fourth frame presented: the panes count the two skipped ones dropped (scheduler).
    expect(r.sources.current()?.seq).toEqual({ stream: 1, index: 4 });
    expect(r.panes.resumeAll).not.toHaveBeenCalled(); // webcam frames do not un-halt a failed pane
    r.sources.stopWebcam();
    expect(r.sources.streaming()).toBe(false);
    // A new start is a new stream, counted from 1.
    await r.sources.startWebcam();
    r.present();
    await settle();
    expect(r.sources.current()?.seq).toEqual({ stream: 2, index: 1 });
  });

  it('an image has no place in a stream: no pane counts drops on it', async () => {
    const r = rig();
    await r.sources.openImage(new Blob(), 'a.png');
    expect(r.sources.current()?.seq).toBeUndefined();
  });

  it('closes a replaced frame bitmap two frames late, never one a pane still shows', async () => {
    const r = rig();
    await r.sources.startWebcam();
    for (let i = 0; i < 3; i++) {
      r.present();
      await settle();
    }
    // A pane shows its result on frame 1.
    appStore.setState({ panes: [{ key: 1, resultFrame: { bitmap: r.captures[0]! } } as never] });
    for (let i = 0; i < 3; i++) {
      r.present();
      await settle();
    }
    expect(r.captures.map((b) => b.closed)).toEqual([false, true, true, false, false, false]);
  });
});
