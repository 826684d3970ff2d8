/**
 * ORT session creation, one at a time: ORT initialises its wasm runtime on the first
 * creation, and two concurrent first creations fail with "multiple calls to 'initWasm()'".
 * Every `InferenceSession.create` of the app goes through `serializedCreate` (the session
 * cache, ./sessions.ts, and the check of a dropped model, app/models/fromOnnx.ts). Its own
 * module so that neither of those two imports the other.
 */
let createQueue: Promise<unknown> = Promise.resolve();

/** Runs `fn` after every earlier queued creation finished (failed ones too). */
export function serializedCreate<T>(fn: () => Promise<T>): Promise<T> {
  const next = createQueue.then(fn, fn);
  createQueue = next.catch(() => undefined);
  return next;
}
