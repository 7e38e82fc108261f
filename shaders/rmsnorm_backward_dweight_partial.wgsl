// RMSNorm, backward, stage 2: per-chunk partial sums of the weight gradient (deterministic: no atomics;
// each invocation owns one output element and sums its chunk's rows in order).
//   partial[k, c] = sum over rows n of chunk k of dout[n, c] * x[n, c] * rstd[n]
//   chunk k = rows [k * rows_per_chunk, min((k + 1) * rows_per_chunk, N))
//   dout, x: (N, C); rstd: (N); partial: (n_chunks, C), overwritten
// Bindings: 0 params {n_rows, C, rows_per_chunk}; 1 dout (read), 2 x (read), 3 rstd (read), 4 partial (write).
// Dispatch: (ceil(C / WG), n_chunks) workgroups; x walks the columns, y the chunks.

struct Params { n_rows: u32, C: u32, rows_per_chunk: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> partial: array<f32>;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let C = p.C;
  let c = wid.x * WG + lid;
  if (c >= C) { return; }
  let chunk = wid.y;
  let start = chunk * p.rows_per_chunk;
  let end = min(start + p.rows_per_chunk, p.n_rows);
  var acc = 0.0;
  for (var n = start; n < end; n++) {
    acc += dout[n * C + c] * x[n * C + c] * rstd[n];
  }
  partial[chunk * C + c] = acc;
}
