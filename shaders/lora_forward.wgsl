// LoRA projection through a low-rank factor whose layout is given by strides, so that one kernel serves
// both forward products and, reading the factor transposed, the backward's dh and dx.
//   part[s, n, d] = (accumulate ? part[s, n, d] : 0) + alpha * sum_{k in chunk s} inp[n, k] * W(k, d)
//   W(k, d) = w[k * sWk + d * sWd];  inp: (N, K) row-major;  part: (S, N, D), chunk s = [s * kChunk, (s+1) * kChunk).
// With one chunk (S = 1) `part` is the output itself; with several the host writes a scratch (accumulate 0,
// alpha 1) and lora_forward_reduce.wgsl adds the chunks in order onto the output: splitting a long K keeps
// the GPU busy when N is small (generation) without float atomics, and the result is deterministic.
// Uses (PEFT layout: A (R, IN), B (OUT, R)):
//   forward   h   = x A^T           K = IN,  D = R,    W(i, r) = A[r, i]  sWk 1,  sWd IN   overwrite (h is saved for backward)
//   forward   y  += scale * h B^T   K = R,   D = OUT,  W(r, o) = B[o, r]  sWk 1,  sWd R    accumulate onto the base output
//   backward  dh  = scale * dy B    K = OUT, D = R,    W(o, r) = B[o, r]  sWk R,  sWd 1    overwrite
//   backward  dx += dh A            K = R,   D = IN,   W(r, i) = A[r, i]  sWk IN, sWd 1    accumulate
// Bindings: 0 params {n, d, k, kChunk, sWk, sWd, blocksD, blocks, chunks, accumulate, alpha}; 1 inp (read),
//   2 w (read), 3 part (read_write).
// Dispatch: one invocation per (chunk, 4 x 4 output block): `blocks` blocks per chunk, numbered row-major
//   (blocksD per row of blocks); ceil(blocks * chunks / 64) workgroups split over x and y by grid().
//   Register blocking without workgroup memory or barriers (software adapters run those slowly; the block is
//   shaders/lib/lora_block4.wgsl); rows and columns past the edge are clamped for loading and never stored.
// lora_fused_forward.wgsl runs both forward products in one dispatch with these sums, in this order.

struct Params {
  n: u32,
  d: u32,
  k: u32,
  kChunk: u32,
  sWk: u32,
  sWd: u32,
  blocksD: u32,
  blocks: u32,
  chunks: u32,
  accumulate: u32,
  alpha: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;

fn lora_in(i: u32) -> f32 { return inp[i]; }
fn lora_w(i: u32) -> f32 { return w[i]; }
//#include lora_block4

fn store(base: u32, row: u32, d0: u32, v: vec4f) {
  if (row >= p.n) { return; }
  for (var j = 0u; j < 4u; j++) {
    let col = d0 + j;
    if (col < p.d) {
      let i = base + row * p.d + col;
      var prev = 0.0;
      if (p.accumulate != 0u) { prev = part[i]; }
      part[i] = prev + p.alpha * v[j];
    }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lin = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (lin >= p.blocks * p.chunks) { return; }
  let s = lin / p.blocks;
  let b = lin % p.blocks;
  let n0 = (b / p.blocksD) * 4u;
  let d0 = (b % p.blocksD) * 4u;
  let rows = vec4u(min(n0, p.n - 1u), min(n0 + 1u, p.n - 1u), min(n0 + 2u, p.n - 1u), min(n0 + 3u, p.n - 1u)) * p.k;
  let cols = vec4u(min(d0, p.d - 1u), min(d0 + 1u, p.d - 1u), min(d0 + 2u, p.d - 1u), min(d0 + 3u, p.d - 1u)) * p.sWd;
  let kBegin = s * p.kChunk;
  let a = lora_block4(rows, cols, kBegin, min(p.k, kBegin + p.kChunk), 1u, p.sWk);
  let base = s * p.n * p.d;
  store(base, n0, d0, a[0]);
  store(base, n0 + 1u, d0, a[1]);
  store(base, n0 + 2u, d0, a[2]);
  store(base, n0 + 3u, d0, a[3]);
}
