// Snippet (not a kernel): the deterministic tree sum over a workgroup that the one-row-per-workgroup
// kernels use (rmsnorm_forward, add_rmsnorm_forward, rmsnorm_backward), so that they reduce in the same
// order and agree bit for bit. The including kernel declares `override WG: u32`, a power of two.

var<workgroup> wg_sum_scratch: array<f32, WG>;

// The sum of v over the WG invocations of the workgroup, pairwise in a fixed order. Every invocation
// must call it (it holds barriers) and each gets the same value.
fn workgroup_sum(lid: u32, v: f32) -> f32 {
  wg_sum_scratch[lid] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { wg_sum_scratch[lid] += wg_sum_scratch[lid + stride]; }
    workgroupBarrier();
  }
  return wg_sum_scratch[0];
}
