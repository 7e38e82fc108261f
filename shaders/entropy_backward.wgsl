// Backward of the entropy that logprob_gather_forward.wgsl computes (its forward), for the entropy bonus
// (entropy_coef): with z = logits[n] / temperature, p = softmax(z), H_n = -sum_j p_j log p_j,
//   d H_n / d logits[n, j] = -p_j * (log p_j + H_n) / temperature,   log p_j = z_j - lse[n]
//   dlogits[n, j] += dentropy[n] * d H_n / d logits[n, j]             (ACCUMULATES into dlogits; rows with
//                                                                       dentropy 0 are left as they are)
// Shapes: dlogits, logits (N, V); dentropy, lse, entropy (N).
// Bindings: 0 params {total = N * V, v, temperature}; 1 dentropy; 2 logits; 3 lse; 4 entropy; 5 dlogits (read_write).
// Dispatch: one invocation per element, ceil(N * V / 256) workgroups split over x and y by grid().

struct Params {
  total: u32,
  v: u32,
  temperature: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dentropy: array<f32>;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read> entropy: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.total) { return; }
  let row = i / p.v;
  let d = dentropy[row];
  if (d == 0.0) { return; }
  let logprob = logits[i] / p.temperature - lse[row];
  let prob = exp(logprob);
  dlogits[i] = dlogits[i] - d * prob * (logprob + entropy[row]) / p.temperature;
}
