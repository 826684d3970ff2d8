// Sort keys — 64-bit keys (hi, lo) in workgroup memory, sorted descending by a bitonic
// sort (class_topk, rpn_top_n, maskrcnn_box_decode). hi is usually a score made orderable
// (`orderable`: f32 bits → u32 with the same order, negatives reversed below positives), lo
// an index made so that the lower index gives the larger key.
// The including kernel declares `const WORKGROUP: u32` (its workgroup size) and
// `const SORT_CAPACITY: u32` (a power of two: the most keys one workgroup sorts).

var<workgroup> keyHi: array<u32, SORT_CAPACITY>;
var<workgroup> keyLo: array<u32, SORT_CAPACITY>;

fn orderable(value: f32) -> u32 {
  let bits = bitcast<u32>(value);
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

// Inverse of `orderable`.
fn valueFromKey(hi: u32) -> f32 {
  return bitcast<f32>(select(~hi, hi & 0x7fffffffu, (hi & 0x80000000u) != 0u));
}

// Sorts keys [0, count) descending (count ≤ SORT_CAPACITY, the same in every invocation),
// padding up to the next power of two with (0, 0) keys, which sort last.
fn sortKeysDescending(tid: u32, count: u32) {
  var size = 1u;
  while (size < count) {
    size <<= 1u;
  }
  for (var i = count + tid; i < size; i += WORKGROUP) {
    keyHi[i] = 0u;
    keyLo[i] = 0u;
  }
  workgroupBarrier();
  for (var block = 2u; block <= size; block <<= 1u) {
    for (var stride = block >> 1u; stride > 0u; stride >>= 1u) {
      for (var i = tid; i < size; i += WORKGROUP) {
        let partner = i ^ stride;
        if (partner > i) {
          let a = vec2<u32>(keyHi[i], keyLo[i]);
          let b = vec2<u32>(keyHi[partner], keyLo[partner]);
          let aBelowB = a.x < b.x || (a.x == b.x && a.y < b.y);
          // Descending runs where (i & block) == 0, ascending otherwise.
          let swap = select(!aBelowB && (a.x != b.x || a.y != b.y), aBelowB, (i & block) == 0u);
          if (swap) {
            keyHi[i] = b.x;
            keyLo[i] = b.y;
            keyHi[partner] = a.x;
            keyLo[partner] = a.y;
          }
        }
      }
      workgroupBarrier();
    }
  }
}
