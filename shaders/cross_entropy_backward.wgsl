// Backward of cross_entropy_forward.wgsl with respect to the logits.
//   dlogits[n, j] = dloss[n] * (exp(logits[n, j] - lse[n]) - 1[j == targets[n]])   (0 for the whole row when
//   targets[n] >= V, i.e. ignored)
// Shapes: dlogits, logits (N, V); dloss, lse (N); targets (N) u32.
// Bindings: 0 params {total = N * V, v}; 1 dloss (read), 2 logits (read), 3 targets (read), 4 lse (read),
//   5 dlogits (write: overwritten).
// Dispatch: one invocation per element, ceil(N * V / 256) workgroups split over x and y by grid().

struct Params {
  total: u32,
  v: u32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dloss: array<f32>;
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
    let prob = exp(logits[i] - lse[row]);
    g = dloss[row] * (prob - select(0.0, 1.0, j == tgt));
  }
  dlogits[i] = g;
}
