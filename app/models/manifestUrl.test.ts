import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ModelManifest } from '../types';
import { loadManifestFromUrl, MAX_MANIFEST_BYTES } from './manifestUrl';
import { addModel, getModel, recordedAccuracy } from './registry';

const URL_ = 'https://models.example.org/m.json';

/** A manifest of our own (a copy of yolact-384 under a new id). */
function ownManifest(id = 'my-yolact'): Record<string, unknown> {
  return { ...(JSON.parse(readFileSync('models/yolact/yolact-384.json', 'utf8')) as Record<string, unknown>), id, name: 'My YOLACT' };
}

/** A fetch answering every request with `body` (a string, or an object sent as JSON). */
function answer(body: unknown, init: ResponseInit = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return async () => new Response(text, { status: 200, headers: { 'content-type': 'application/json' }, ...init });
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return (err as Error).message;
}

describe('loadManifestFromUrl (?manifest=)', () => {
  it('returns a valid manifest with an id of its own', async () => {
    const m = await loadManifestFromUrl(URL_, answer(ownManifest()));
    expect(m.id).toBe('my-yolact');
    expect(m.defaults.maxDetections).toBe(100);
  });

  it('says when the file is missing or unreachable', async () => {
    expect(await refusal(loadManifestFromUrl(URL_, answer('no', { status: 404 })))).toBe(
      `The model manifest ${URL_} could not be read: the server answered HTTP 404.`,
    );
    const html = answer('<!doctype html>', { headers: { 'content-type': 'text/html' } });
    expect(await refusal(loadManifestFromUrl(URL_, html))).toBe(`The model manifest ${URL_} was not found (an HTML page came back).`);
    const offline = async () => {
      throw new TypeError('Failed to fetch');
    };
    expect(await refusal(loadManifestFromUrl(URL_, offline))).toBe(`The model manifest ${URL_} could not be fetched (Failed to fetch).`);
  });

  it('says when it is not JSON, or too big to be a manifest', async () => {
    expect(await refusal(loadManifestFromUrl(URL_, answer('{"id": "x",')))).toMatch(/^The model manifest \S+ is not valid JSON \(.+\)\.$/);
    const big = answer('{}', { headers: { 'content-length': String(MAX_MANIFEST_BYTES + 1) } });
    expect(await refusal(loadManifestFromUrl(URL_, big))).toBe(`The model manifest ${URL_} is larger than 1 MiB: not a model manifest.`);
  });

  it('refuses `defaults: {}` with the full schema, listing the first problems', async () => {
    const message = await refusal(loadManifestFromUrl(URL_, answer({ ...ownManifest(), defaults: {} })));
    expect(message).toBe(
      `The model manifest ${URL_} is not a valid model manifest: defaults.confThreshold: expected a number ≥ 0 and ≤ 1, got undefined; ` +
        'defaults.scoreThreshold: expected a number ≥ 0 and ≤ 1, got undefined; defaults.topK: expected an integer ≥ 1 and ≤ 512, got undefined; ' +
        'defaults.nmsIou: expected a number ≥ 0 and ≤ 1, got undefined; defaults.nmsKind: expected one of "fast", "greedy", got undefined (and 1 more).',
    );
  });

  it('refuses maxDetections beyond the bounds', async () => {
    const m = ownManifest();
    m.defaults = { ...(m.defaults as object), maxDetections: 10000 };
    expect(await refusal(loadManifestFromUrl(URL_, answer(m)))).toMatch(/defaults\.maxDetections: expected an integer ≥ 1 and ≤ 300, got 10000/);
  });

  it('refuses the id of a bundled model: yolact-550 keeps its name and recorded accuracy', async () => {
    const bundled = getModel('yolact-550')!;
    const before = recordedAccuracy(bundled);
    expect(before).toBeDefined();
    const message = await refusal(loadManifestFromUrl(URL_, answer(ownManifest('yolact-550'))));
    expect(message).toBe(`The model manifest ${URL_} uses the id “yolact-550” of a bundled model; give it an id of its own.`);
    expect(getModel('yolact-550')).toBe(bundled);
    expect(recordedAccuracy(getModel('yolact-550')!)).toEqual(before);
  });

  it('refuses the id of a model already added (a saved or dropped one)', async () => {
    const saved = { ...ownManifest('user-tiny'), name: 'Tiny (saved)' };
    addModel(saved as ModelManifest);
    const message = await refusal(loadManifestFromUrl(URL_, answer(ownManifest('user-tiny'))));
    expect(message).toBe(`The model manifest ${URL_} uses the id “user-tiny” of a model already loaded (“Tiny (saved)”); give it an id of its own.`);
    expect(getModel('user-tiny')!.name).toBe('Tiny (saved)');
  });
});
