/**
 * One mapAsync pending at a time, across panes: with several panes mapping their staging
 * buffers at once, Chromium on SwiftShader was seen to abort a mapAsync ('destroyed before
 * mapping was resolved') although nothing was destroyed. Only the sections that map go
 * through it (a frame's read-back of its records and, in 'readback' mode, of its overlay; a
 * tensor read back mid-frame; the overlay and masks read on demand): encoding and
 * submitting the next frame, and other panes' ORT runs and kernels, go on meanwhile.
 */
let mapQueue: Promise<unknown> = Promise.resolve();

/** Runs `fn` after every earlier queued section settled (failed ones too). */
export function mapSerialized<T>(fn: () => Promise<T>): Promise<T> {
  const next = mapQueue.then(fn, fn);
  mapQueue = next.catch(() => undefined);
  return next;
}
