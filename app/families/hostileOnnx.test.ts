import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { manifestFromOnnx, MAX_CLASSES, MAX_ONNX_BYTES, parseClassNames, UnrecognisedModelError, type DetectedModel } from './detect';
import { hostileCases, hugeClassCountYolact, onnxHeader, VALID_HEADERS } from './hostileOnnx';
import { importOnnx, UnknownModelError } from '../models/fromOnnx';
import { validateManifest } from '../models/manifestSchema';
import type { ModelManifest } from '../types';

/**
 * Fuzz test of the dropped-ONNX reader (issue 14): every hostile header either gives a
 * manifest the validator accepts or is refused with UnrecognisedModelError and a message,
 * and none allocates more than a few MB on the way (the old reader sized arrays by the
 * file's dims: a conf of [1, 100, 100000001] took the tab's heap).
 */

// A minor GC (a scavenge, well under a millisecond) before each measurement empties the
// young generation, so what a call allocates stays counted until it returns rather than
// being collected mid-call by a scavenge that garbage of earlier cases set off.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;

/**
 * What a call may allocate: a few MB, plus what reading the file's own structures costs
 * (names and shapes take some ten times their bytes as JS objects) for the big-file cases.
 * What a number in the file asks for (a dim, a class index) must not show up at all.
 */
const allowance = (fileBytes: number) => 4 * 2 ** 20 + 16 * fileBytes;

function measured<T>(fn: () => T): { result?: T; error?: unknown; grew: number } {
  gc({ type: 'minor' });
  const before = process.memoryUsage();
  let result: T | undefined;
  let error: unknown;
  try {
    result = fn();
  } catch (e) {
    error = e;
  }
  const after = process.memoryUsage();
  const grew = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
  return { result, error, grew };
}

/** The manifest as the app runs it: an end-to-end export without names has none until the dialog is answered. */
function asRun(detected: DetectedModel): ModelManifest {
  const m = detected.manifest;
  return m.classes.length === 0 && detected.missing.includes('classes') ? { ...m, classes: ['pending'] } : m;
}

const opts = { fileName: 'hostile.onnx', url: 'user-model:hostile' };

describe('hostile ONNX headers', () => {
  const cases = hostileCases(14);

  it('the generator makes several hundred cases, and its valid headers are recognised', () => {
    expect(cases.length).toBeGreaterThan(500);
    for (const [family, spec] of Object.entries(VALID_HEADERS)) {
      const check = validateManifest(asRun(manifestFromOnnx(onnxHeader(spec).bytes, opts)));
      expect(check.ok ? [] : check.errors, family).toEqual([]);
    }
  });

  it('issue 14 reproduction: conf [1, 100, 100000001] is refused, naming the class count, without allocating by it', () => {
    const { error, grew } = measured(() => manifestFromOnnx(hugeClassCountYolact(), opts));
    expect(error).toBeInstanceOf(UnrecognisedModelError);
    expect((error as Error).message).toMatch(new RegExp(`100000000 classes.*at most ${MAX_CLASSES}`));
    expect(grew).toBeLessThan(allowance(0));
  });

  it('every case: a valid manifest or a refusal with a message; never more than a few MB', () => {
    const failures: string[] = [];
    let refused = 0;
    for (const c of cases) {
      const { result, error, grew } = measured(() => manifestFromOnnx(c.bytes, opts));
      if (error !== undefined) {
        refused++;
        if (!(error instanceof UnrecognisedModelError)) failures.push(`${c.name}: threw ${error instanceof Error ? error.message : JSON.stringify(error)}`);
        else if (!error.message.trim()) failures.push(`${c.name}: refused with an empty message`);
        else if (error.message.length > 4000) failures.push(`${c.name}: a ${error.message.length}-character message`);
      } else {
        const check = validateManifest(asRun(result!));
        if (!check.ok) failures.push(`${c.name}: an invalid manifest (${check.errors.join('; ')})`);
      }
      if (grew > allowance(c.bytes.length)) failures.push(`${c.name}: allocated ${(grew / 2 ** 20).toFixed(1)} MB`);
    }
    expect(failures).toEqual([]);
    // Most cases must be refused; a reader that accepted everything would not be tested.
    expect(refused).toBeGreaterThan(cases.length / 2);
  });

  it('class-name texts from the hostile metadata never throw and never give more than MAX_CLASSES names', () => {
    const texts = [
      '{99999999: "x"}',
      `[${Array.from({ length: 5000 }, (_, i) => `c${i}`).join(', ')}]`,
      `names:\n${Array.from({ length: 5000 }, (_, i) => `  ${i}: c${i}`).join('\n')}`,
      'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nnames: [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      `${'['.repeat(5000)}${']'.repeat(5000)}`,
      `${'- '.repeat(10000)}x`,
      'x'.repeat(2 ** 21),
      `${Array.from({ length: 5000 }, (_, i) => `c${i}`).join('\n')}`,
    ];
    for (const text of texts) {
      const { result, error, grew } = measured(() => parseClassNames(text));
      expect(error).toBeUndefined();
      expect(result!.length).toBeLessThanOrEqual(MAX_CLASSES);
      expect(grew).toBeLessThan(allowance(text.length));
    }
  });

  it('importOnnx refuses a file past MAX_ONNX_BYTES by its size, without reading it', async () => {
    let read = false;
    const big = { name: 'huge.onnx', size: MAX_ONNX_BYTES + 1, arrayBuffer: async () => ((read = true), new ArrayBuffer(0)) } as unknown as File;
    await expect(importOnnx(big)).rejects.toThrow(UnknownModelError);
    await expect(importOnnx(big)).rejects.toThrow(/“huge\.onnx”: the file is 512\.0 MB; SegArena reads ONNX files of at most 512 MB/);
    expect(read).toBe(false);
  });

  it('importOnnx turns the issue 14 header into its own refusal before ORT sees it', async () => {
    const file = new File([hugeClassCountYolact().slice().buffer as ArrayBuffer], 'hostile.onnx');
    await expect(importOnnx(file)).rejects.toThrow(UnknownModelError);
    await expect(importOnnx(file)).rejects.toThrow(/“hostile\.onnx”: YOLACT output “conf” \[1, 100, 100000001\]: 100000000 classes/);
  });
});
