// Backward of logprob_chunk_wide_forward.wgsl (the same function as logprob_chunk_backward.wgsl) for one
// vocabulary chunk, columns [v0, v0 + vc), with vc a multiple of 4: four neighbouring columns of a row per
// invocation, read and written as vec4s. The entropy is a metric: no gradient. lse comes from the
// forward's last chunk.
//   p_j = exp(chunk[n, j] / temperature - lse[n])
//   dchunk[n, j] = dlogp[n] * (1[v0 + j == targets[n]] - p_j) / temperature   (0 for the row when targets[n] >= v)
// Shapes: dchunk, chunk (N, vc) (read as (N, vc / 4) vec4s); dlogp, lse (N); targets (N) u32.
// Bindings: 0 params {total4 = N * vc / 4, vc, v0, v, temperature}; 1 dlogp (read), 2 chunk (read),
//   3 targets (read), 4 lse (read), 5 dchunk (write: overwritten).
// Dispatch: one invocation per vec4, ceil(total4 / 256) workgroups split over x and y by grid().

struct Params {
  total4: u32,
  vc: u32,
  v0: u32,
  v: u32,
  temperature: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dlogp: array<f32>;
@group(0) @binding(2) var<storage, read> chunk: array<vec4f>;
@group(0) @binding(3) var<storage, read> targets: array<u32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read_write> dchunk: array<vec4f>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.total4) { return; }
  let row = (4u * i) / p.vc;
  let j = (4u * i) % p.vc;
  let tgt = targets[row];
  var g = vec4f(0.0);
  if (tgt < p.v) {
    let prob = exp(chunk[i] / p.temperature - lse[row]);
    let cols = vec4u(p.v0 + j) + vec4u(0u, 1u, 2u, 3u);
    let hit = select(vec4f(0.0), vec4f(1.0), cols == vec4u(tgt));
    g = dlogp[row] * (hit - prob) / p.temperature;
  }
  dchunk[i] = g;
}
