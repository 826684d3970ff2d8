/**
 * Shared contracts of SegArena: the result type every family produces, the model
 * manifest, per-stage timings and pane settings. Everything else builds on these, so
 * change them with care and keep the comments true.
 *
 * Coordinates: boxes are xyxy in ORIGINAL image pixels (the dropped image or the webcam
 * frame as captured), unless a name says otherwise (`…Rel` = relative [0,1]).
 */

/** One detected instance. */
export interface Detection {
  /** [x1, y1, x2, y2] in original image pixels, clamped to the image. */
  box: [number, number, number, number];
  /** Confidence in [0, 1] (the class score after NMS). */
  score: number;
  /** Index into the manifest's `classes` (0-based, background excluded). */
  classIndex: number;
  /** Number of mask pixels at mask resolution (`FrameResult.maskWidth/Height`). */
  maskArea: number;
  /**
   * The model's own per-instance quality predictions, by name, shown on hover (B2Inst:
   * `{ 'S_IoU': …, 'S_boundary': … }` from its boundary-aware scoring head). Absent for
   * families that predict none.
   */
  qualities?: Record<string, number>;
}

/**
 * A per-pixel map a model predicts besides its instances, shown as an overlay on request
 * (B2Inst's holistic boundary basis): values in [0, 1], row-major [height, width], over the
 * model input; `transform` maps input pixels to image pixels as the frame's masks do.
 */
export interface AuxiliaryMap {
  /** What it is, for the pane's legend ("boundary basis"). */
  name: string;
  width: number;
  height: number;
  values: Float32Array;
  /** The input rectangle it covers, in image pixels: [x1, y1, x2, y2]. */
  imageRect: [number, number, number, number];
}

/** Instance masks at mask resolution, one bit plane per detection. */
export interface InstanceMasks {
  width: number;
  height: number;
  /**
   * Bit-packed masks `[N, height, wordsPerRow]` u32 words, wordsPerRow = ceil(width / 32);
   * bit (x % 32) of word x / 32 of row y of instance n is pixel (x, y) of mask n.
   */
  bits: Uint32Array;
  wordsPerRow: number;
}

/** What one model produced for one frame. */
export interface FrameResult {
  imageWidth: number;
  imageHeight: number;
  /** Sorted by score, descending. At most `settings.maxDetections`. */
  detections: Detection[];
  /** Resolution of the masks (the overlay's resolution); usually the image size. */
  maskWidth: number;
  maskHeight: number;
  timings: StageTimings;
  /** Bytes copied from GPU to CPU for this frame (0 on the CPU path's own maths). */
  bytesReadBack: number;
  /** Which path produced it. */
  path: ExecutionPath;
  /** A map shown on request (the pane's setting `showAuxiliaryMap`), e.g. B2Inst's boundary basis. */
  auxiliaryMap?: AuxiliaryMap;
}

/**
 * Where a pane runs:
 * - 'webgpu': ORT WebGPU EP + our WGSL post-processing, tensors never leave the GPU.
 * - 'wasm+gpu': ORT wasm EP (fast on machines whose GPU is emulated or lacks ops), outputs
 *   uploaded once to GPU buffers, then our WGSL post-processing.
 * - 'wasm': ORT wasm EP + the TypeScript reference post-processing (no WebGPU at all).
 */
export type ExecutionPath = 'webgpu' | 'wasm+gpu' | 'wasm';

/** Per-stage time in milliseconds; GPU timestamps where available, CPU timers otherwise. */
export interface StageTimings {
  upload?: number;
  preprocess?: number;
  /** One-stage: the model. Two-stage (Mask R-CNN): the backbone (FPN + RPN head) only. */
  inference?: number;
  /** Two-stage only: RPN proposals (anchors + decode, per-level top-n, proposal NMS → R RoIs). */
  rpn?: number;
  /** Two-stage only: RoI feature pooling (box RoIs → [R, C, 7, 7] and final boxes → [M, C, 14, 14]). */
  roi?: number;
  /** Two-stage only: the box head and mask head ONNX parts (inference on pooled features). */
  heads?: number;
  decode?: number;
  nms?: number;
  masks?: number;
  readback?: number;
  draw?: number;
  total?: number;
  /** 'gpu' when decode/nms/masks/preprocess come from timestamp queries. */
  source: 'gpu' | 'cpu';
}

