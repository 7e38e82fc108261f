// Global gradient L2 norm, stage 1 of 2: partial sums of squares of one gradient tensor, one per
// workgroup, written at partials[offset + workgroup]. Run once per gradient tensor (each with its own
// offset), then grad_norm_final.wgsl reduces all partials; the order of every sum is fixed, so the result
// is deterministic.
//   grad: (N) f32    partials: (P) f32 values stored as u32 bits
//   partials[offset + w] = sum over x in chunk w of x * x, chunk w = grad[w * WG * ITEMS .. (w + 1) * WG * ITEMS)
// A NaN or Inf element makes its partial the NaN bit pattern 0x7fc00000 (detected from the exponent bits,
// which no compiler assumption about non-finite floats can fold away); a finite chunk whose sum of squares
// overflows f32 stores +Inf, as a float32 accumulation would.
// Bindings: 0 params {n, offset}; 1 grad (read), 2 partials (read_write, u32 bits).
// Dispatch: ceil(N / (WG * ITEMS)) workgroups, split over x and y by grid().
// Overwrites its partials; saves nothing.

override WG: u32 = 256u;     // power of two
override ITEMS: u32 = 16u;   // elements per invocation

struct Params { n: u32, offset: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<u32>;

var<workgroup> sh_sum: array<f32, WG>;
var<workgroup> sh_bad: array<u32, WG>;

const EXP_MASK: u32 = 0x7f800000u;
const NAN_BITS: u32 = 0x7fc00000u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x;
  let start = w * WG * ITEMS;
  if (start >= p.n) { return; }   // uniform: the whole workgroup leaves together
  var s = 0.0;
  var bad = 0u;
  for (var j = 0u; j < ITEMS; j++) {
    let i = start + j * WG + lid;
    if (i < p.n) {
      let x = grad[i];
      bad |= select(0u, 1u, (bitcast<u32>(x) & EXP_MASK) == EXP_MASK);
      s += x * x;
    }
  }
  sh_sum[lid] = s;
  sh_bad[lid] = bad;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (lid < k) {
      sh_sum[lid] += sh_sum[lid + k];
      sh_bad[lid] |= sh_bad[lid + k];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    partials[p.offset + w] = select(bitcast<u32>(sh_sum[0]), NAN_BITS, sh_bad[0] != 0u);
  }
}
