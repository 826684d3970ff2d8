/**
 * What the app's in-browser evaluation (Engine.evaluate) runs over: the bundled samples
 * (public/samples/annotations.json + images), or a COCO instances JSON dropped together
 * with its images. Plain TypeScript; the engine does the running.
 */
import type { ModelManifest, PostprocessSettings } from '../types';
import { loadCocoGroundTruth, type CocoDataset } from './dataset';

export interface EvalSourceImage {
  id: number;
  fileName: string;
  load: () => Promise<Blob>;
}

export interface EvalSource {
  /** Shown in the UI: "samples" or the dropped JSON's file name. */
  name: string;
  dataset: CocoDataset;
  /** The images to run, in id order. */
  images: EvalSourceImage[];
  /** Ground-truth images that have no file (a dropped set that left some out). */
  missing: string[];
}

/** A file as the evaluation needs it (a File, or anything with a name and a body). */
export interface NamedBlob {
  name: string;
  text(): Promise<string>;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The settings a pane is evaluated with: its own (NMS kind, IoU, top-k, cap), but the
 * display threshold at the candidate threshold, as `npm run eval` does — one-stage models
 * keep every candidate (0), two-stage ones torchvision's box-score test (confThreshold), CenterMask
 * its FCOS candidate test (confThreshold; a lower display threshold would lower it too).
 * AP needs the low-score detections; the display threshold is only for drawing.
 */
export function evaluationSettings(settings: PostprocessSettings, manifest: Pick<ModelManifest, 'defaults' | 'twoStage' | 'centerMask'>): PostprocessSettings {
  return { ...settings, scoreThreshold: manifest.twoStage || manifest.centerMask ? (manifest.defaults.confThreshold ?? 0.05) : 0 };
}

/** Each fetcher's loads of the samples' ground truth, by base URL (tests bring their own fetcher). */
const samplesLoads = new WeakMap<typeof fetch, Map<string, Promise<CocoDataset>>>();

/**
 * The bundled samples' ground truth (public/samples/annotations.json), fetched once a page:
 * the sample picker lists its images, exports take their COCO ids from it, the evaluation
 * scores against it. A failed load is forgotten, so the next call tries again.
 */
export function loadSamples(baseUrl: string, fetcher: typeof fetch = fetch): Promise<CocoDataset> {
  let loads = samplesLoads.get(fetcher);
  if (!loads) samplesLoads.set(fetcher, (loads = new Map<string, Promise<CocoDataset>>()));
  let load = loads.get(baseUrl);
  if (!load) {
    load = (async () => {
      const response = await fetcher(`${baseUrl}samples/annotations.json`);
      if (!response.ok) throw new Error(`samples/annotations.json: HTTP ${response.status}`);
      return loadCocoGroundTruth(await response.json());
    })();
    loads.set(baseUrl, load);
    load.catch(() => loads!.delete(baseUrl));
  }
  return load;
}

/** The bundled samples and their ground truth (public/samples/). */
export async function samplesSource(baseUrl: string, fetcher: typeof fetch = fetch): Promise<EvalSource> {
  const dataset = await loadSamples(baseUrl, fetcher);
  const images = [...dataset.images]
    .sort((a, b) => a.id - b.id)
    .filter((im) => im.fileName)
    .map((im) => ({
      id: im.id,
      fileName: im.fileName!,
      load: async () => {
        const r = await fetcher(`${baseUrl}samples/${encodeURIComponent(im.fileName!)}`);
        if (!r.ok) throw new Error(`${im.fileName}: HTTP ${r.status}`);
        return r.blob();
      },
    }));
  return { name: 'samples', dataset, images, missing: [] };
}

/**
 * A dropped COCO instances JSON and the image files dropped with it, matched by file name
 * (the JSON's `file_name` may carry a folder: only its last part is compared). Throws a
 * message for the user when the JSON is not COCO ground truth or no image matches.
 */
export async function droppedSource(json: NamedBlob, files: ReadonlyArray<NamedBlob & Blob>): Promise<EvalSource> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await json.text());
  } catch {
    throw new Error(`${json.name} is not JSON`);
  }
  let dataset: CocoDataset;
  try {
    dataset = loadCocoGroundTruth(parsed);
  } catch (err) {
    throw new Error(`${json.name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const byName = new Map(files.map((f) => [baseName(f.name), f]));
  const images: EvalSourceImage[] = [];
  const missing: string[] = [];
  for (const im of [...dataset.images].sort((a, b) => a.id - b.id)) {
    const file = im.fileName !== undefined ? byName.get(baseName(im.fileName)) : undefined;
    if (!file) {
      missing.push(im.fileName ?? `image ${im.id}`);
      continue;
    }
    images.push({ id: im.id, fileName: baseName(im.fileName!), load: async () => file });
  }
  if (images.length === 0) {
    throw new Error(
      `none of the ${dataset.images.length} images that ${json.name} names were dropped with it ` + '(drop the JSON and its image files together)',
    );
  }
  return { name: json.name, dataset, images, missing };
}
