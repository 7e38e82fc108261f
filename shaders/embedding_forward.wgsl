// Embedding lookup, forward: each token's row of the table.
//   out[n, c] = table[ids[n], c] * SCALE        ids: (N) u32, table: (V, C), out: (N, C)
// SCALE (override, default 1): Gemma multiplies its embeddings by sqrt(C).
// An id >= V yields a row of zeros (the host cannot check ids without a readback).
// Bindings: 0 params {n_tokens, C, V}; 1 ids (read), 2 table (read), 3 out (write; overwritten).
// Dispatch: ceil(N*C / 256) workgroups, split over x and y by grid().
// Saves nothing for backward: embedding_backward needs only ids.

struct Params { n_tokens: u32, C: u32, V: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

override SCALE: f32 = 1.0;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n_tokens * p.C) { return; }
  let n = i / p.C;
  let c = i - n * p.C;
  let id = ids[n];
  var v = 0.0;
  if (id < p.V) { v = table[id * p.C + c]; }
  out[i] = v * SCALE;
}
