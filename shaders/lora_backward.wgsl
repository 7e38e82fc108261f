// LoRA weight gradients: a product reduced over the N rows, split into chunks of rows so that long N still
// gives many invocations without float atomics (lora_forward_reduce.wgsl then adds the chunks in order).
//   part[s, m, c] = (accumulate ? part[s, m, c] : 0) + alpha * sum_{n in chunk s} g[n, m] * v[n, c]
//   g: (N, M) row-major; v: (N, C) row-major; part: (S, M, C), chunk s = rows [s * rowsPerChunk, (s+1) * rowsPerChunk).
// Uses (PEFT layout: A (R, IN), B (OUT, R); dh = scale * dy B comes from lora_forward.wgsl):
//   dB += scale * dy^T h    g = dy (N, OUT), v = h (N, R),  M = OUT, C = R
//   dA += dh^T x            g = dh (N, R),   v = x (N, IN), M = R,   C = IN
//   With one chunk (S = 1) `part` is dB / dA itself (accumulate 1, alpha = the gradient's factor); with
//   several the host writes a scratch (accumulate 0, alpha 1) and reduces it onto the gradient afterwards.
// Bindings: 0 params {n, m, c, rowsPerChunk, blocksC, blocks, chunks, accumulate, alpha}; 1 g (read),
//   2 v (read), 3 part (read_write).
// Dispatch: one invocation per (chunk, 4 x 4 output block): `blocks` blocks per chunk, numbered row-major
//   (blocksC per row of blocks); ceil(blocks * chunks / 64) workgroups split over x and y by grid().
//   Each invocation sums its rows in order (deterministic; the 4 x 4 block is shaders/lib/lora_block4.wgsl); no
//   workgroup memory or barriers. Rows and columns past the edge are clamped for loading and never stored.

struct Params {
  n: u32,
  m: u32,
  c: u32,
  rowsPerChunk: u32,
  blocksC: u32,
  blocks: u32,
  chunks: u32,
  accumulate: u32,
  alpha: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;

fn lora_in(i: u32) -> f32 { return g[i]; }
fn lora_w(i: u32) -> f32 { return v[i]; }
//#include lora_block4

fn store(base: u32, row: u32, c0: u32, x: vec4f) {
  if (row >= p.m) { return; }
  for (var j = 0u; j < 4u; j++) {
    let col = c0 + j;
    if (col < p.c) {
      let i = base + row * p.c + col;
      var prev = 0.0;
      if (p.accumulate != 0u) { prev = part[i]; }
      part[i] = prev + p.alpha * x[j];
    }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lin = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (lin >= p.blocks * p.chunks) { return; }
  let s = lin / p.blocks;
  let b = lin % p.blocks;
  let m0 = (b / p.blocksC) * 4u;
  let c0 = (b % p.blocksC) * 4u;
  // g[n, m] = g[n * M + m]: the rows are g's columns m0..m0+3, stepping M per n; v[n, c] = v[n * C + c]
  let rows = vec4u(min(m0, p.m - 1u), min(m0 + 1u, p.m - 1u), min(m0 + 2u, p.m - 1u), min(m0 + 3u, p.m - 1u));
  let cols = vec4u(min(c0, p.c - 1u), min(c0 + 1u, p.c - 1u), min(c0 + 2u, p.c - 1u), min(c0 + 3u, p.c - 1u));
  let nBegin = s * p.rowsPerChunk;
  let a = lora_block4(rows, cols, nBegin, min(p.n, nBegin + p.rowsPerChunk), p.m, p.c);
  let base = s * p.m * p.c;
  store(base, m0, c0, a[0]);
  store(base, m0 + 1u, c0, a[1]);
  store(base, m0 + 2u, c0, a[2]);
  store(base, m0 + 3u, c0, a[3]);
}
