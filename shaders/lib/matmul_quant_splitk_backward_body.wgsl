// Snippet (not a kernel): the body of matmul_quant_splitk_backward.wgsl and matmul_quant_splitk_subgroup_backward.wgsl
// (params, bindings and store: lib/matmul_quant_backward_vec4_io.wgsl; the partial sums); see those files' headers. A workgroup of 64 invocations
// computes a 4 x 8 block of dx (rows row .. row + 3, columns kc .. kc + 7, inside one sub-block); invocation
// li takes n = li, li + 64, ..., dequantises W[n, kc .. kc + 7] (q_values4, the sub-block's scales once) and
// keeps two vec4s of partial sums per live row in part[2r], part[2r + 1]. The kernels differ only in how the
// 64 partial blocks reach red (workgroup memory), which reduce_store then sums.

//#include matmul_quant_backward_vec4_io

var<private> part: array<vec4f, 8>;
var<workgroup> red: array<vec4f, 512>; // red[li * 8 + q]: invocation li's partial vec4 q (or its subgroup's, or zero)

//#include matmul_quant_splitk_block
// here a workgroup's block is 4 x 8 of dx (columns kc = col ..): splitk_block(wid, nwg, 8u, p.K)

// this invocation's partial sums over its share of N, rows row .. row + live - 1
fn partial_sums(row: u32, kc: u32, live: u32, li: u32) {
  let qk = q_block_size();
  let wpb = q_block_words();
  let nb = p.K / qk;
  let b = kc / qk;
  let e = kc - b * qk;
  let s = e / q_sub_size();
  for (var n = li; n < p.N; n += 64u) {
    let base = (n * nb + b) * wpb;
    let sp = q_sub_params(base, s);
    let va = q_values4(base, e, sp);
    let vb = q_values4(base, e + 4u, sp);
    for (var r = 0u; r < live; r++) {
      let d = vec4f(dy[(row + r) * p.N + n]);
      part[2u * r] = fma(d, va, part[2u * r]);
      part[2u * r + 1u] = fma(d, vb, part[2u * r + 1u]);
    }
  }
}

// stores vec4 h (0: columns kc .. kc + 3, 1: kc + 4 .. kc + 7) of row r
fn store_sum(r: u32, kc: u32, h: u32, a: vec4f) {
  put4((r * p.K + kc) / 4u + h, a);
}

// after the barrier: invocations 0 .. 2 live - 1 each add one vec4's 64 slots of red and store it
fn reduce_store(blk: SplitkBlock, li: u32) {
  if (li < 2u * blk.live) {
    var s = vec4f(0.0);
    for (var t = 0u; t < 64u; t++) { s += red[t * 8u + li]; }
    store_sum(blk.row + li / 2u, blk.col, li % 2u, s);
  }
}
