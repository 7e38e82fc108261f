// UNFUSED REFERENCE: production dispatches rope_qk_forward and rope_kv_cache_write instead; this kernel is kept as what those
// are checked against bit for bit (src/selftest), and is not called by src/model.
// Rotary position embedding, forward. Rows are tokens; each row holds NH heads of HS channels.
// Pair i of a head (i < HS/2) rotates by angle = f32(positions[n]) * inv_freq[i]:
//   out[a] = x[a] * cos(angle) - x[b] * sin(angle)
//   out[b] = x[a] * sin(angle) + x[b] * cos(angle)
// convention 0 'interleaved' (llama2.c): a = 2i, b = 2i + 1; convention 1 'half' (Hugging Face
// rotate-half): a = i, b = i + HS/2 (offsets within the head).
//   x, out: (N, NH*HS); positions: (N) u32; inv_freq: (HS/2). Overwrites out. Saves nothing.
// cos and sin are computed by cos_sin below (range reduction + polynomials), not the builtins: angles
// reach thousands of radians at long positions, and the builtins are loose even within [-pi, pi].
// Bindings: 0 params {n_pairs, n_heads, head_dim, convention}; 1 x (read), 2 positions (read),
// 3 inv_freq (read), 4 out (write).
// Dispatch: ceil(N*NH*HS/2 / 256) workgroups (one invocation per pair), split over x and y by grid().

//#include rope_cos_sin

struct Params { n_pairs: u32, n_heads: u32, head_dim: u32, convention: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<storage, read> inv_freq: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let q = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (q >= p.n_pairs) { return; }
  let half_hs = p.head_dim / 2u;
  let i = q % half_hs;
  let head = q / half_hs; // over all rows: n * NH + h
  let n = head / p.n_heads;
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
  let xa = x[a];
  let xb = x[b];
  out[a] = xa * c - xb * s;
  out[b] = xa * s + xb * c;
}
