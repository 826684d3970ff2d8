/**
 * One pane's run state, kept by the scheduler (./scheduler.ts): its runner, its runs in
 * flight (at most the runner's `maxInFlight`, delivered in the order they started) and
 * whether one more is asked for, the webcam frames it never ran, runners retired mid-run,
 * the halt after a failure, and the holds of exports that read the runner's last result.
 */
import type { Frame } from '../frame';
import type { PaneRunner, RunOutput } from '../runner';
import { DeliveryRate } from './deliveryRate';

/** A run in flight: its frame (not closed under it), runner and outcome. */
export interface RunInFlight {
  readonly frame: Frame;
  readonly runner: PaneRunner;
  readonly output: Promise<RunOutput>;
}

/** Where a streamed frame comes from: the stream, and the frame's index among its presented frames. */
export interface FrameSeq {
  stream: number;
  index: number;
}

export class PaneController {
  runner: PaneRunner | null = null;
  runnerKey = '';
  /** The pump is starting runs (loading the runner, waiting for an export): not idle. */
  starting = false;
  /** Runs started and not yet delivered, oldest first. */
  readonly runs: RunInFlight[] = [];
  /** Deliveries chained in start order: a run's result is stored only after every earlier run's. */
  delivered: Promise<void> = Promise.resolve();
  pending = false;
  /** Its frames a second on a stream (deliveries over a window; reset by a still image). */
  readonly rate = new DeliveryRate();
  recomposing = false;
  recomposePending = false;
  /** The last streamed frame a run started on. */
  lastSeq: FrameSeq | null = null;
  /** Presented frames of the current stream this pane never ran (its own backlog). */
  dropped = 0;
  /** Runners replaced while a run was in flight: disposed when that run ends, their results and errors dropped. */
  readonly retired: PaneRunner[] = [];
  /** The pane was removed: a run in flight ends without a word. */
  cancelled = false;
  /**
   * The last run failed: the pane shows the error and waits for the user (a new image, model,
   * path or setting) instead of failing again on every webcam frame.
   */
  halted = false;
  /** Exports waiting for or reading the runner's last result: no run starts meanwhile (`hold`). */
  private holds = 0;
  private readonly released: Array<() => void> = [];
  /** Settles once the run in flight has stored its result; null when none is in flight. */
  private running: Promise<void> | null = null;
  private settle: (() => void) | null = null;
  constructor(readonly key: number) {}

  /** The pump waits for exports to finish (`beginRun`): it holds nothing meanwhile. */
  private waitingForHolds = false;

  /** Nothing in flight, and the pump is not loading a runner: an export may read it now. */
  get idle(): boolean {
    return this.runs.length === 0 && (!this.starting || this.waitingForHolds);
  }

  /** A run is being started or is in flight. */
  get busy(): boolean {
    return this.starting || this.runs.length > 0;
  }

  /** Runs the current runner may have in flight (1 before there is one). */
  get capacity(): number {
    return Math.max(1, this.runner?.maxInFlight ?? 1);
  }

  /**
   * A run starts on the frame `seq` of a stream: the stream's frames since the last one this
   * pane ran, never run by it, are counted dropped (a new stream starts the count again).
   */
  countDrops(seq: FrameSeq | undefined): void {
    if (!seq) return;
    if (this.lastSeq && this.lastSeq.stream === seq.stream) this.dropped += Math.max(0, seq.index - this.lastSeq.index - 1);
    else this.dropped = 0;
    this.lastSeq = { ...seq };
  }

  /**
   * The pump, before each run: waits for the exports holding the runner, then marks a run in
   * flight in the same step (no export can slip in between). When the last run ended without
   * a result, its mark stays: an export waits on.
   */
  async beginRun(): Promise<void> {
    while (this.holds > 0) {
      // Nothing in flight: the export reads now (the pump's next run waits for it).
      if (this.runs.length === 0) this.runSettles();
      this.waitingForHolds = true;
      await new Promise<void>((r) => this.released.push(r));
      this.waitingForHolds = false;
    }
    if (!this.running) this.running = new Promise<void>((r) => (this.settle = r));
  }

  /** The run's result is in the store (or the pump stopped). */
  runSettles(): void {
    this.settle?.();
    this.settle = null;
    this.running = null;
  }

  /**
   * Runs `take` with the runner at rest: after the run in flight has stored its result and
   * before the next one starts, so that what the runner reads back (masks, overlay) belongs
   * to the pane's result and to the frame it was computed on.
   */
  async hold<T>(take: () => Promise<T>): Promise<T> {
    this.holds++;
    try {
      while (this.running) await this.running;
      return await take();
    } finally {
      this.holds--;
      if (this.holds === 0) for (const r of this.released.splice(0)) r();
    }
  }
}
