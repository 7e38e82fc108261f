// Embedding lookup from a frozen table stored in 16 bits (two values per u32, as matmul_packed16_forward.wgsl):
//   out[n, c] = table[ids[n], c] * SCALE     ids (N) u32, table (V, C) as (V, C / 2) u32, out (N, C) f32
// FORMAT 0 = bfloat16, 1 = IEEE half. SCALE (override, default 1): Gemma multiplies its embeddings by sqrt(C). An id >= V yields a row of zeros. C must be even.
// Bindings: 0 params {n_tokens, C, V}; 1 ids (read), 2 table (read, u32), 3 out (write; overwritten).
// Dispatch: ceil(N*C / 256) workgroups, split over x and y by grid().
// No backward kernel: the ids are integers and the 16-bit table is frozen (full-weight training keeps f32
// weights and uses embedding_forward.wgsl / embedding_backward_*.wgsl).

struct Params { n_tokens: u32, C: u32, V: u32 }
@group(0) @binding(0) var<uniform> p: Params;

override FORMAT: u32 = 0u;
override SCALE: f32 = 1.0;

@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn unpack(u: u32) -> vec2f {
  if (FORMAT == 1u) { return unpack2x16float(u); }
  return vec2f(bitcast<f32>(u << 16u), bitcast<f32>(u & 0xffff0000u));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n_tokens * p.C) { return; }
  let n = i / p.C;
  let c = i - n * p.C;
  let id = ids[n];
  var v = 0.0;
  if (id < p.V) {
    let pair = unpack(table[(id * p.C + c) / 2u]);
    v = select(pair.x, pair.y, (c & 1u) == 1u);
  }
  out[i] = v * SCALE;
}
