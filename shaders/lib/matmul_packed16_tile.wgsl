// Snippet (not a kernel): the workgroup-memory tiles of the tiled 16-bit-weight matmuls
// (matmul_packed16_tiled_forward/_backward.wgsl and their shader-f16 twins matmul_packed16_tiled_f16_*).
// As matmul_tiled.wgsl: a workgroup of WG_X x WG_Y invocations computes a TILE_M x TILE_N tile of the output
// (TILE_M = WG_Y * TM, TILE_N = WG_X * 4); per TK steps of the inner dim it copies a TILE_M x TK tile of the
// f32 operand (row-major, read along the inner dim) and a TK x TILE_N tile of the packed weight into
// workgroup memory (zeros past the edges), then each invocation accumulates a TM x 4 block in f32 from vec4
// reads of workgroup memory. The including kernel defines:
//   tile_s / tile_v  the weight tile's scalar and vec4 types (f32 / vec4f, or f16 / vec4<f16>)
//   a_at(i, k)       the f32 operand at row i, inner index k (0 past the edges)
//   fill_b(li, threads, n0, k0)   writes the weight tile: Bs[kk * WG_X + jj / 4][jj % 4] = op(W)[k0 + kk, n0 + jj]
//   inner_dim()      the inner dimension (K forward, N backward)
//   put(i, j, v)     the epilogue of output element (i, j) (alpha, bias, accumulate; nothing past the edges)
//   p.tiles_m        the number of TILE_M row tiles (params)
// TK must be even (a packed word holds two consecutive elements of a weight row).

override WG_X: u32 = 16;  // invocations across the output's columns (each 4 columns)
override WG_Y: u32 = 16;  // invocations across its rows (each TM rows)
override TM: u32 = 4;     // rows per invocation: 4 or 8
override TK: u32 = 16;    // steps of the inner dim per tile (even)
override TILE_M: u32 = WG_Y * TM;
override TILE_N: u32 = WG_X * 4u;
override A_VEC4S: u32 = TK * TILE_M / 4u;
override B_VEC4S: u32 = TK * TILE_N / 4u;

// As[kk * TILE_M / 4 + ii / 4][ii % 4] = a[m0 + ii, k0 + kk]
var<workgroup> As: array<vec4f, A_VEC4S>;
var<workgroup> Bs: array<tile_v, B_VEC4S>;

// acc[r]: row lid.y * TM + r of the tile, columns lid.x * 4 .. + 3 (f32 sums)
var<private> acc: array<vec4f, 8>;

// acc += a[m0 .. m0 + TILE_M, :inner] @ op(W)[:inner, n0 .. n0 + TILE_N] for this invocation's block
fn tiled_product(lid: vec3u, li: u32, m0: u32, n0: u32, inner: u32) {
  let threads = WG_X * WG_Y;
  let mv4 = TILE_M / 4u;
  let rv0 = lid.y * (TM / 4u);
  for (var k0 = 0u; k0 < inner; k0 += TK) {
    for (var e = li; e < TILE_M * TK; e += threads) {
      let ii = e / TK; // consecutive invocations read consecutive k of a row
      let kk = e % TK;
      As[kk * mv4 + ii / 4u][ii % 4u] = a_at(m0 + ii, k0 + kk);
    }
    fill_b(li, threads, n0, k0);
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let bv = vec4f(Bs[kk * WG_X + lid.x]);
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
}

// the entry point shared by forward and backward: tile wid.y + wid.z * nwg.y of TILE_M rows (split by
// grid()), columns wid.x * TILE_N .. + TILE_N - 1 of the output
@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let tile = wid.y + wid.z * nwg.y;
  if (tile >= p.tiles_m) { return; } // uniform across the workgroup
  let m0 = tile * TILE_M;
  let n0 = wid.x * TILE_N;
  tiled_product(lid, li, m0, n0, inner_dim());
  let col = n0 + lid.x * 4u;
  for (var r = 0u; r < TM; r++) {
    let row = m0 + lid.y * TM + r;
    put(row, col, acc[r].x);
    put(row, col + 1u, acc[r].y);
    put(row, col + 2u, acc[r].z);
    put(row, col + 3u, acc[r].w);
  }
}
