// Snippet (not a kernel): the split-K part of matmul_smallm.wgsl and matmul_smallm_subgroup.wgsl. A workgroup
// of 64 invocations computes a 4 x 8 block of out (rows m0..m0+3, columns n0..n0+7); invocation li takes
// k = li, li + 64, ... and keeps 32 partial sums in part[0..7] (part[2r + h]: row m0 + r, columns
// n0 + 4h .. n0 + 4h + 3). The kernels differ only in how the 64 partial blocks are summed.

//#include matmul_strided_common

var<private> part: array<vec4f, 8>;

struct Block { batch: u32, m0: u32, n0: u32, live: bool }

fn block_of(wid: vec3u, nwg: vec3u) -> Block {
  let tile = wid.y + wid.z * nwg.y;
  let batch = tile / p.tiles_m;
  return Block(batch, (tile % p.tiles_m) * 4u, wid.x * 8u, batch < p.batches);
}

// this invocation's partial sums over its share of k
fn partial_sums(blk: Block, li: u32) {
  let a_off = blk.batch * p.stride_a;
  let b_off = blk.batch * p.stride_b;
  for (var k = li; k < p.K; k += 64u) {
    let bl = vec4f(load_b(b_off, k, blk.n0), load_b(b_off, k, blk.n0 + 1u), load_b(b_off, k, blk.n0 + 2u), load_b(b_off, k, blk.n0 + 3u));
    let bh = vec4f(load_b(b_off, k, blk.n0 + 4u), load_b(b_off, k, blk.n0 + 5u), load_b(b_off, k, blk.n0 + 6u), load_b(b_off, k, blk.n0 + 7u));
    for (var r = 0u; r < 4u; r++) {
      let av = vec4f(load_a(a_off, blk.m0 + r, k));
      part[2u * r] = fma(av, bl, part[2u * r]);
      part[2u * r + 1u] = fma(av, bh, part[2u * r + 1u]);
    }
  }
}

// stores vec4 q (0..7) of the block's sums
fn store_sum(blk: Block, q: u32, s: vec4f) {
  let out_off = blk.batch * p.stride_c;
  let row = blk.m0 + q / 2u;
  let col = blk.n0 + 4u * (q % 2u);
  put(out_off, row, col, s.x);
  put(out_off, row, col + 1u, s.y);
  put(out_off, row, col + 2u, s.z);
  put(out_off, row, col + 3u, s.w);
}
