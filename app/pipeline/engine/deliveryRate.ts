/**
 * A pane's frames a second on a stream: the results delivered over the span of its last
 * few deliveries. Not the last interval alone: with two frames in flight, results can
 * arrive in pairs a moment apart (frame n+1 was encoded while n was read back), and the
 * interval between the two says nothing about the pane's throughput — a 2-minute frame
 * followed by one 100 ms later read as 10 fps.
 */
export class DeliveryRate {
  private times: number[] = [];

  constructor(private readonly window = 8) {}

  /** Forget the deliveries so far (a new stream, or a still image). */
  reset(): void {
    this.times = [];
  }

  /** Records a delivery at `now` (ms); frames a second over the window, or 0 before the second delivery. */
  add(now: number): number {
    this.times.push(now);
    if (this.times.length > this.window) this.times.shift();
    const span = now - this.times[0]!;
    return this.times.length >= 2 && span > 0 ? ((this.times.length - 1) * 1000) / span : 0;
  }
}
