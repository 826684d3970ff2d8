/**
 * Public Mask R-CNN exports dropped into the app (MODELS.md §3): a torchvision
 * `maskrcnn_resnet50_fpn` ONNX export and the ONNX model zoo MaskRCNN-10 layout. Both carry
 * their own NMS and RoiAlign inside the graph (on the CPU in onnxruntime-web, even on the
 * WebGPU EP: those ops have no WebGPU kernels), so what is left for us is a score threshold,
 * the class mapping, the cap, and the masks into our bit-packed format.
 *
 * Exported names (the family's reference.ts / gpu.ts dispatch here when `manifest.twoStage`
 * is absent):
 *   postprocessExportedReference(outputs, manifest, settings, imageSize, mask?)  CPU chain
 *   exportedRecordsReference(outputs, manifest, settings)                        records only
 *   (GPU: app/families/maskRcnn/exportedGpu.ts `createExportedGpuPostprocessor(device,
 *   manifest, mask, options)`, the same API as the other families' createGpuPostprocessor)
 *   exportedLayout(manifest), isExportedMaskRcnn(manifest), EXPORTED_CPU_NOTE,
 *   COCO_CATEGORIES, classIndexOfLabel(label, layout)
 * GPU: `encode(encoder, outputs, settings, transform, image, dims)` needs the ORT output
 * dims of the frame (N varies per frame; a buffer's size does not tell it): the pipeline
 * passes `dims` keyed by logical output name, and `types` ('int64' labels on the webgpu
 * path, float32 after runOnCpu's conversion).
 *
 * Layouts (manifest `outputs`, logical name → ONNX output name):
 *   torchvision  { boxes, labels, scores, pastedMasks }
 *                boxes [N,4] xyxy input pixels, labels [N] int64 COCO category ids
 *                (1..90 with gaps), scores [N], pastedMasks [N,1,H,W] probabilities pasted
 *                at the input size (threshold 0.5)
 *   ONNX zoo     { boxes, labels, scores, roiMasks }
 *                the same boxes and scores, labels [N] int64 CONTIGUOUS 1..80 (index into
 *                the zoo's coco_classes.txt, 0 = background; maskrcnn-benchmark numbering),
 *                roiMasks [N,1,28,28] probabilities, unpasted
 * A label that maps to none of the 80 classes is dropped (counted in `droppedLabels`).
 *
 * Records (the DetectionRecords of app/gpu/layout.ts): row i is kept when score_i >
 * confThreshold (manifest defaults), score_i ≥ scoreThreshold and its label maps to a class;
 * kept rows sorted by score descending (ties: lower row first), the first maxDetections;
 * box ÷ input size (relative), sourceIndex = i (the row of the masks tensor).
 *
 * Masks at mask resolution (the image size capped at 1280, pipeline/runner.ts `maskSize`):
 *   pasted  mask pixel centre → image → input pixel, bilinear (align_corners=False) of the
 *           [H,W] probabilities, > 0.5 (maskAssembly.ts `upsampleMapping` with proto = input)
 *   roi     torchvision `paste_masks_in_image` with padding 1, done at mask resolution: the
 *           box in mask pixels, pad 28 → 30 with zeros, expand the box about its centre by
 *           30/28, truncate to int, w = x2 − x1 + 1, h = y2 − y1 + 1, pixel (x, y) of the
 *           inclusive region clipped to the mask samples the 30x30 grid bilinearly at
 *           ((x − x1 + 0.5)·30/w − 0.5, (y − y1 + 0.5)·30/h − 0.5), > 0.5.
 * Float arithmetic deciding sample positions is rounded to f32 in the WGSL's order.
 */
