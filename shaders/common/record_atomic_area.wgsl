// One detection of DetectionRecords (app/gpu/layout.ts), for the kernels that count mask
// pixels: record.wgsl's layout, maskArea accumulated atomically.
struct Record {
  box: vec4<f32>,
  score: f32,
  classIndex: u32,
  sourceIndex: u32,
  maskArea: atomic<u32>,
}
