// Second pass of the LoRA products that were split into chunks (lora_forward.wgsl over K, lora_backward.wgsl
// over N): adds the chunks' partial sums in chunk order (deterministic) onto the output.
//   out[i] = (accumulate ? out[i] : 0) + alpha * sum_{s < chunks} part[s * count + i]
//   out: (count) = the product's (rows, cols); part: (chunks, count).
// Bindings: 0 params {count, chunks, accumulate, alpha}; 1 part (read), 2 out (read_write).
// Dispatch: ceil(count / 256) workgroups split over x and y by grid(); one invocation per element.

struct Params {
  count: u32,
  chunks: u32,
  accumulate: u32,
  alpha: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.count) { return; }
  var acc = 0.0;
  for (var s = 0u; s < p.chunks; s++) {
    acc += part[s * p.count + i];
  }
  var prev = 0.0;
  if (p.accumulate != 0u) { prev = out[i]; }
  out[i] = prev + p.alpha * acc;
}
