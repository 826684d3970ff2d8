/**
 * COCO JSON → the evaluator's structures (app/eval/cocoEval.ts).
 *
 * Ground truth: a COCO instances file `{images, annotations, categories}` — the synthetic
 * dataset's `annotations/instances_val.json`, `public/samples/annotations.json`, or a
 * user's. Segmentations may be RLE (compressed string or plain counts) or polygons.
 * Results: a COCO results list `[{image_id | file_name, category_id, bbox, score,
 * segmentation}]` such as app/eval/cocoExport.ts writes.
 */
import type { DetectionResult, EvalCategory, EvalImage, GroundTruth } from './cocoEval';
import { polygonToRle } from './polygon';
import { fromCocoRle, rleArea, rleMerge, rleToBbox, type Rle, type XywhBox } from './rle';

export interface CocoGtJson {
  images: { id: number; file_name?: string; width: number; height: number }[];
  annotations: {
    id: number;
    image_id: number;
    category_id: number;
    bbox?: number[];
    area?: number;
    iscrowd?: number | boolean;
    segmentation?: unknown;
  }[];
  categories: { id: number; name: string; supercategory?: string }[];
}

export interface CocoDataset {
  images: EvalImage[];
  categories: EvalCategory[];
  gts: GroundTruth[];
  /** file_name → image id. */
  imageIdByFileName: Map<string, number>;
}

/** Parse a COCO GT object (already JSON.parse'd). Throws with a readable message. */
export function loadCocoGroundTruth(json: unknown): CocoDataset {
  const data = json as Partial<CocoGtJson>;
  if (!data || !Array.isArray(data.images) || !Array.isArray(data.annotations) || !Array.isArray(data.categories)) {
    throw new Error('Not a COCO instances file: expected "images", "annotations" and "categories" arrays');
  }
  const images: EvalImage[] = data.images.map((im) => ({
    id: im.id,
    width: im.width,
    height: im.height,
    ...(im.file_name !== undefined ? { fileName: im.file_name } : {}),
  }));
  const byId = new Map(images.map((im) => [im.id, im]));
  const categories: EvalCategory[] = data.categories.map((c) => ({ id: c.id, name: c.name }));
  const gts: GroundTruth[] = [];
  for (const ann of data.annotations) {
    const im = byId.get(ann.image_id);
    if (!im) throw new Error(`Annotation ${ann.id} refers to unknown image ${ann.image_id}`);
    const segmentation = ann.segmentation !== undefined ? parseSegmentation(ann.segmentation, im.height, im.width) : undefined;
    const bbox: XywhBox =
      Array.isArray(ann.bbox) && ann.bbox.length === 4 ? (ann.bbox.slice() as XywhBox) : segmentation ? rleToBbox(segmentation) : [0, 0, 0, 0];
    const area = ann.area ?? (segmentation ? rleArea(segmentation) : bbox[2] * bbox[3]);
    gts.push({
      id: ann.id,
      imageId: ann.image_id,
      categoryId: ann.category_id,
      bbox,
      area,
      iscrowd: Boolean(ann.iscrowd),
      ...(segmentation ? { segmentation } : {}),
    });
  }
  const imageIdByFileName = new Map<string, number>();
  for (const im of images) if (im.fileName !== undefined) imageIdByFileName.set(im.fileName, im.id);
  return { images, categories, gts, imageIdByFileName };
}

/** RLE (object with size + counts) or polygons (list of [x0, y0, x1, y1, …]). */
export function parseSegmentation(seg: unknown, height: number, width: number): Rle {
  if (Array.isArray(seg)) {
    const polys = seg.filter((p): p is number[] => Array.isArray(p) && p.length >= 6);
    if (polys.length === 0) return { height, width, counts: [height * width] };
    const rles = polys.map((p) => polygonToRle(p, height, width));
    return rles.length === 1 ? rles[0]! : rleMerge(rles);
  }
  if (seg && typeof seg === 'object' && 'counts' in seg && 'size' in seg) {
    const r = seg as { size: number[]; counts: string | number[] };
    const rle = fromCocoRle(r);
    if (rle.height !== height || rle.width !== width) {
      throw new Error(`RLE size ${rle.height}x${rle.width} differs from the image ${height}x${width}`);
    }
    return rle;
  }
  throw new Error('Unknown segmentation format (expected an RLE object or polygons)');
}

export interface CocoResultJson {
  image_id?: number;
  file_name?: string;
  category_id: number;
  bbox?: number[];
  score: number;
  segmentation?: { size: number[]; counts: string | number[] };
}

/**
 * Parse a COCO results list against a loaded dataset. Entries are tied to images by
 * `image_id`, or by `file_name` when there is no id. Unknown images are skipped and
 * counted. A missing bbox is taken from the mask.
 */
export function loadCocoResults(json: unknown, dataset: CocoDataset): { dts: DetectionResult[]; skipped: number } {
  if (!Array.isArray(json)) throw new Error('Not a COCO results file: expected a JSON array');
  const byId = new Map(dataset.images.map((im) => [im.id, im]));
  const dts: DetectionResult[] = [];
  let skipped = 0;
  for (const r of json as CocoResultJson[]) {
    const imageId = r.image_id ?? (r.file_name !== undefined ? dataset.imageIdByFileName.get(r.file_name) : undefined);
    const im = imageId !== undefined ? byId.get(imageId) : undefined;
    if (imageId === undefined || !im) {
      skipped++;
      continue;
    }
    const segmentation = r.segmentation ? parseSegmentation(r.segmentation, im.height, im.width) : undefined;
    const bbox: XywhBox = Array.isArray(r.bbox) && r.bbox.length === 4 ? (r.bbox.slice() as XywhBox) : segmentation ? rleToBbox(segmentation) : [0, 0, 0, 0];
    dts.push({ imageId, categoryId: r.category_id, score: r.score, bbox, ...(segmentation ? { segmentation } : {}) });
  }
  return { dts, skipped };
}
