// RMSNorm, backward, stage 3: sums the per-chunk partials of the weight gradient in chunk order.
//   dweight[c] += sum_k partial[k, c]          partial: (n_chunks, C); dweight: (C)
// ACCUMULATES into dweight (+=). One invocation owns each column: deterministic.
// Bindings: 0 params {n_chunks, C}; 1 partial (read), 2 dweight (read_write).
// Dispatch: ceil(C / 256) workgroups, split over x and y by grid().

struct Params { n_chunks: u32, C: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> dweight: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (c >= p.C) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.n_chunks; k++) {
    acc += partial[k * p.C + c];
  }
  dweight[c] = dweight[c] + acc;
}