export type NmsKind = 'fast' | 'greedy';

/** User-tunable post-processing settings of one pane. */
export interface PostprocessSettings {
  /** Detections below this score are dropped after NMS (display threshold). */
  scoreThreshold: number;
  /** Candidates kept per class before NMS (YOLACT: 200). */
  topK: number;
  /** IoU above which NMS suppresses. */
  nmsIou: number;
  nmsKind: NmsKind;
  /** Cap on detections after NMS, across classes (YOLACT: 100). */
  maxDetections: number;
  /**
   * What ranks the instances of a model that predicts a second, quality score (CenterMask:
   * the mask IoU): `quality` = class score × that prediction, `class` = the class score
   * alone. Unset: the model's manifest decides. Families without one ignore it.
   */
  ranking?: Ranking;
  /** Also produce the model's auxiliary map (B2Inst: its boundary basis) for the overlay. Families without one ignore it. */
  showAuxiliaryMap?: boolean;
}

export type Ranking = 'class' | 'quality';

/** A model's second score a pane can rank by (registry.ts's `qualityScore`). */
export interface QualityScore {
  /** How the pane's control names it, e.g. "mask-IoU score". */
  name: string;
  /** What the score is, for the control's tooltip. */
  description: string;
  /** The manifest's default: rank by it (true) or by the class score. */
  byDefault: boolean;
}

/** A per-pixel map a model can draw over the frame (registry.ts's `auxiliaryMapOf`). */
export interface AuxiliaryMapInfo {
  /** The toggle's label, e.g. "boundary basis". */
  name: string;
  /** What it is, for the toggle's tooltip. */
  description: string;
}

/** Model manifest (JSON in models/, or made from a dropped ONNX). */
export interface ModelManifest {
  id: string;
  name: string;
  family: 'yolact' | 'yolo-seg' | 'maskrcnn' | 'centermask' | 'blendmask';
  /** URL of the ONNX file, relative to the app root (e.g. `models/yolact/yolact-550.onnx`). */
  url: string;
  /** Optional size in bytes and sha256 (hex) for remote models. */
  bytes?: number;
  sha256?: string;
  input: {
    name: string;
    width: number;
    height: number;
    /** 'stretch' resizes without keeping aspect (YOLACT); 'letterbox' pads (YOLO). */
    resize: 'stretch' | 'letterbox';
    /** Channel order of the tensor. */
    channels: 'rgb' | 'bgr';
    /** Pixel values are first scaled to [0, 255]·scale, then (x − mean) / std per channel (tensor order). */
    scale: number;
    mean: [number, number, number];
    std: [number, number, number];
    /** Pad value (0–255) for letterbox. */
    padValue?: number;
    /**
     * Tensor rank: 'nchw' [1, 3, H, W] (default); 'chw' [3, H, W] without a batch axis
     * (torchvision and ONNX-zoo Mask R-CNN exports). The bytes are the same.
     */
    layout?: 'nchw' | 'chw';
  };
  /** Family-specific output names, e.g. YOLACT { loc, conf, mask, priors, proto }. */
  outputs: Record<string, string>;
  /** Foreground class names, index = `Detection.classIndex`. */
  classes: string[];
  /** COCO category id for each class (for COCO JSON export); defaults to index + 1. */
  categoryIds?: number[];
  defaults: PostprocessSettings & { confThreshold: number };
  /** Free text shown in the picker: accuracy, size, provenance. */
  notes?: string;
  /** Two-stage models (family 'maskrcnn' split into ONNX parts, our WGSL between them). */
  twoStage?: TwoStageConfig;
  /** CenterMask (family 'centermask'): its detector part, mask head part and the WGSL between them. */
  centerMask?: CenterMaskConfig;
  /** BlendMask and B2Inst (family 'blendmask'): bases, attentions, the blender; B2Inst's scoring head part. */
  blendMask?: BlendMaskConfig;
}

