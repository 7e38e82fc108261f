// Dropout, backward: dx[i] += keep(i) ? dout[i] / (1 - p) : 0 (accumulates), with the same mask as
// dropout_forward.wgsl regenerated from (seed, counter): u(seed, counter, i) = PCG hash, 24 bits.
//   dout, dx: (N). Bindings: 0 params {n, p, seed, counter}; 1 dout (read); 2 dx (read_write).
// Dispatch: ceil(N / 256) workgroups, split over x and y by grid().

struct Params { n: u32, p: f32, seed: u32, counter: u32 }
@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn keep_scale(i: u32) -> f32 {
  let u = f32(pcg(pcg(pcg(prm.seed) ^ prm.counter) ^ i) >> 8u) / 16777216.0;
  return select(0.0, 1.0 / (1.0 - prm.p), u >= prm.p);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= prm.n) { return; }
  dx[i] = dx[i] + dout[i] * keep_scale(i);
}
