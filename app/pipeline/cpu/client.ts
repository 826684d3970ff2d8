/**
 * The page's side of the CPU worker (./worker.ts): one worker for the page, requests with
 * ids, the worker's ORT sessions counted by holder like the page's own (../sessions.ts).
 *
 * A session is opened from the model's bytes, loaded on the page (bundled, saved, remote:
 * `loadModelBytes`, with its checks) and copied to the worker; a forgotten model (a deleted
 * saved one) gets a new key, so its old session closes with its last holder.
 */
import type { ModelManifest } from '../../types';
import { useStore } from '../../state/store';
import type { Frame } from '../frame';
import { ModelLoadError } from '../runner';
import { checkPartNames, dropModelBytes, loadModelBytes, onForgetModel } from '../sessions';
import type { WorkerAnswer, WorkerRequest } from './protocol';

/** Frames the worker keeps (the newest ones posted; a pane may still start on the one before). */
const KEPT_FRAMES = 2;

/** A request's answer type, and what it transfers. */
export class CpuWorker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextFrame = 1;
  /** The frames the worker keeps, oldest first: their ids and when their pixels were posted. */
  private readonly frames = new Map<Frame, { id: number; posted: Promise<void> }>();

  constructor(private readonly worker: Worker) {
    worker.onmessage = (event: MessageEvent<WorkerAnswer>) => {
      const answer = event.data;
      const p = this.pending.get(answer.id);
      if (!p) return;
      this.pending.delete(answer.id);
      if (answer.ok) p.resolve(answer.value);
      else p.reject(answer.loadError ? new ModelLoadError(answer.error) : new Error(answer.error));
    };
    worker.onerror = (event) => this.fail(new Error(`the CPU worker failed: ${event.message || 'unknown error'}`));
  }

  request<T>(req: WorkerRequest, transfer: Transferable[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, req }, { transfer });
    });
  }

  /**
   * Posts the request `make(id)` about `frame`, whose pixels the worker holds under `id`.
   * The first request on a frame posts a copy of its bitmap, transferred: posting the
   * frame's own bitmap would clone it, and Chromium serialises a cloned ImageBitmap's pixels
   * on the posting thread (12.5 → 6.3 ms of main-thread task time a 640×480 frame, in
   * headless Chromium on SwiftShader); later requests on the same frame (another pane's)
   * name it and post nothing more. Past `KEPT_FRAMES`, the oldest frame is dropped in the
   * worker. Its drop is posted when its pixels' post settles, so after every request
   * already waiting on them (promise reactions run in order), and the worker handles
   * messages in order: a drop never lands before a request naming its frame.
   */
  async withFrame<T>(frame: Frame, make: (id: number) => WorkerRequest): Promise<T> {
    let kept = this.frames.get(frame);
    if (!kept) {
      const id = this.nextFrame++;
      const posted = frame.forTransfer().then((bitmap) => {
        void this.request({ kind: 'frame-pixels', frame: id, bitmap }, [bitmap]).catch(() => undefined);
      });
      kept = { id, posted };
      this.frames.set(frame, kept);
      this.dropOldFrames();
    }
    const held = kept;
    try {
      await held.posted;
    } catch (err) {
      // The copy failed (a closed bitmap): the next request on the frame tries again.
      if (this.frames.get(frame) === held) this.frames.delete(frame);
      throw err;
    }
    return this.request<T>(make(held.id));
  }

  /** Drops the oldest frames beyond `KEPT_FRAMES` in the worker, each after its pixels' post. */
  private dropOldFrames(): void {
    for (const [frame, kept] of this.frames) {
      if (this.frames.size <= KEPT_FRAMES) break;
      this.frames.delete(frame);
      void kept.posted.then(() => this.request({ kind: 'drop-frame', frame: kept.id })).catch(() => undefined);
    }
  }

  private fail(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (shared === this) shared = null;
    this.worker.terminate();
  }
}

let shared: CpuWorker | null = null;

/** The page's CPU worker, started on first use (again after a crash); its ORT thread count goes to the store (the panes say it). */
export function cpuWorker(): CpuWorker {
  if (!shared) {
    const started = new CpuWorker(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'segarena-cpu' }));
    shared = started;
    started.request<number>({ kind: 'threads' }).then(
      (threads) => useStore.setState({ cpuThreads: threads }),
      () => undefined,
    );
  }
  return shared;
}

/** A holder's share of a worker session. */
export interface WorkerSessionHandle {
  readonly key: string;
  release(): void;
}

interface Entry {
  key: string;
  modelId: string;
  opened: Promise<void>;
  holders: number;
  worker: CpuWorker;
}

const entries = new Map<string, Entry>();
let generation = 0;

/** A session of `part` on ORT's wasm EP in the CPU worker; `release()` it when done. */
export async function acquireWorkerSession(part: ModelManifest): Promise<WorkerSessionHandle> {
  const worker = cpuWorker();
  let entry = entries.get(part.id);
  if (!entry || entry.worker !== worker) {
    const key = `${part.id}@${++generation}`;
    const opened = (async () => {
      const bytes = await loadModelBytes(part);
      const names = await worker.request<{ inputNames: string[]; outputNames: string[] }>({ kind: 'open', key, part, bytes: bytes.slice().buffer });
      checkPartNames(part, names);
    })();
    const created: Entry = { key, modelId: part.id, opened, holders: 0, worker };
    entries.set(part.id, created);
    // A failed open is forgotten at once, so the next acquire tries again.
    opened.catch(() => {
      if (entries.get(part.id) === created) entries.delete(part.id);
      void worker.request({ kind: 'close', key }).catch(() => undefined);
    });
    entry = created;
  }
  const held = entry;
  held.holders++;
  try {
    await held.opened;
  } catch (err) {
    held.holders--;
    throw err instanceof ModelLoadError ? err : new ModelLoadError(`${part.name}: ${(err as Error).message}`);
  } finally {
    // The worker has its copy: the page keeps the bytes only while its own sessions need them.
    dropModelBytes(part.id);
  }
  let released = false;
  return {
    key: held.key,
    release() {
      if (released) return;
      released = true;
      held.holders--;
      if (held.holders > 0) return;
      if (entries.get(held.modelId) === held) entries.delete(held.modelId);
      // Queued behind any run of it in the worker, so never under a run.
      void held.worker.request({ kind: 'close', key: held.key }).catch(() => undefined);
    },
  };
}

// A forgotten model (a deleted saved one) opens anew next time; holders keep the old session until they let go.
onForgetModel((id) => {
  for (const partId of [...entries.keys()]) if (partId === id || partId.startsWith(`${id}#`)) entries.delete(partId);
});