/**
 * BlendMask (Chen et al. 2020) and B2Inst (Kim et al. 2021) as ONNX parts in AdelaiDet's
 * "heads only" layout, our WGSL after them (app/families/blendMask, /work/shared/MODELS.md §5):
 *   detector (`ModelManifest.url`): input → `bases` [1, K, H/4, W/4] and per FCOS level P3..P7
 *     logits [1, C, H_l, W_l], bbox_reg [1, 4, H_l, W_l] (ltrb in input pixels), centerness
 *     [1, 1, H_l, W_l] logits, top_feats [1, K·M·M, H_l, W_l] (the attentions); outputs named
 *     in `ModelManifest.outputs`: bases, logitsP3, bboxRegP3, centernessP3, topFeatsP3, …;
 *   B2Inst's scoring head (`scoringHeadUrl`): `scoring_features [N, 2 + K, R, R]` (mask
 *     probability, its soft Laplacian boundary, the RoI'd bases) → `scores [N, 2]` (S_IoU,
 *     S_boundary).
 */
export interface BlendMaskConfig {
  /** K: bases (4 BlendMask; 5 B2Inst, whose boundary basis is channel `boundaryBasisIndex`). */
  numBases: number;
  /** M: the attentions' side (14). */
  attnSize: number;
  /** R: the blender's output side (56). */
  blendSize: number;
  /** The bases' stride in input pixels (4) and its inverse, RoIAlign's spatial scale. */
  basisStride: number;
  spatialScale: number;
  samplingRatio: number;
  aligned: boolean;
  /** FCOS strides of P3..P7 in input pixels: [8, 16, 32, 64, 128]. */
  strides: number[];
  preNmsTopN: number;
  candidateThreshold: number;
  /** The recipe's NMS IoU and cap; the pane's settings are what run. */
  nmsIou: number;
  maxDetections: number;
  maskThreshold: number;
  /** B2Inst: the channel of `bases` that is the holistic boundary basis; null for BlendMask. */
  boundaryBasisIndex: number | null;
  /** The final score: s_cls·sqrt(S_IoU·S_boundary), s_cls·S_IoU·S_boundary, or s_cls alone. */
  scoreCombination: 'sqrt' | 'product' | 'cls';
  /** B2Inst's scoring head part, its integrity, its input and output names. */
  scoringHeadUrl?: string;
  scoringHeadBytes?: number;
  scoringHeadSha256?: string;
  scoringHeadInput?: string;
  scoringHeadOutput?: string;
}

/**
 * A CenterMask split into two ONNX files, our WGSL between them (app/families/centerMask):
 *   detector (`ModelManifest.url`): input → FPN features p3..p5 [1, C, H_l, W_l] and the FCOS
 *     head per level P3..P7: cls [1, K, H, W] logits, box [1, 4, H, W] ltrb distances in input
 *     pixels, ctr [1, 1, H, W] logits (outputs named in `ModelManifest.outputs`: p3, p4, p5,
 *     clsP3 … clsP7, boxP3 … boxP7, ctrP3 … ctrP7);
 *   mask head (`maskHeadUrl`): `mask_features [M, C, poolSize, poolSize]` → `mask_logits
 *     [M, K, maskSize, maskSize]` (no background channel), `mask_iou [M, K]`.
 */
export interface CenterMaskConfig {
  maskHeadUrl: string;
  /** Size and sha256 of the mask head file (checked when fetched; required for a remote head). */
  maskHeadBytes?: number;
  maskHeadSha256?: string;
  /** FCOS strides of P3..P7 in input pixels: [8, 16, 32, 64, 128]. */
  strides: number[];
  /** FPN channels C of p3..p5 (the mask head's input channels). */
  fpnChannels: number;
  /** RoIAlign output side (14) and the mask head's output side (28). */
  poolSize: number;
  maskSize: number;
  /** RoI level assignment: 'ratio' (CenterMask's Equation 2) or 'scale' (FPN's Equation 1, canonical 224 at P4). */
  roiLevels: 'ratio' | 'scale';
  /** RoI levels pooled from (3..5: the detector's p3..p5). */
  minLevel: number;
  maxLevel: number;
  /** FCOS pairs kept per level before NMS (1000). */
  preNmsTopN: number;
  /** sigmoid(cls) above it is a candidate (0.05). */
  candidateThreshold: number;
  /** The recipe's NMS IoU (0.6) and cap (50); the pane's settings are what run. */
  nmsIou: number;
  maxDetections: number;
  /** RoIAlign sampling points per bin side (default 2) and half-pixel offset (default true). */
  samplingRatio?: number;
  aligned?: boolean;
  /** Rank instances by score · predicted mask IoU (default true) or by the detection score alone. */
  rescore?: boolean;
}

