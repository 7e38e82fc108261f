// Snippet (not a kernel): the split-K kernels' block of the output (lib/matmul_quant_splitk_forward_body.wgsl,
// lib/matmul_quant_splitk_backward_body.wgsl): workgroup (x, tile) computes rows row .. row + live - 1 (4 rows a
// tile, live of them inside M) and columns col .. col + width - 1 of an output extent columns wide; inside is
// false for a workgroup past the grid (uniform across the workgroup: it may return before the barrier).

struct SplitkBlock {
  row: u32,
  col: u32,
  live: u32,
  inside: bool,
}

fn splitk_block(wid: vec3u, nwg: vec3u, width: u32, extent: u32) -> SplitkBlock {
  q_begin(p.N, p.K); // NF4_DQ: where the side region starts (lib/ggml_dequant.wgsl)
  let tile = wid.y + wid.z * nwg.y;
  let col = wid.x * width;
  let row = tile * 4u;
  return SplitkBlock(row, col, min(4u, p.M - row), tile < p.tiles_m && col < extent);
}
