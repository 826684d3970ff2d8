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
  inference?: number;
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
}

/** Model manifest (JSON in models/, or made from a dropped ONNX). */
export interface ModelManifest {
  id: string;
  name: string;
  family: 'yolact' | 'yolo-seg' | 'maskrcnn';
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
}
