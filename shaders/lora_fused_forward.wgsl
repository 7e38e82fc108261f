// Two chained LoRA products in one dispatch, each invocation taking 4 rows: mid = alpha1 * inp W1 in registers
// (written out), then out += alpha2 * mid W2 for the same rows, over a rank R <= 64:
//   mid[n, r]  = alpha1 * sum over chunks s in order of (sum_{k in chunk s, in order} inp[n, k] W1(k, r))
//   out[n, d] += alpha2 * sum_{r in order} mid[n, r] W2(r, d)
//   W1(k, r) = w1[k * sW1k + r * sW1d];  W2(r, d) = w2[r * sW2k + d * sW2d];  inp: (N, K); mid: (N, R); out: (N, D).
// Uses (PEFT layout: A (R, IN), B (OUT, R)):
//   forward   h = x A^T, y += scale * h B^T     K = IN,  D = OUT: W1 = A^T (sW1k 1, sW1d IN), W2 = B^T (sW2k 1, sW2d R), alpha1 1, alpha2 scale
//   backward  dh = scale * dy B, dx += dh A     K = OUT, D = IN:  W1 = B (sW1k R, sW1d 1), W2 = A (sW2k IN, sW2d 1), alpha1 scale, alpha2 1
// The same sums in the same order as lora_forward.wgsl run twice (with lora_forward_reduce.wgsl over its chunks of
// K), bit for bit on software adapters: the chunks of K (kChunk, chunks) are the ones the host would give
// lora_forward, the 4 x 4 blocks are shaders/lib/lora_block4.wgsl, and the second product's R terms are one chunk
// there too (R <= 64). The backward's weight gradients stay lora_backward.wgsl's.
// Bindings: 0 params {n, k, r, d, kChunk, chunks, sW1k, sW1d, sW2k, sW2d, alpha1, alpha2}; 1 inp (read), 2 w1 (read),
//   3 w2 (read), 4 mid (read_write), 5 out (read_write).
// Dispatch: one invocation per 4 rows (ceil(N / 4)), ceil(N / 256) workgroups of 64 split over x and y by grid().
//   No workgroup memory or barriers (software adapters run those slowly); rows and columns past the edge are
//   clamped for loading and never stored.

const MAX_R_BLOCKS = 16u; // R <= 64 (mr holds 4 rows x 16 blocks)

struct Params {
  n: u32,
  k: u32,
  r: u32,
  d: u32,
  kChunk: u32,
  chunks: u32,
  sW1k: u32,
  sW1d: u32,
  sW2k: u32,
  sW2d: u32,
  alpha1: f32,
  alpha2: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> w1: array<f32>;
@group(0) @binding(3) var<storage, read> w2: array<f32>;
@group(0) @binding(4) var<storage, read_write> mid: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

fn lora_in(i: u32) -> f32 { return inp[i]; }
fn lora_w(i: u32) -> f32 { return w1[i]; }
//#include lora_block4

fn clamp4(first: u32, last: u32) -> vec4u {
  return vec4u(min(first, last), min(first + 1u, last), min(first + 2u, last), min(first + 3u, last));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n0 = ((wid.x + wid.y * nwg.x) * 64u + lid) * 4u;
  if (n0 >= p.n) { return; }
  let rows = clamp4(n0, p.n - 1u) * p.k;
  let rBlocks = (p.r + 3u) / 4u;
  // mr[rb * 4 + j]: row n0 + j's mid at columns 4 rb .. 4 rb + 3
  var mr: array<vec4f, MAX_R_BLOCKS * 4u>;
  for (var rb = 0u; rb < rBlocks; rb++) {
    // the chunks' sums added in order from zero (lora_forward_reduce.wgsl), then scaled
    let cols = clamp4(rb * 4u, p.r - 1u) * p.sW1d;
    var sum = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
    for (var s = 0u; s < p.chunks; s++) {
      let kBegin = s * p.kChunk;
      let part = lora_block4(rows, cols, kBegin, min(p.k, kBegin + p.kChunk), 1u, p.sW1k);
      for (var j = 0u; j < 4u; j++) { sum[j] += part[j]; }
    }
    for (var j = 0u; j < 4u; j++) {
      let m = p.alpha1 * sum[j];
      mr[rb * 4u + j] = m;
      if (n0 + j < p.n) {
        for (var c = 0u; c < 4u; c++) {
          if (rb * 4u + c < p.r) { mid[(n0 + j) * p.r + rb * 4u + c] = m[c]; }
        }
      }
    }
  }
  // out += alpha2 * mid W2, one 4 x 4 block after another
  let dBlocks = (p.d + 3u) / 4u;
  for (var db = 0u; db < dBlocks; db++) {
    let cols = clamp4(db * 4u, p.d - 1u) * p.sW2d;
    var a0 = vec4f(0.0);
    var a1 = vec4f(0.0);
    var a2 = vec4f(0.0);
    var a3 = vec4f(0.0);
    for (var k = 0u; k < p.r; k++) {
      let wk = k * p.sW2k;
      let wv = vec4f(w2[wk + cols.x], w2[wk + cols.y], w2[wk + cols.z], w2[wk + cols.w]);
      let mb = (k / 4u) * 4u;
      let c = k % 4u;
      a0 += mr[mb][c] * wv;
      a1 += mr[mb + 1u][c] * wv;
      a2 += mr[mb + 2u][c] * wv;
      a3 += mr[mb + 3u][c] * wv;
    }
    let acc = array<vec4f, 4>(a0, a1, a2, a3);
    for (var j = 0u; j < 4u; j++) {
      if (n0 + j < p.n) {
        for (var c = 0u; c < 4u; c++) {
          if (db * 4u + c < p.d) {
            let o = (n0 + j) * p.d + db * 4u + c;
            out[o] = out[o] + p.alpha2 * acc[j][c];
          }
        }
      }
    }
  }
}
