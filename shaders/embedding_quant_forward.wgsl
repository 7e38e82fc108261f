// Embedding lookup from a frozen table kept in a ggml block format (as matmul_quant_forward.wgsl):
//   out[n, c] = table[ids[n], c] * SCALE     ids (N) u32, table (V, C) as (V, C / QK * WPB) u32, out (N, C) f32
// SCALE (override, default 1): Gemma multiplies its embeddings by sqrt(C). An id >= V yields a row of zeros.
// Bindings: 0 params {n_tokens, C, V}; 1 ids (read), 2 w (read, u32: the table), 3 out (read_write; overwritten).
// Dispatch: ceil(N*C / 256) workgroups, split over x and y by grid(). Override: QTYPE (ggml type id), SCALE.
// No backward kernel: the ids are integers and the quantised table is frozen.

struct Params { n_tokens: u32, C: u32, V: u32 }
@group(0) @binding(0) var<uniform> p: Params;

override SCALE: f32 = 1.0;

@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

//#include ggml_dequant

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  q_begin(p.V, p.C); // NF4_DQ: where the side region starts (lib/ggml_dequant.wgsl)
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n_tokens * p.C) { return; }
  let n = i / p.C;
  let c = i - n * p.C;
  let id = ids[n];
  var v = 0.0;
  if (id < p.V) {
    let qk = q_block_size();
    let b = c / qk;
    v = q_value((id * (p.C / qk) + b) * q_block_words(), c - b * qk);
  }
  out[i] = v * SCALE;
}
