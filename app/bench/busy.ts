/**
 * Main-thread busy time, measured from the outside: a MessageChannel ping-pong keeps one
 * tiny task queued on the main thread while a measured piece of work runs. When the main
 * thread is free the pings follow each other within a fraction of a millisecond; a gap
 * longer than BUSY_GAP_MS means something else held the thread (our JavaScript, ORT's
 * wasm, a synchronous canvas call). Busy time = the sum of those gaps.
 *
 * What it does not count: work on other threads (GPU process, ORT worker threads) and
 * gaps shorter than BUSY_GAP_MS (a few short tasks are missed, so it is a lower bound).
 */

/** A gap between two pings longer than this is counted as busy (a free loop pings every ~0.05 ms). */
const BUSY_GAP_MS = 1;

export interface BusyProbe {
  /** Stops the probe and returns the busy milliseconds since start. */
  stop(): number;
}

export function startBusyProbe(): BusyProbe {
  const channel = new MessageChannel();
  let last = performance.now();
  let busy = 0;
  let running = true;
  channel.port1.onmessage = () => {
    const now = performance.now();
    const gap = now - last;
    if (gap > BUSY_GAP_MS) busy += gap;
    last = now;
    if (running) channel.port2.postMessage(0);
  };
  channel.port2.postMessage(0);
  return {
    stop(): number {
      running = false;
      const now = performance.now();
      const gap = now - last;
      if (gap > BUSY_GAP_MS) busy += gap;
      channel.port1.onmessage = null;
      channel.port1.close();
      channel.port2.close();
      return busy;
    },
  };
}
