// Global gradient L2 norm, stage 2 of 2: one workgroup sums every partial of grad_norm_partial.wgsl and
// writes the norm and the clipping factor:
//   norm = sqrt(sum of partials)
//   clipScale = clip != 0 ? min(1, maxNorm / (norm + 1e-6)) : 1
// Non-finite input: a NaN partial (a NaN or Inf gradient element) gives norm = NaN and clipScale = NaN;
// an Inf partial or total (finite gradients whose sum of squares overflows f32) gives norm = +Inf and
// clipScale = 0 (1 without clipping). These are written as bit patterns, never computed with Inf.
//   partials: (P) f32 as u32 bits    out: (2) f32 as u32 bits = [norm, clipScale]
// Bindings: 0 params {count, clip, maxNorm}; 1 partials (read), 2 out (read_write).
// Dispatch: 1 workgroup. Overwrites out[0..2]; saves nothing.

override WG: u32 = 256u;   // power of two

struct Params { count: u32, clip: u32, maxNorm: f32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> partials: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

var<workgroup> sh_sum: array<f32, WG>;
var<workgroup> sh_flags: array<u32, WG>;

const EXP_MASK: u32 = 0x7f800000u;
const MANT_MASK: u32 = 0x007fffffu;
const NAN_BITS: u32 = 0x7fc00000u;
const INF_BITS: u32 = 0x7f800000u;

// flags: bit 0 = some partial is NaN, bit 1 = some partial (or the total) is Inf
fn flags_of(bits: u32) -> u32 {
  if ((bits & EXP_MASK) != EXP_MASK) { return 0u; }
  return select(2u, 1u, (bits & MANT_MASK) != 0u);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  var flags = 0u;
  for (var i = lid; i < p.count; i += WG) {
    let bits = partials[i];
    let f = flags_of(bits);
    flags |= f;
    if (f == 0u) { s += bitcast<f32>(bits); }
  }
  sh_sum[lid] = s;
  sh_flags[lid] = flags;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (lid < k) {
      sh_sum[lid] += sh_sum[lid + k];
      sh_flags[lid] |= sh_flags[lid + k];
    }
    workgroupBarrier();
  }
  if (lid != 0u) { return; }
  let total = sh_sum[0];
  let f = sh_flags[0] | flags_of(bitcast<u32>(total));
  if ((f & 1u) != 0u) {
    out[0] = NAN_BITS;
    out[1] = NAN_BITS;
  } else if (f != 0u) {
    out[0] = INF_BITS;
    out[1] = bitcast<u32>(select(1.0, 0.0, p.clip != 0u));
  } else {
    let norm = sqrt(total);
    var scale = 1.0;
    if (p.clip != 0u) { scale = min(1.0, p.maxNorm / (norm + 1e-6)); }
    out[0] = bitcast<u32>(norm);
    out[1] = bitcast<u32>(scale);
  }
}
