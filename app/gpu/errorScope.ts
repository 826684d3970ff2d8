/**
 * GPU errors made visible. WebGPU reports a failed call (an invalid buffer, a buffer too
 * large to allocate, a bad bind group) asynchronously and otherwise only to the console
 * ('uncapturederror'); the frame then reads back zeros and the pane would say "0
 * instances". Each of our synchronous encode-and-submit sections runs inside a validation
 * and an out-of-memory scope instead, and a caught error becomes a `GpuError` that the
 * engine shows as the pane's error.
 *
 * Scopes are pushed and popped around synchronous code only: several panes' frames
 * interleave at every `await`, and a scope left open across one would catch another
 * pane's (or ORT's) calls.
 */

export class GpuError extends Error {
  override name = 'GpuError';
  constructor(
    readonly kind: 'validation' | 'out-of-memory' | 'internal',
    readonly where: string,
    detail: string,
  ) {
    super(
      kind === 'out-of-memory'
        ? `the GPU ran out of memory in ${where} (${detail}); try a smaller image, fewer panes or a lower max detections`
        : `a GPU ${kind} error in ${where}: ${detail}`,
    );
  }
}

/**
 * Runs `fn` (synchronous GPU calls) inside validation, out-of-memory and internal error
 * scopes. Returns fn's value and `checked`, which rejects with a GpuError if any call
 * inside failed; await it before trusting what the section computed.
 */
export function gpuScoped<T>(device: GPUDevice, where: string, fn: () => T): { value: T; checked: Promise<void> } {
  device.pushErrorScope('internal');
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  // Innermost first: validation, then out-of-memory, then internal.
  const popAll = () => [device.popErrorScope(), device.popErrorScope(), device.popErrorScope()] as const;
  let value: T;
  try {
    value = fn();
  } catch (err) {
    // Popped in every case, so a throw inside fn leaves no scope open.
    for (const p of popAll()) p.catch(() => undefined);
    throw err;
  }
  const [validation, oom, internal] = popAll();
  const checked = Promise.all([validation, oom, internal]).then(([v, o, i]) => {
    if (o) throw new GpuError('out-of-memory', where, o.message);
    if (v) throw new GpuError('validation', where, v.message);
    if (i) throw new GpuError('internal', where, i.message);
  });
  // A caller that throws before awaiting `checked` must not leave an unhandled rejection.
  checked.catch(() => undefined);
  return { value, checked };
}
