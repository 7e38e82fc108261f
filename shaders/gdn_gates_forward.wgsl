// Gated DeltaNet gates, forward (Qwen3.5's linear layers; CPU reference src/reference/gdn_gates.ts):
//   beta = sigmoid(b);   g = -exp(A_log[h]) * softplus(a + dt_bias[h])   (softplus(x) = x above 20, as torch)
// Shapes: b, a (N, NV) (in_proj_b, in_proj_a outputs), N = B*T; a_log, dt_bias (NV); gb (N, NV, 2): g then beta,
//   the packed layout gated_delta_forward reads. With has_lens, tokens t >= lens[b] (right padding of a prefill)
//   get g = 0 and beta = 0: the delta rule then leaves the state as the row's last real token left it.
// Bindings: 0 params {N, NV, T, has_lens}; 1 b (read), 2 a (read), 3 a_log (read), 4 dt_bias (read),
//   5 lens (read) (B) u32, 6 gb (write). Overwrites gb.
// Dispatch: ceil(N * NV / 256) workgroups, split by grid().

struct Params { N: u32, NV: u32, T: u32, has_lens: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> a_log: array<f32>;
@group(0) @binding(4) var<storage, read> dt_bias: array<f32>;
@group(0) @binding(5) var<storage, read> lens: array<u32>;
@group(0) @binding(6) var<storage, read_write> gb: array<f32>;

//#include gdn_gates_common

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.N * p.NV) { return; }
  let h = i % p.NV;
  let n = i / p.NV;
  if (p.has_lens != 0u && n % p.T >= lens[n / p.T]) {
    gb[i * 2u] = 0.0;
    gb[i * 2u + 1u] = 0.0;
    return;
  }
  gb[i * 2u] = -exp(a_log[h]) * softplus(a[i] + dt_bias[h]);
  gb[i * 2u + 1u] = sigmoid(b[i]);
}
