// Backward of logprob_gather_forward.wgsl with respect to the logits (the entropy is a metric: no gradient).
//   p_j = exp(logits[n, j] / temperature - lse[n])
//   dlogits[n, j] = dlogp[n] * (1[j == targets[n]] - p_j) / temperature     (0 for the whole row when targets[n] >= V)
// Shapes: dlogits, logits (N, V); dlogp, lse (N); targets (N) u32.
// Bindings: 0 params {total = N * V, v, temperature}; 1 dlogp (read), 2 logits (read), 3 targets (read),
//   4 lse (read), 5 dlogits (write: overwritten).
// Dispatch: one invocation per element, ceil(N * V / 256) workgroups split over x and y by grid().

struct Params {
  total: u32,
  v: u32,
  temperature: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dlogp: array<f32>;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read> targets: array<u32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.total) { return; }
  let row = i / p.v;
  let j = i % p.v;
  let tgt = targets[row];
  var g = 0.0;
  if (tgt < p.v) {
    let prob = exp(logits[i] / p.temperature - lse[row]);
    let hit = select(0.0, 1.0, j == tgt);
    g = dlogp[row] * (hit - prob) / p.temperature;
  }
  dlogits[i] = g;
}
