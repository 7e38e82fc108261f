// UNFUSED REFERENCE: production dispatches add_rmsnorm_forward instead (residual add and RMSNorm in one
// dispatch); this kernel is kept as what that is checked against (src/selftest), not called by src/model.
// Residual add (elementwise). Its backward is the identity (dout flows to both inputs), so it has no
// _backward file; gradient sums use residual_add_inplace.wgsl.
//   out[i] = a[i] + b[i]           a, b, out: (N)
// Bindings: 0 params {n}; 1 a (read), 2 b (read), 3 out (write).
// Dispatch: ceil(N / WG) workgroups, split over x and y by grid().

struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

override WG: u32 = 256u; // invocations per workgroup (the host picks 64 on software adapters)

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  out[i] = a[i] + b[i];
}
