// UNFUSED REFERENCE: production dispatches rmsnorm_backward instead (it accumulates into the residual
// stream's gradient); this kernel is kept as a checked reference (src/selftest), not called by src/model.
// In-place accumulate: acc[i] += b[i]. Used for residual streams and for summing gradients that reach
// one tensor along several paths (deterministic: each element is written by one invocation).
//   b, acc: (N)
// Bindings: 0 params {n}; 1 b (read); 2 acc (read_write).
// Dispatch: ceil(N / WG) workgroups, split over x and y by grid().

struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> acc: array<f32>;

override WG: u32 = 256u; // invocations per workgroup (the host picks 64 on software adapters)

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  acc[i] = acc[i] + b[i];
}
