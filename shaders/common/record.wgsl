// One detection of DetectionRecords (app/gpu/layout.ts): 32 bytes.
struct Record {
  box: vec4<f32>,
  score: f32,
  classIndex: u32,
  sourceIndex: u32,
  maskArea: u32,
}
