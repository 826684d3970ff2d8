/**
 * One pane's run state, kept by the scheduler (./scheduler.ts): its runner, whether a run is
 * in flight or asked for, runners retired mid-run, the halt after a failure, and the holds
 * of exports that read the runner's last result.
 */
import type { Frame } from '../frame';
import type { PaneRunner } from '../runner';

export class PaneController {
  runner: PaneRunner | null = null;
  runnerKey = '';
  busy = false;
  pending = false;
  lastDoneAt = 0;
  recomposing = false;
  recomposePending = false;
  /** The frame the run in flight works on (its bitmap is not closed under it). */
  frame: Frame | null = null;
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

  /**
   * The pump, before each run: waits for the exports holding the runner, then marks a run in
   * flight in the same step (no export can slip in between). When the last run ended without
   * a result, its mark stays: an export waits on.
   */
  async beginRun(): Promise<void> {
    while (this.holds > 0) await new Promise<void>((r) => this.released.push(r));
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
