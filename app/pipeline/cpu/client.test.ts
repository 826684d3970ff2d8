import { describe, expect, it } from 'vitest';
import type { Frame } from '../frame';
import { CpuWorker } from './client';
import type { WorkerRequest } from './protocol';

/** A fake worker: records each posted request and what it transfers; answers every request with null. */
function fakeWorker() {
  const posted: Array<{ req: WorkerRequest; transfer: unknown[] }> = [];
  const worker = {
    onmessage: null as ((e: MessageEvent) => void) | null,
    onerror: null as unknown,
    postMessage(message: { id: number; req: WorkerRequest }, options: { transfer: unknown[] }) {
      posted.push({ req: message.req, transfer: options.transfer });
      queueMicrotask(() => worker.onmessage?.({ data: { id: message.id, ok: true, value: null } } as MessageEvent));
    },
    terminate() {},
  };
  return { cpu: new CpuWorker(worker as unknown as Worker), posted };
}

/** A frame whose copies are counted; `fail` makes the next copy fail (a closed bitmap), `hold` holds it until called. */
function fakeFrame(name: string) {
  const state = { copies: 0, fail: false, hold: null as Promise<void> | null };
  const frame = {
    forTransfer: async () => {
      if (state.hold) await state.hold;
      if (state.fail) {
        state.fail = false;
        throw new Error('closed');
      }
      state.copies++;
      return { name: `${name}#${state.copies}` } as unknown as ImageBitmap;
    },
  } as unknown as Frame;
  return { frame, state };
}

const run = (frame: number): WorkerRequest => ({ kind: 'frame', runner: 1, frame, settings: {} as never, view: { highlight: null, hiddenClasses: [] } });
const kinds = (posted: Array<{ req: WorkerRequest }>) => posted.map((p) => `${p.req.kind}:${'frame' in p.req ? p.req.frame : ''}`);

describe('CpuWorker.withFrame', () => {
  it('posts a frame once, transferred, and names it in every request on it', async () => {
    const { cpu, posted } = fakeWorker();
    const a = fakeFrame('a');
    await Promise.all([cpu.withFrame(a.frame, run), cpu.withFrame(a.frame, run)]);
    expect(a.state.copies).toBe(1);
    expect(kinds(posted)).toEqual(['frame-pixels:1', 'frame:1', 'frame:1']);
    // The bitmap copy moves to the worker (transfer list), it is not cloned.
    expect(posted[0]!.transfer).toEqual([{ name: 'a#1' }]);
  });

  it('drops the oldest frames beyond the last two, after the requests that named them', async () => {
    const { cpu, posted } = fakeWorker();
    const frames = ['a', 'b', 'c'].map(fakeFrame);
    for (const f of frames) await cpu.withFrame(f.frame, run);
    // Let the drop's post (after its frame's post settled) run.
    await new Promise((r) => setTimeout(r, 0));
    const order = kinds(posted);
    expect(order.slice(0, 5)).toEqual(['frame-pixels:1', 'frame:1', 'frame-pixels:2', 'frame:2', 'frame-pixels:3']);
    expect(order.slice(5).sort()).toEqual(['drop-frame:1', 'frame:3']);
    // A dropped frame asked again is posted anew under a new id.
    await cpu.withFrame(frames[0]!.frame, run);
    await new Promise((r) => setTimeout(r, 0));
    expect(kinds(posted).slice(7).sort()).toEqual(['drop-frame:2', 'frame-pixels:4', 'frame:4']);
  });

  it('never drops a frame a request is about to name', async () => {
    const { cpu, posted } = fakeWorker();
    const [a, b, c] = ['a', 'b', 'c'].map(fakeFrame);
    // a's copy is slow: its request waits while b and c come and go.
    let release = () => {};
    a!.state.hold = new Promise((r) => (release = r));
    const onA = cpu.withFrame(a!.frame, run);
    await cpu.withFrame(b!.frame, run);
    await cpu.withFrame(c!.frame, run);
    release();
    await onA;
    await new Promise((r) => setTimeout(r, 0));
    const order = kinds(posted);
    // Every request comes after its frame's pixels, and no drop comes before a request naming it.
    for (const [i, k] of order.entries()) {
      const [kind, id] = k.split(':');
      if (kind === 'frame') expect(order.slice(0, i)).toContain(`frame-pixels:${id}`);
      if (kind === 'drop-frame') expect(order.slice(i + 1)).not.toContain(`frame:${id}`);
    }
    expect(order.filter((k) => k.startsWith('drop-frame'))).toHaveLength(1);
  });

  it('a failed copy fails the request and the next request on the frame tries again', async () => {
    const { cpu, posted } = fakeWorker();
    const a = fakeFrame('a');
    a.state.fail = true;
    await expect(cpu.withFrame(a.frame, run)).rejects.toThrow('closed');
    expect(posted).toHaveLength(0);
    await cpu.withFrame(a.frame, run);
    expect(kinds(posted)).toEqual(['frame-pixels:2', 'frame:2']);
  });
});
