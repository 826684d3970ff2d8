/**
 * `?manifest=<url>`: a ModelManifest JSON fetched at start-up. It is checked with the full
 * schema (manifestSchema.ts) and must not take the id of a bundled or already registered
 * model (it would replace it, and a bundled id would show that model's recorded accuracy).
 * Every refusal is an Error whose message the engine shows as a notice, as is.
 */
import type { ModelManifest } from '../types';
import { validateManifest } from './manifestSchema';
import { getModel, isBundled } from './registry';

export type FetchManifest = (url: string) => Promise<Response>;

/** Problems listed in a notice; the rest are counted (a hostile file may have hundreds). */
const MAX_LISTED_PROBLEMS = 5;
/** A manifest is a few KB (80 class names); a bigger answer is not one. */
export const MAX_MANIFEST_BYTES = 2 ** 20;

export async function loadManifestFromUrl(url: string, fetchImpl: FetchManifest = (u) => fetch(u)): Promise<ModelManifest> {
  const what = `The model manifest ${url}`;
  let response: Response;
  try {
    response = await fetchImpl(url);
  } catch (err) {
    throw new Error(`${what} could not be fetched (${err instanceof Error ? err.message : String(err)}).`, { cause: err });
  }
  if (!response.ok) throw new Error(`${what} could not be read: the server answered HTTP ${response.status}.`);
  // A dev or preview server answers a missing file with index.html.
  if ((response.headers.get('content-type') ?? '').includes('text/html')) throw new Error(`${what} was not found (an HTML page came back).`);

  const tooBig = () => new Error(`${what} is larger than ${MAX_MANIFEST_BYTES / 2 ** 20} MiB: not a model manifest.`);
  if (Number(response.headers.get('content-length') ?? 0) > MAX_MANIFEST_BYTES) throw tooBig();
  const text = await response.text();
  if (text.length > MAX_MANIFEST_BYTES) throw tooBig();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not valid JSON (${(err as Error).message}).`, { cause: err });
  }

  const check = validateManifest(value);
  if (!check.ok) {
    const listed = check.errors.slice(0, MAX_LISTED_PROBLEMS).join('; ');
    const more = check.errors.length > MAX_LISTED_PROBLEMS ? ` (and ${check.errors.length - MAX_LISTED_PROBLEMS} more)` : '';
    throw new Error(`${what} is not a valid model manifest: ${listed}${more}.`);
  }
  const manifest = check.manifest;
  if (isBundled(manifest.id)) {
    throw new Error(`${what} uses the id “${manifest.id}” of a bundled model; give it an id of its own.`);
  }
  if (getModel(manifest.id)) {
    throw new Error(`${what} uses the id “${manifest.id}” of a model already loaded (“${getModel(manifest.id)!.name}”); give it an id of its own.`);
  }
  return manifest;
}
