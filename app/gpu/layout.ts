/**
 * Buffer layouts shared by several kernels. The WGSL structs that mirror them must say
 * "mirrors app/gpu/layout.ts" and keep the same field order.
 *
 * DetectionRecords — written by the NMS + cross-class cap stage, read by the mask kernels
 * and read back to the CPU once a frame:
 *
 *   struct Header { count: u32, candidateCount: u32, _pad0: u32, _pad1: u32 }   // 16 bytes
 *   struct Record {                                                             // 32 bytes
 *     box: vec4<f32>,      // x1, y1, x2, y2, relative [0,1] to the model INPUT (after
 *                          // stretch or letterbox); mapped to image pixels by the mask
 *                          // kernels and on the CPU with the same input→image transform
 *     score: f32,          // class score after NMS
 *     classIndex: u32,     // 0-based foreground class (background excluded)
 *     sourceIndex: u32,    // prior / anchor index: row of the coefficients tensor
 *     maskArea: u32,       // set by maskUpsample: mask pixels at mask resolution
 *   }
 *   buffer = Header, then Record[maxDetections], sorted by score descending, `count` valid.
 *
 * candidateCount = how many priors passed the confidence threshold (for metrics).
 */
export const RECORD_HEADER_BYTES = 16;
export const RECORD_BYTES = 32;
export const RECORD_FLOATS = RECORD_BYTES / 4;

export function recordsBufferBytes(maxDetections: number): number {
  return RECORD_HEADER_BYTES + RECORD_BYTES * maxDetections;
}

/** Decoded view of a read-back DetectionRecords buffer. */
export interface DecodedRecord {
  box: [number, number, number, number];
  score: number;
  classIndex: number;
  sourceIndex: number;
  maskArea: number;
}

export function decodeRecords(bytes: ArrayBuffer): { candidateCount: number; records: DecodedRecord[] } {
  const u32 = new Uint32Array(bytes);
  const f32 = new Float32Array(bytes);
  const count = u32[0]!;
  const records: DecodedRecord[] = [];
  for (let n = 0; n < count; n++) {
    const o = RECORD_HEADER_BYTES / 4 + n * RECORD_FLOATS;
    records.push({
      box: [f32[o]!, f32[o + 1]!, f32[o + 2]!, f32[o + 3]!],
      score: f32[o + 4]!,
      classIndex: u32[o + 5]!,
      sourceIndex: u32[o + 6]!,
      maskArea: u32[o + 7]!,
    });
  }
  return { candidateCount: u32[1]!, records };
}

/**
 * Input→image transform: image pixel = (relative input coord · inputSize − offset) / gain.
 * Stretch (YOLACT): gain = (inputW / imageW, inputH / imageH), offset 0.
 * Letterbox (YOLO): gain = r for both axes, offset = (left pad, top pad) in input pixels.
 */
export interface InputTransform {
  inputWidth: number;
  inputHeight: number;
  gainX: number;
  gainY: number;
  offsetX: number;
  offsetY: number;
}
