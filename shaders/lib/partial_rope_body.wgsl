// Partial RoPE, one invocation per output element: shared by shaders/partial_rope_forward.wgsl (SIGN = 1, the
// rotation) and shaders/partial_rope_backward.wgsl (SIGN = -1, the transposed rotation). The includer declares
// Params {N, heads, HS, R}, the bindings p, x, positions, inv_freq, out, includes rope_cos_sin, and sets SIGN.
// Shapes: x, out (N, heads*HS); positions (N) u32; inv_freq (R/2).

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (idx >= p.N * p.heads * p.HS) { return; }
  let e = idx % p.HS;
  let base = idx - e;
  if (e >= p.R) {
    out[idx] = x[idx];
    return;
  }
  let half = p.R / 2u;
  let i = e % half;
  let n = idx / (p.heads * p.HS);
  let cs = cos_sin(f32(positions[n]) * inv_freq[i]);
  let s = SIGN * cs.y;
  let xa = x[base + i];
  let xb = x[base + i + half];
  if (e < half) {
    out[idx] = xa * cs.x - xb * s;
  } else {
    out[idx] = xa * s + xb * cs.x;
  }
}
