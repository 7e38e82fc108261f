// Rotary position embedding of q and k together, backward: rope_backward.wgsl applied to both gradients
// in one dispatch (the transposed rotation, by -angle):
//   dx[a] =  dout[a] * cos(angle) + dout[b] * sin(angle)
//   dx[b] = -dout[a] * sin(angle) + dout[b] * cos(angle)
// convention 0 'interleaved': a = 2i, b = 2i + 1; convention 1 'half': a = i, b = i + HS/2.
//   dqr, dq: (N, NH*HS); dkr, dk: (N, NKV*HS); positions: (N) u32; inv_freq: (HS/2). OVERWRITES dq and dk.
// Same cos_sin and arithmetic as rope_backward.wgsl, so bit-for-bit its results.
// Bindings: 0 params {q_pairs = N*NH*HS/2, k_pairs = N*NKV*HS/2, n_q_heads, n_k_heads, head_dim, convention};
// 1 dqr (read), 2 dkr (read), 3 positions (read), 4 inv_freq (read), 5 dq (write), 6 dk (write).
// Dispatch: ceil((q_pairs + k_pairs) / WG) workgroups, split over x and y by grid(); invocations below
// q_pairs handle a pair of dq, the rest a pair of dk.

struct Params { q_pairs: u32, k_pairs: u32, n_q_heads: u32, n_k_heads: u32, head_dim: u32, convention: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dqr: array<f32>;
@group(0) @binding(2) var<storage, read> dkr: array<f32>;
@group(0) @binding(3) var<storage, read> positions: array<u32>;
@group(0) @binding(4) var<storage, read> inv_freq: array<f32>;
@group(0) @binding(5) var<storage, read_write> dq: array<f32>;
@group(0) @binding(6) var<storage, read_write> dk: array<f32>;

override WG: u32 = 256u; // invocations per workgroup (the host picks 64 on software adapters)

const INV_TWO_PI: f32 = 0.15915493667125702;
const TWO_PI_A: f32 = 6.28125; // 8 significant bits: k * TWO_PI_A is exact for k < 2^16 (|angle| < 4e5)
const TWO_PI_B: f32 = 0.0019353071693331003;
const TWO_PI_C: f32 = 1.0253131677018246e-11;
const TWO_OVER_PI: f32 = 0.6366197723675814;
const HALF_PI_A: f32 = 1.5703125; // 8 significant bits
const HALF_PI_B: f32 = 4.838267923332751e-4;
const HALF_PI_C: f32 = 2.5632829192545615e-12;

// (cos(a), sin(a)) to about 1 ulp for |a| < 4e5, from +, -, * only: builtin cos/sin promise just 2^-11
// absolute error, and only within [-pi, pi] (SwiftShader's are off by 2e-4 there).
fn cos_sin(a: f32) -> vec2f {
  // a = 2 pi k + r, |r| <= pi (Cody-Waite: each k * part is exact or carries a tiny error)
  let k = round(a * INV_TWO_PI);
  let r = ((a - k * TWO_PI_A) - k * TWO_PI_B) - k * TWO_PI_C;
  // r = j pi/2 + y, |y| <= pi/4, j in -2..2
  let j = round(r * TWO_OVER_PI);
  let y = ((r - j * HALF_PI_A) - j * HALF_PI_B) - j * HALF_PI_C;
  // Cephes sinf/cosf minimax polynomials on [-pi/4, pi/4]
  let z = y * y;
  let s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * y + y;
  let c = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
  let q = (i32(j) + 4) % 4;
  if (q == 0) { return vec2f(c, s); }
  if (q == 1) { return vec2f(-s, c); }
  if (q == 2) { return vec2f(-c, -s); }
  return vec2f(s, -c);
}

fn src_val(is_k: bool, idx: u32) -> f32 {
  if (is_k) { return dkr[idx]; }
  return dqr[idx];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = (wid.x + wid.y * nwg.x) * WG + lid;
  if (item >= p.q_pairs + p.k_pairs) { return; }
  let is_k = item >= p.q_pairs;
  let pair = select(item, item - p.q_pairs, is_k);
  let n_heads = select(p.n_q_heads, p.n_k_heads, is_k);
  let half_hs = p.head_dim / 2u;
  let i = pair % half_hs;
  let head = pair / half_hs; // over all rows: n * heads + h
  let n = head / n_heads;
  let base = head * p.head_dim;
  var a = base + i;
  var b = base + i + half_hs;
  if (p.convention == 0u) {
    a = base + 2u * i;
    b = a + 1u;
  }
  let cs = cos_sin(f32(positions[n]) * inv_freq[i]);
  let c = cs.x;
  let s = cs.y;
  let ga = src_val(is_k, a);
  let gb = src_val(is_k, b);
  let ya = ga * c + gb * s;
  let yb = gb * c - ga * s;
  if (is_k) {
    dk[a] = ya;
    dk[b] = yb;
  } else {
    dq[a] = ya;
    dq[b] = yb;
  }
}
