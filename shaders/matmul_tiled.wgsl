// Matrix multiply with workgroup-memory tiles (the GPU-class path), batched, every transpose form, any shape.
//   out = alpha * op(a) @ op(b) (+ bias) (+ out when accumulate = 1)
//   op(a): (Bt, M, K); op(b): (Bt, K, N) (element strides a_rs, a_ks, b_ks, b_cs as matmul_scalar.wgsl)
//   out: (Bt, M, N); bias: (N), added to every row
// A workgroup of WG_X x WG_Y invocations computes a TILE_M x TILE_N tile of out (TILE_M = WG_Y * TM,
// TILE_N = WG_X * 4): per TK steps of k it copies a TILE_M x TK tile of op(a) and a TK x TILE_N tile of op(b)
// into workgroup memory (coalesced reads: consecutive invocations read consecutive addresses of whichever
// of a's / b's dims is contiguous; zeros past the edges), then each invocation accumulates a TM x 4 block
// from vec4 reads of workgroup memory. Tile shapes are override constants (host: src/gpu/kernels/matmul.ts
// MATMUL_TILES, e.g. 64x64 = 16x16 invocations of 4x4, 128x64 = 16x16 of 8x4, TK 8..32).
// On SwiftShader (a CPU) workgroup memory and barriers are slow; this is for hardware adapters.
// Bindings: 0 params; 1 a (read), 2 b (read), 3 bias (read; any buffer when has_bias = 0), 4 out (read_write).
// Dispatch: (ceil(N / TILE_N), Y, Z) with Y * Z >= tiles_m * Bt (split by grid()), tiles_m = ceil(M / TILE_M);
//   workgroup y + z * nwg.y is row tile (i % tiles_m) of batch (i / tiles_m).
// Overwrites out, or accumulates (+=) into it when accumulate = 1. Saves nothing for backward.

//#include matmul_strided_common

override WG_X: u32 = 16;  // invocations across N (each 4 columns)
override WG_Y: u32 = 16;  // invocations across M (each TM rows)
override TM: u32 = 4;     // rows per invocation: 4 or 8
override TK: u32 = 16;    // steps of k per workgroup-memory tile
override TILE_M: u32 = WG_Y * TM;
override TILE_N: u32 = WG_X * 4u;
override A_VEC4S: u32 = TK * TILE_M / 4u;
override B_VEC4S: u32 = TK * TILE_N / 4u;

// As[kk * TILE_M / 4 + ii / 4][ii % 4] = op(a)[m0 + ii, k0 + kk]; Bs[kk * WG_X + jj / 4][jj % 4] = op(b)[k0 + kk, n0 + jj]
var<workgroup> As: array<vec4f, A_VEC4S>;
var<workgroup> Bs: array<vec4f, B_VEC4S>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let tile = wid.y + wid.z * nwg.y;
  let batch = tile / p.tiles_m;
  if (batch >= p.batches) { return; } // uniform across the workgroup
  let m0 = (tile % p.tiles_m) * TILE_M;
  let n0 = wid.x * TILE_N;
  let a_off = batch * p.stride_a;
  let b_off = batch * p.stride_b;
  let threads = WG_X * WG_Y;
  let a_k_inner = p.a_ks == 1u; // k is a's contiguous dim: walk k fastest
  let b_k_inner = p.b_ks == 1u;
  let mv4 = TILE_M / 4u;
  let rv0 = lid.y * (TM / 4u);

  var acc: array<vec4f, 8>; // acc[r]: row lid.y * TM + r, columns lid.x * 4 .. + 3
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    for (var e = li; e < TILE_M * TK; e += threads) {
      var ii = e % TILE_M;
      var kk = e / TILE_M;
      if (a_k_inner) { ii = e / TK; kk = e % TK; }
      As[kk * mv4 + ii / 4u][ii % 4u] = load_a(a_off, m0 + ii, k0 + kk);
    }
    for (var e = li; e < TK * TILE_N; e += threads) {
      var jj = e % TILE_N;
      var kk = e / TILE_N;
      if (b_k_inner) { jj = e / TK; kk = e % TK; }
      Bs[kk * WG_X + jj / 4u][jj % 4u] = load_b(b_off, k0 + kk, n0 + jj);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let bv = Bs[kk * WG_X + lid.x];
      for (var r4 = 0u; r4 < TM / 4u; r4++) {
        let av = As[kk * mv4 + rv0 + r4];
        acc[4u * r4] = fma(vec4f(av.x), bv, acc[4u * r4]);
        acc[4u * r4 + 1u] = fma(vec4f(av.y), bv, acc[4u * r4 + 1u]);
        acc[4u * r4 + 2u] = fma(vec4f(av.z), bv, acc[4u * r4 + 2u]);
        acc[4u * r4 + 3u] = fma(vec4f(av.w), bv, acc[4u * r4 + 3u]);
      }
    }
    workgroupBarrier();
  }

  let out_off = batch * p.stride_c;
  let col = n0 + lid.x * 4u;
  for (var r = 0u; r < TM; r++) {
    let row = m0 + lid.y * TM + r;
    put(out_off, row, col, acc[r].x);
    put(out_off, row, col + 1u, acc[r].y);
    put(out_off, row, col + 2u, acc[r].z);
    put(out_off, row, col + 3u, acc[r].w);
  }
}
