// Radix select — the k largest of m unique 64-bit keys, gathered into sort_keys' keyHi /
// keyLo (unordered; `sortKeysDescending` orders them). Used by class_topk (one class a
// workgroup) and rpn_top_n (one RPN level a workgroup).
// Most significant 8-bit digit first (hi's 4 digits, then lo's), a pass builds a 256-bin
// histogram (workgroup atomics) of the keys that still match the prefix fixed so far, then
// one invocation walks the bins from the top to find the bin holding the k-th key and
// extends the prefix by it. It stops as soon as that bin holds exactly the keys still needed
// (with random scores: after 2–3 passes); at the latest after `passes` digits, when the bin
// holds one key. A key is then selected iff (key & mask) ≥ prefix, lexicographically on
// (hi, lo): exactly k keys.
// Index keys: the users' keys order like (value desc, index asc), hi = the value made
// orderable (sort_keys' `orderable`), lo = `indexKeyLo(index, n, indexBits)` = (n − 1 −
// index) << (32 − indexBits) for indices < n ≤ 2^indexBits: the lower index gives the larger
// key, and the index's significant bits sit at the top of lo, so each 8-bit digit pass is
// informative and the select needs at most 4 + ceil(indexBits / 8) passes.
// The including kernel includes sort_keys and defines `fn selectKey(j: u32) -> vec2<u32>`,
// the key of entry j < m of the workgroup's list.

const RADIX_BINS: u32 = 256u;

var<workgroup> histogram: array<atomic<u32>, RADIX_BINS>;
var<workgroup> gathered: atomic<u32>;
// Radix-select state, written by invocation 0 between barriers.
var<workgroup> prefixHi: u32;
var<workgroup> prefixLo: u32;
var<workgroup> maskHi: u32;
var<workgroup> maskLo: u32;
var<workgroup> remaining: u32;
var<workgroup> selectDone: u32;

// (key & mask) ≥ prefix, lexicographically on (hi, lo).
fn atOrAbovePrefix(key: vec2<u32>) -> bool {
  let h = key.x & maskHi;
  if (h != prefixHi) {
    return h > prefixHi;
  }
  return (key.y & maskLo) >= prefixLo;
}

fn matchesPrefix(key: vec2<u32>) -> bool {
  return (key.x & maskHi) == prefixHi && (key.y & maskLo) == prefixLo;
}

// lo of the index key of entry `index` < n (above).
fn indexKeyLo(index: u32, n: u32, indexBits: u32) -> u32 {
  return (n - 1u - index) << (32u - indexBits);
}

// Inverse of `indexKeyLo`.
fn indexFromKeyLo(lo: u32, n: u32, indexBits: u32) -> u32 {
  return n - 1u - (lo >> (32u - indexBits));
}

// Gathers the min(k, m) largest index keys of selectKey(0 … m − 1) into keyHi / keyLo
// [0, count) and returns count. m, k and indexBits are the same in every invocation.
fn selectLargestKeys(tid: u32, m: u32, k: u32, indexBits: u32) -> u32 {
  // 4 digits of hi, then the bytes of lo that can differ.
  let passes = 4u + (indexBits + 7u) / 8u;
  let count = min(k, m);
  if (tid == 0u) {
    prefixHi = 0u;
    prefixLo = 0u;
    maskHi = 0u;
    maskLo = 0u;
    remaining = count;
    // Not more keys than k: all of them are selected, no search needed (k = 0: none).
    selectDone = select(0u, 1u, m <= k || k == 0u);
    atomicStore(&gathered, 0u);
  }
  for (var digit = 0u; digit < passes; digit++) {
    if (workgroupUniformLoad(&selectDone) == 1u) {
      break;
    }
    for (var b = tid; b < RADIX_BINS; b += WORKGROUP) {
      atomicStore(&histogram[b], 0u);
    }
    workgroupBarrier();
    let onHi = digit < 4u;
    let shift = 24u - 8u * (digit % 4u);
    for (var j = tid; j < m; j += WORKGROUP) {
      let key = selectKey(j);
      if (matchesPrefix(key)) {
        let word = select(key.y, key.x, onHi);
        atomicAdd(&histogram[(word >> shift) & 0xffu], 1u);
      }
    }
    workgroupBarrier();
    if (tid == 0u) {
      var need = remaining;
      var bin = RADIX_BINS - 1u;
      loop {
        let h = atomicLoad(&histogram[bin]);
        if (h >= need || bin == 0u) {
          selectDone = select(0u, 1u, h == need);
          break;
        }
        need -= h;
        bin -= 1u;
      }
      remaining = need;
      if (onHi) {
        prefixHi |= bin << shift;
        maskHi |= 0xffu << shift;
      } else {
        prefixLo |= bin << shift;
        maskLo |= 0xffu << shift;
      }
    }
  }
  workgroupBarrier();
  for (var j = tid; j < m; j += WORKGROUP) {
    let key = selectKey(j);
    if (atOrAbovePrefix(key)) {
      let slot = atomicAdd(&gathered, 1u);
      if (slot < SORT_CAPACITY) {
        keyHi[slot] = key.x;
        keyLo[slot] = key.y;
      }
    }
  }
  workgroupBarrier();
  return count;
}
