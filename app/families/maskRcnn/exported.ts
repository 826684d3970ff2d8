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
 *   exportedRecordsFromOutputs(outputs, manifest, settings)                      records only
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
import type { DecodedRecord } from '../../gpu/layout';
import type { Detection, InstanceMasks, ModelManifest, PostprocessSettings, StageTimings } from '../../types';
import { resizeGeometry } from '../../reference/preprocess';
import { boxToImage, recordsToDetections } from '../yolact/reference';
import { maskSizeFor } from '../../reference/maskAssembly';
import { classOfLabel, exportedRecordsReference } from '../../reference/exportedRecords';
import { MASK_THRESHOLD, pastedMaskBitsReference, PASTE_PADDING, ROI_MASK_SIDE, roiMaskBitsReference } from '../../reference/pastedMaskBits';

export { MASK_THRESHOLD, PASTE_PADDING, ROI_MASK_SIDE };
export { boxInMaskPixels, maskToBoxScale, pasteBox, pastedMaskBitsReference, pasteTaps, roiMaskBitsReference } from '../../reference/pastedMaskBits';
export { exportedRecordsReference } from '../../reference/exportedRecords';

/** What the pane and the family notes say about these exports. */
export const EXPORTED_CPU_NOTE = 'NMS and RoIAlign inside this model run on the CPU in ORT';

/** COCO 2017 category ids and names (/work/shared/emoji-coco.json; checked by the test). */
export const COCO_CATEGORIES: ReadonlyArray<readonly [number, string]> = [
  [1, 'person'],
  [2, 'bicycle'],
  [3, 'car'],
  [4, 'motorcycle'],
  [5, 'airplane'],
  [6, 'bus'],
  [7, 'train'],
  [8, 'truck'],
  [9, 'boat'],
  [10, 'traffic light'],
  [11, 'fire hydrant'],
  [13, 'stop sign'],
  [14, 'parking meter'],
  [15, 'bench'],
  [16, 'bird'],
  [17, 'cat'],
  [18, 'dog'],
  [19, 'horse'],
  [20, 'sheep'],
  [21, 'cow'],
  [22, 'elephant'],
  [23, 'bear'],
  [24, 'zebra'],
  [25, 'giraffe'],
  [27, 'backpack'],
  [28, 'umbrella'],
  [31, 'handbag'],
  [32, 'tie'],
  [33, 'suitcase'],
  [34, 'frisbee'],
  [35, 'skis'],
  [36, 'snowboard'],
  [37, 'sports ball'],
  [38, 'kite'],
  [39, 'baseball bat'],
  [40, 'baseball glove'],
  [41, 'skateboard'],
  [42, 'surfboard'],
  [43, 'tennis racket'],
  [44, 'bottle'],
  [46, 'wine glass'],
  [47, 'cup'],
  [48, 'fork'],
  [49, 'knife'],
  [50, 'spoon'],
  [51, 'bowl'],
  [52, 'banana'],
  [53, 'apple'],
  [54, 'sandwich'],
  [55, 'orange'],
  [56, 'broccoli'],
  [57, 'carrot'],
  [58, 'hot dog'],
  [59, 'pizza'],
  [60, 'donut'],
  [61, 'cake'],
  [62, 'chair'],
  [63, 'couch'],
  [64, 'potted plant'],
  [65, 'bed'],
  [67, 'dining table'],
  [70, 'toilet'],
  [72, 'tv'],
  [73, 'laptop'],
  [74, 'mouse'],
  [75, 'remote'],
  [76, 'keyboard'],
  [77, 'cell phone'],
  [78, 'microwave'],
  [79, 'oven'],
  [80, 'toaster'],
  [81, 'sink'],
  [82, 'refrigerator'],
  [84, 'book'],
  [85, 'clock'],
  [86, 'vase'],
  [87, 'scissors'],
  [88, 'teddy bear'],
  [89, 'hair drier'],
  [90, 'toothbrush'],
];

/** Largest COCO category id (torchvision's class count is 91 = ids 0..90). */
export const MAX_COCO_ID = 90;

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
  return classOfLabel(label, layout.labelToClass);
}

/** A raw output on the CPU: float32, or the int64 / int32 labels as ORT gives them. */
export interface ExportedRawOutput {
  data: Float32Array | BigInt64Array | Int32Array | Float64Array;
  dims: readonly number[];
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
    const side = layout.masks === 'pasted' ? [layout.inputHeight, layout.inputWidth] : [ROI_MASK_SIDE, ROI_MASK_SIDE];
    if (name === maskName && n > 0 && t.dims.length === 4 && (t.dims[2] !== side[0] || t.dims[3] !== side[1])) {
      throw new Error(
        `exported Mask R-CNN: “${name}” is [${t.dims.join(', ')}]; expected [N, 1, ${layout.masks === 'pasted' ? `${layout.inputHeight}, ${layout.inputWidth}` : `${ROI_MASK_SIDE}, ${ROI_MASK_SIDE}`}]`,
      );
    }
    if (t.data.length < n * per) throw new Error(`exported Mask R-CNN: “${name}” holds ${t.data.length} values; ${n} rows need ${n * per}`);
  }
  return n;
}

/** The records of one frame (see the file comment) and how many labels were dropped. */
export function exportedRecordsFromOutputs(
  outputs: Record<string, ExportedRawOutput>,
  manifest: ModelManifest,
  settings: Pick<PostprocessSettings, 'scoreThreshold' | 'maxDetections'>,
): { records: DecodedRecord[]; candidateCount: number; droppedLabels: number } {
  const layout = exportedLayout(manifest);
  const numRows = exportedRowCount(outputs, layout, false);
  return exportedRecordsReference({ boxes: outputs.boxes!.data, labels: outputs.labels!.data, scores: outputs.scores!.data, numRows }, layout.labelToClass, {
    confThreshold: manifest.defaults.confThreshold,
    scoreThreshold: settings.scoreThreshold,
    maxDetections: settings.maxDetections,
    inputWidth: layout.inputWidth,
    inputHeight: layout.inputHeight,
  });
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
  const { records, droppedLabels } = exportedRecordsFromOutputs(outputs, manifest, settings);
  const t1 = performance.now();
  const transform = resizeGeometry(imageSize.width, imageSize.height, manifest.input).transform;
  const { masks, areas } =
    layout.masks === 'pasted'
      ? pastedMaskBitsReference(
          records,
          toFloat32(outputs.pastedMasks!.data),
          { width: layout.inputWidth, height: layout.inputHeight },
          transform,
          imageSize,
          mask,
        )
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