/**
 * A Mask R-CNN split into three ONNX files so that every RoI step runs in our WGSL:
 *   backbone (`ModelManifest.url`): input → FPN features P2..P5 + RPN objectness/deltas
 *     for P2..P6 (outputs named in `ModelManifest.outputs`: p2, p3, p4, p5, objectness,
 *     rpnDeltas; objectness [1, A_total] logits, rpnDeltas [1, A_total, 4], both in the
 *     order level P2..P6, then (row, col, anchor) within a level);
 *   box head (`boxHeadUrl`): `box_features [R, C, 7, 7]` → `class_logits [R, K+1]`
 *     (0 = background), `box_deltas [R, (K+1)·4]`;
 *   mask head (`maskHeadUrl`): `mask_features [M, C, 14, 14]` → `mask_logits [M, K+1, 28, 28]`.
 * R = rpnPostNmsTopN and M = maxDetections are fixed (padded with empty RoIs) so the frame
 * needs no read-back between the stages.
 */
export interface TwoStageConfig {
  boxHeadUrl: string;
  maskHeadUrl: string;
  /** Size and sha256 of each head file: checked when it is fetched, required for remote heads; the digests also key the recorded accuracy. */
  boxHeadBytes?: number;
  boxHeadSha256?: string;
  maskHeadBytes?: number;
  maskHeadSha256?: string;
  /** FPN channels C of P2..P5. */
  channels: number;
  /** Feature strides of P2..P6 in input pixels, e.g. [4, 8, 16, 32, 64]. */
  strides: number[];
  /** Anchor size per level P2..P6 (input pixels), e.g. [32, 64, 128, 256, 512]. */
  anchorSizes: number[];
  /** Aspect ratios h/w, anchors of a location in this order, e.g. [0.5, 1, 2]. */
  anchorRatios: number[];
  /** Pre-NMS top-n per level (torchvision test: 1000). */
  rpnPreNmsTopN: number;
  /** Proposals kept after the per-level NMS, across levels (torchvision test: 1000) = R. */
  rpnPostNmsTopN: number;
  /** Proposal NMS IoU (0.7). */
  rpnNmsIou: number;
  /** FPN RoI level assignment: floor(canonicalLevel + log2(√area / canonicalScale)), clamped to [minLevel, maxLevel]. */
  canonicalScale: number;
  canonicalLevel: number;
  minLevel: number;
  maxLevel: number;
  /** RoI feature extraction: 'align' (RoIAlign) or 'pool' (RoIPool, quantised max). */
  pooler: 'align' | 'pool';
  /** RoIAlign sampling points per bin side (torchvision: 2); ≤ 0 = adaptive ceil(roi/bin). */
  samplingRatio: number;
  /** RoIAlign half-pixel offset (true: aligned, detectron2; false: torchvision v1). */
  aligned: boolean;
  /** Box coder weights (wx, wy, ww, wh) of the box head, torchvision (10, 10, 5, 5). */
  boxWeights: [number, number, number, number];
  /** Mask head output side (28) and RoI feature sides of the heads (7, 14). */
  maskSize: number;
  boxPool: number;
  maskPool: number;
}

/**
 * What `npm run eval -- --record` measured for a bundled model (`<manifest dir>/accuracy.json`,
 * keyed by model id): written by scripts/eval.ts, shown by the app (models/registry.ts).
 */
export interface RecordedAccuracy {
  /** `modelSha256`: the ONNX file's sha256; for a two-stage model, one hash over its three parts. */
  onnxSha256: string;
  /** Models of several ONNX parts only: each part's sha256, by its url (backbone, box head, mask head; detector, mask head). */
  partsSha256?: Record<string, string>;
  split: string;
  images: number;
  maskAP: number;
  maskAP50: number;
  maskAP75: number;
  boxAP: number;
  boundaryAP?: number;
  nms: string;
  /** Two-stage models only: 'align' (RoIAlign) or 'pool' (RoIPool), and the score threshold used. */
  pooler?: 'align' | 'pool';
  /** CenterMask only: the RoI level rule the figures were measured with (Equation 2 'ratio', Equation 1 'scale'). */
  roiLevels?: 'ratio' | 'scale';
  /** BlendMask / B2Inst only: the final score the figures ranked by (BlendMaskConfig.scoreCombination). */
  scoreCombination?: 'sqrt' | 'product' | 'cls';
  scoreThreshold?: number;
  command: string;
  date: string;
}