import type { DecodedRecord, InputTransform } from '../../gpu/layout';
import type { Detection, InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import { resizeGeometry } from '../../reference/preprocess';
import { boxToImage, recordsToDetections } from '../yolact/reference';
import { bilinearTaps, maskSizeFor, upsampleMapping, wordsPerRowFor } from '../../reference/maskAssembly';

const f = Math.fround;

/** What the pane and the family notes say about these exports. */
export const EXPORTED_CPU_NOTE = 'NMS and RoIAlign inside this model run on the CPU in ORT';

/** COCO 2017 category ids and names (/work/shared/emoji-coco.json; checked by the test). */
export const COCO_CATEGORIES: ReadonlyArray<readonly [number, string]> = [
  [1, 'person'], [2, 'bicycle'], [3, 'car'], [4, 'motorcycle'], [5, 'airplane'], [6, 'bus'], [7, 'train'], [8, 'truck'],
  [9, 'boat'], [10, 'traffic light'], [11, 'fire hydrant'], [13, 'stop sign'], [14, 'parking meter'], [15, 'bench'],
  [16, 'bird'], [17, 'cat'], [18, 'dog'], [19, 'horse'], [20, 'sheep'], [21, 'cow'], [22, 'elephant'], [23, 'bear'],
  [24, 'zebra'], [25, 'giraffe'], [27, 'backpack'], [28, 'umbrella'], [31, 'handbag'], [32, 'tie'], [33, 'suitcase'],
  [34, 'frisbee'], [35, 'skis'], [36, 'snowboard'], [37, 'sports ball'], [38, 'kite'], [39, 'baseball bat'],
  [40, 'baseball glove'], [41, 'skateboard'], [42, 'surfboard'], [43, 'tennis racket'], [44, 'bottle'],
  [46, 'wine glass'], [47, 'cup'], [48, 'fork'], [49, 'knife'], [50, 'spoon'], [51, 'bowl'], [52, 'banana'],
  [53, 'apple'], [54, 'sandwich'], [55, 'orange'], [56, 'broccoli'], [57, 'carrot'], [58, 'hot dog'], [59, 'pizza'],
  [60, 'donut'], [61, 'cake'], [62, 'chair'], [63, 'couch'], [64, 'potted plant'], [65, 'bed'], [67, 'dining table'],
  [70, 'toilet'], [72, 'tv'], [73, 'laptop'], [74, 'mouse'], [75, 'remote'], [76, 'keyboard'], [77, 'cell phone'],
  [78, 'microwave'], [79, 'oven'], [80, 'toaster'], [81, 'sink'], [82, 'refrigerator'], [84, 'book'], [85, 'clock'],
  [86, 'vase'], [87, 'scissors'], [88, 'teddy bear'], [89, 'hair drier'], [90, 'toothbrush'],
];

/** Largest COCO category id (torchvision's class count is 91 = ids 0..90). */
export const MAX_COCO_ID = 90;
/** The zoo's mask side (maskrcnn-benchmark mask head output, unpasted). */
export const ROI_MASK_SIDE = 28;
/** torchvision `paste_masks_in_image` padding. */
export const PASTE_PADDING = 1;
/** Mask probability threshold (torchvision / zoo consumers: > 0.5). */
export const MASK_THRESHOLD = 0.5;

export type ExportedMaskKind = 'pasted' | 'roi';

export interface ExportedLayout {
  /** 'pasted': torchvision [N,1,H,W]; 'roi': ONNX zoo [N,1,28,28]. */
  masks: ExportedMaskKind;
  /** 'coco-id': labels are COCO category ids (torchvision); 'contiguous': 1..80 (zoo). */
  labels: 'coco-id' | 'contiguous';
  inputWidth: number;
  inputHeight: number;
  numClasses: number;
  /** Class index of each label value 0..MAX_COCO_ID (−1: not one of the classes). */
  labelToClass: Int32Array;
}

/** An exported (single-file, NMS in the graph) Mask R-CNN manifest, as detect.ts makes them. */
export function isExportedMaskRcnn(manifest: ModelManifest): boolean {
  return manifest.family === 'maskrcnn' && !manifest.twoStage && Boolean(manifest.outputs.pastedMasks || manifest.outputs.roiMasks);
}

export function exportedLayout(manifest: ModelManifest): ExportedLayout {
  if (!isExportedMaskRcnn(manifest)) {
    throw new Error(`${manifest.id}: not an exported Mask R-CNN (the manifest names neither “pastedMasks” nor “roiMasks”)`);
  }
  for (const name of ['boxes', 'labels', 'scores']) {
    if (!manifest.outputs[name]) throw new Error(`${manifest.id}: the manifest names no “${name}” output`);
  }
  const masks: ExportedMaskKind = manifest.outputs.pastedMasks ? 'pasted' : 'roi';
  const labels = masks === 'pasted' ? 'coco-id' : 'contiguous';
  const labelToClass = new Int32Array(MAX_COCO_ID + 1).fill(-1);
  const ids = manifest.categoryIds ?? manifest.classes.map((_, i) => i + 1);
  manifest.classes.forEach((_, index) => {
    const label = labels === 'coco-id' ? ids[index]! : index + 1;
    if (label >= 0 && label <= MAX_COCO_ID) labelToClass[label] = index;
  });
  return { masks, labels, inputWidth: manifest.input.width, inputHeight: manifest.input.height, numClasses: manifest.classes.length, labelToClass };
}

/** Class index of a label value (−1 when it is none of the classes). */
export function classIndexOfLabel(label: number, layout: Pick<ExportedLayout, 'labelToClass'>): number {
  if (!Number.isInteger(label) || label < 0 || label >= layout.labelToClass.length) return -1;
  return layout.labelToClass[label]!;
}

/** A raw output on the CPU: float32, or the int64 / int32 labels as ORT gives them. */
export interface ExportedRawOutput {
  data: Float32Array | BigInt64Array | Int32Array | Float64Array;
  dims: readonly number[];
}

function numberAt(data: ExportedRawOutput['data'], i: number): number {
  return Number(data[i]!);
}

/** N, the rows of this frame (boxes [N,4]), with the other outputs (and the masks unless told not to) checked against it. */
export function exportedRowCount(outputs: Record<string, ExportedRawOutput>, layout: ExportedLayout, checkMasks = true): number {
  const boxes = outputs.boxes;
  if (!boxes) throw new Error('exported Mask R-CNN: no “boxes” output');
  const n = boxes.dims.length === 2 ? boxes.dims[0]! : boxes.data.length / 4;
  const maskName = layout.masks === 'pasted' ? 'pastedMasks' : 'roiMasks';
  for (const [name, per] of [
    ['labels', 1],
    ['scores', 1],
    [maskName, layout.masks === 'pasted' ? layout.inputWidth * layout.inputHeight : ROI_MASK_SIDE * ROI_MASK_SIDE],
  ] as const) {
    if (name === maskName && !checkMasks) continue;
    const t = outputs[name];
    if (!t) throw new Error(`exported Mask R-CNN: no “${name}” output`);
    if (t.data.length < n * per) throw new Error(`exported Mask R-CNN: “${name}” holds ${t.data.length} values; ${n} rows need ${n * per}`);
  }
  return n;
}

/** The records of one frame (see the file comment) and how many labels were dropped. */
export function exportedRecordsReference(
  outputs: Record<string, ExportedRawOutput>,
  manifest: ModelManifest,
  settings: Pick<PostprocessSettings, 'scoreThreshold' | 'maxDetections'>,
): { records: DecodedRecord[]; candidateCount: number; droppedLabels: number } {
  const layout = exportedLayout(manifest);
  const n = exportedRowCount(outputs, layout, false);
  const conf = f(manifest.defaults.confThreshold);
  const display = f(Math.max(0, settings.scoreThreshold));
  const maxDetections = Math.max(1, Math.floor(settings.maxDetections));
  const boxes = outputs.boxes!.data;
  const kept: Array<{ i: number; s: number; c: number }> = [];
  let candidateCount = 0;
  let droppedLabels = 0;
  for (let i = 0; i < n; i++) {
    const s = f(numberAt(outputs.scores!.data, i));
    if (!(s > conf)) continue;
    const c = classIndexOfLabel(numberAt(outputs.labels!.data, i), layout);
    if (c < 0) {
      droppedLabels++;
      continue;
    }
    candidateCount++;
    if (s >= display) kept.push({ i, s, c });
  }
  kept.sort((a, b) => (a.s !== b.s ? b.s - a.s : a.i - b.i));
  const iw = f(layout.inputWidth);
  const ih = f(layout.inputHeight);
  const records = kept.slice(0, maxDetections).map(({ i, s, c }) => {
    const box: [number, number, number, number] = [
      f(numberAt(boxes, 4 * i) / iw),
      f(numberAt(boxes, 4 * i + 1) / ih),
      f(numberAt(boxes, 4 * i + 2) / iw),
      f(numberAt(boxes, 4 * i + 3) / ih),
    ];
    return { box, score: s, classIndex: c, sourceIndex: i, maskArea: 0 };
  });
  return { records, candidateCount, droppedLabels };
}

/**
 * torchvision pasted masks [N,1,H,W] (input resolution) → bits at mask resolution: each
 * mask pixel samples plane `sourceIndex` bilinearly through the input→image transform.
 */
export function pastedMaskBitsReference(
  records: readonly Pick<DecodedRecord, 'sourceIndex'>[],
  pastedMasks: Float32Array,
  input: { width: number; height: number },
  transform: InputTransform,
  image: { width: number; height: number },
  mask: { width: number; height: number },
  keepSoft = false,
): { masks: InstanceMasks; areas: number[]; soft?: Float32Array } {
  const mapping = upsampleMapping(transform, image, mask, input);
  const { width: mw, height: mh } = mask;
  const wordsPerRow = wordsPerRowFor(mw);
  const bits = new Uint32Array(records.length * mh * wordsPerRow);
  const soft = keepSoft ? new Float32Array(records.length * mh * mw) : undefined;
  const plane = input.width * input.height;
  const xs = Array.from({ length: mw }, (_, x) => bilinearTaps(x, mapping.scaleX, mapping.biasX, input.width));
  const areas = records.map((rec, n) => {
    let area = 0;
    const base = rec.sourceIndex * plane;
    for (let y = 0; y < mh; y++) {
      const [y0, y1, ly] = bilinearTaps(y, mapping.scaleY, mapping.biasY, input.height);
      const row0 = base + y0 * input.width;
      const row1 = base + y1 * input.width;
      for (let x = 0; x < mw; x++) {
        const [x0, x1, lx] = xs[x]!;
        const top = (1 - lx) * pastedMasks[row0 + x0]! + lx * pastedMasks[row0 + x1]!;
        const bottom = (1 - lx) * pastedMasks[row1 + x0]! + lx * pastedMasks[row1 + x1]!;
        const v = (1 - ly) * top + ly * bottom;
        if (soft) soft[(n * mh + y) * mw + x] = v;
        if (v > MASK_THRESHOLD) {
          bits[(n * mh + y) * wordsPerRow + (x >>> 5)]! |= 1 << (x & 31);
          area++;
        }
      }
    }
    return area;
  });
  return { masks: { width: mw, height: mh, bits, wordsPerRow }, areas, soft };
}

/**
 * The integer paste box of torchvision's `paste_masks_in_image` (padding 1) for a box in
 * mask pixels: expanded by (M + 2)/M about its centre, truncated toward zero; w, h ≥ 1.
 */
export function pasteBox(box: readonly [number, number, number, number], side = ROI_MASK_SIDE): { x1: number; y1: number; w: number; h: number } {
  const scale = f((side + 2 * PASTE_PADDING) / side);
  const wHalf = f(f(f(box[2] - box[0]) * 0.5) * scale);
  const hHalf = f(f(f(box[3] - box[1]) * 0.5) * scale);
  const xc = f(f(box[2] + box[0]) * 0.5);
  const yc = f(f(box[3] + box[1]) * 0.5);
  const x1 = Math.trunc(f(xc - wHalf));
  const x2 = Math.trunc(f(xc + wHalf));
  const y1 = Math.trunc(f(yc - hHalf));
  const y2 = Math.trunc(f(yc + hHalf));
  return { x1, y1, w: Math.max(x2 - x1 + 1, 1), h: Math.max(y2 - y1 + 1, 1) };
}

/**
 * Relative box (model input) → mask pixels, one scale and bias per axis (f32, as the WGSL
 * uniform): (rel · inputW − offsetX) / gainX · maskW / imageW.
 */
export function maskToBoxScale(
  transform: InputTransform,
  image: { width: number; height: number },
  mask: { width: number; height: number },
): { scaleX: number; biasX: number; scaleY: number; biasY: number } {
  return {
    scaleX: f(((transform.inputWidth / transform.gainX) * mask.width) / image.width),
    biasX: f(((-transform.offsetX / transform.gainX) * mask.width) / image.width),
    scaleY: f(((transform.inputHeight / transform.gainY) * mask.height) / image.height),
    biasY: f(((-transform.offsetY / transform.gainY) * mask.height) / image.height),
  };
}

/** The record's box (relative to the input) in mask pixels, f32 as the WGSL computes it. */
export function boxInMaskPixels(
  box: readonly [number, number, number, number],
  transform: InputTransform,
  image: { width: number; height: number },
  mask: { width: number; height: number },
): [number, number, number, number] {
  const { scaleX: sx, biasX: bx, scaleY: sy, biasY: by } = maskToBoxScale(transform, image, mask);
  return [f(f(box[0] * sx) + bx), f(f(box[1] * sy) + by), f(f(box[2] * sx) + bx), f(f(box[3] * sy) + by)];
}

/** Value of the zero-padded (side + 2)² grid of a side² probability mask at (row, col). */
function padded(masks: Float32Array, base: number, side: number, r: number, c: number): number {
  const rr = r - PASTE_PADDING;
  const cc = c - PASTE_PADDING;
  if (rr < 0 || cc < 0 || rr >= side || cc >= side) return 0;
  return masks[base + rr * side + cc]!;
}

/** One axis of the paste's bilinear sampling (PyTorch align_corners=False, in/out ratio). */
export function pasteTaps(j: number, padded: number, out: number): [number, number, number] {
  const scale = f(padded / out);
  const src = Math.max(f(f(f(j + 0.5) * scale) - 0.5), 0);
  const i0 = Math.min(Math.floor(src), padded - 1);
  return [i0, Math.min(i0 + 1, padded - 1), f(src - i0)];
}

/** ONNX-zoo 28x28 probabilities [N,1,28,28] → bits at mask resolution (paste, padding 1). */
export function roiMaskBitsReference(
  records: readonly Pick<DecodedRecord, 'box' | 'sourceIndex'>[],
  roiMasks: Float32Array,
  transform: InputTransform,
  image: { width: number; height: number },
  mask: { width: number; height: number },
  side = ROI_MASK_SIDE,
  keepSoft = false,
): { masks: InstanceMasks; areas: number[]; soft?: Float32Array } {
  const { width: mw, height: mh } = mask;
  const wordsPerRow = wordsPerRowFor(mw);
  const bits = new Uint32Array(records.length * mh * wordsPerRow);
  const soft = keepSoft ? new Float32Array(records.length * mh * mw) : undefined;
  const p = side + 2 * PASTE_PADDING;
  const areas = records.map((rec, n) => {
    const { x1, y1, w, h } = pasteBox(boxInMaskPixels(rec.box, transform, image, mask), side);
    const base = rec.sourceIndex * side * side;
    let area = 0;
    const xStart = Math.max(x1, 0);
    const xEnd = Math.min(x1 + w, mw);
    for (let y = Math.max(y1, 0); y < Math.min(y1 + h, mh); y++) {
      const [r0, r1, ly] = pasteTaps(y - y1, p, h);
      for (let x = xStart; x < xEnd; x++) {
        const [c0, c1, lx] = pasteTaps(x - x1, p, w);
        const top = (1 - lx) * padded(roiMasks, base, side, r0, c0) + lx * padded(roiMasks, base, side, r0, c1);
        const bottom = (1 - lx) * padded(roiMasks, base, side, r1, c0) + lx * padded(roiMasks, base, side, r1, c1);
        const v = (1 - ly) * top + ly * bottom;
        if (soft) soft[(n * mh + y) * mw + x] = v;
        if (v > MASK_THRESHOLD) {
          bits[(n * mh + y) * wordsPerRow + (x >>> 5)]! |= 1 << (x & 31);
          area++;
        }
      }
    }
    return area;
  });
  return { masks: { width: mw, height: mh, bits, wordsPerRow }, areas, soft };
}

export interface ExportedReferenceResult {
  detections: Detection[];
  masks: InstanceMasks;
  records: DecodedRecord[];
  /** Rows above the confidence threshold whose label is none of the 80 classes. */
  droppedLabels: number;
  timings: Partial<Pick<StageTimings, 'decode' | 'nms' | 'masks'>>;
}

/**
 * The whole CPU path (`postprocessMaskrcnnReference` dispatches here without `twoStage`).
 * `mask` defaults to the image size capped at 1280 on the longer side, as the GPU path.
 */
export function postprocessExportedReference(
  outputs: Record<string, ExportedRawOutput>,
  manifest: ModelManifest,
  settings: PostprocessSettings,
  imageSize: { width: number; height: number },
  mask: { width: number; height: number } = maskSizeFor(imageSize.width, imageSize.height),
): ExportedReferenceResult {
  const layout = exportedLayout(manifest);
  exportedRowCount(outputs, layout);
  const t0 = performance.now();
  const { records, droppedLabels } = exportedRecordsReference(outputs, manifest, settings);
  const t1 = performance.now();
  const transform = resizeGeometry(imageSize.width, imageSize.height, manifest.input).transform;
  const { masks, areas } =
    layout.masks === 'pasted'
      ? pastedMaskBitsReference(records, toFloat32(outputs.pastedMasks!.data), { width: layout.inputWidth, height: layout.inputHeight }, transform, imageSize, mask)
      : roiMaskBitsReference(records, toFloat32(outputs.roiMasks!.data), transform, imageSize, mask);
  records.forEach((r, n) => (r.maskArea = areas[n]!));
  return {
    detections: recordsToDetections(records, transform, imageSize),
    masks,
    records,
    droppedLabels,
    timings: { decode: t1 - t0, nms: 0, masks: performance.now() - t1 },
  };
}

function toFloat32(data: ExportedRawOutput['data']): Float32Array {
  if (data instanceof Float32Array) return data;
  return Float32Array.from(data as ArrayLike<number>, Number);
}

/** A record's box in image pixels (re-exported for the GPU side and tests). */
export { boxToImage };
