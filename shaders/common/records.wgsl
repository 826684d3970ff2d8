// DetectionRecords (app/gpu/layout.ts): a 16-byte header, then the records sorted by score,
// `count` of them valid. Include record.wgsl or record_atomic_area.wgsl before it.
struct Records {
  count: u32,
  candidateCount: u32,
  _pad0: u32,
  _pad1: u32,
  items: array<Record>,
}
