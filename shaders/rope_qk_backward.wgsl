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

//#include rope_cos_sin

struct Params { q_pairs: u32, k_pairs: u32, n_q_heads: u32, n_k_heads: u32, head_dim: u32, convention: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dqr: array<f32>;
@group(0) @binding(2) var<storage, read> dkr: array<f32>;
@group(0) @binding(3) var<storage, read> positions: array<u32>;
@group(0) @binding(4) var<storage, read> inv_freq: array<f32>;
@group(0) @binding(5) var<storage, read_write> dq: array<f32>;
@group(0) @binding(6) var<storage, read_write> dk: array<f32>;

override WG: u32 = 256u; // invocations per workgroup (the host picks 64 on software adapters)


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
