// Rotary position embedding of q and k together, forward: rope_forward.wgsl applied to both in one
// dispatch (the training forward rotates q and k with the same positions; one dispatch instead of two).
// Pair i of a head (i < HS/2) rotates by angle = f32(positions[n]) * inv_freq[i]:
//   out[a] = x[a] * cos(angle) - x[b] * sin(angle)
//   out[b] = x[a] * sin(angle) + x[b] * cos(angle)
// convention 0 'interleaved': a = 2i, b = 2i + 1; convention 1 'half': a = i, b = i + HS/2.
//   q, qr: (N, NH*HS); k, kr: (N, NKV*HS); positions: (N) u32; inv_freq: (HS/2). Overwrites qr and kr.
// Same cos_sin and arithmetic as rope_forward.wgsl, so bit-for-bit its results. Backward:
// rope_qk_backward.wgsl.
// Bindings: 0 params {q_pairs = N*NH*HS/2, k_pairs = N*NKV*HS/2, n_q_heads, n_k_heads, head_dim, convention};
// 1 q (read), 2 k (read), 3 positions (read), 4 inv_freq (read), 5 qr (write), 6 kr (write).
// Dispatch: ceil((q_pairs + k_pairs) / WG) workgroups, split over x and y by grid(); invocations below
// q_pairs rotate a pair of q, the rest a pair of k.

//#include rope_cos_sin

struct Params { q_pairs: u32, k_pairs: u32, n_q_heads: u32, n_k_heads: u32, head_dim: u32, convention: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> positions: array<u32>;
@group(0) @binding(4) var<storage, read> inv_freq: array<f32>;
@group(0) @binding(5) var<storage, read_write> qr: array<f32>;
@group(0) @binding(6) var<storage, read_write> kr: array<f32>;

override WG: u32 = 256u; // invocations per workgroup (the host picks 64 on software adapters)


fn src_val(is_k: bool, idx: u32) -> f32 {
  if (is_k) { return k[idx]; }
  return q[idx];
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
  let xa = src_val(is_k, a);
  let xb = src_val(is_k, b);
  let ya = xa * c - xb * s;
  let yb = xa * s + xb * c;
  if (is_k) {
    kr[a] = ya;
    kr[b] = yb;
  } else {
    qr[a] = ya;
    qr[b] = yb;
  }
}
