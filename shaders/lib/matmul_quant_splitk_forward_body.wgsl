// Snippet (not a kernel): the body of matmul_quant_splitk_forward.wgsl and matmul_quant_splitk_subgroup_forward.wgsl
// (params, bindings and store: lib/matmul_quant_forward_vec4_io.wgsl; the partial sums); see those files' headers. A workgroup of 64 invocations
// computes a 4 x 4 block of out (rows row .. row + 3, columns col .. col + 3); invocation li takes the vec4s
// c = li, li + 64, ... of K, dequantises the 4 weight rows there (q_values4) and keeps one vec4 of partial
// sums per live row in part[r]. The kernels differ only in how the 64 partial blocks reach red (workgroup
// memory), which reduce_store then sums.

//#include matmul_quant_forward_vec4_io

var<private> part: array<vec4f, 4>;
var<workgroup> red: array<vec4f, 256>; // red[li * 4 + r]: invocation li's sums of row r (or its subgroup's, or zero)

//#include matmul_quant_splitk_block
// here a workgroup's block is 4 x 4: splitk_block(wid, nwg, 4u, p.N)

// after the barrier: invocations 0 .. live - 1 each add one row's 64 slots of red and store the row
fn reduce_store(blk: SplitkBlock, li: u32) {
  if (li < blk.live) {
    var s = vec4f(0.0);
    for (var t = 0u; t < 64u; t++) { s += red[t * 4u + li]; }
    store_sum(blk.row + li, blk.col, s);
  }
}

// this invocation's partial sums over its share of K, rows row .. row + live - 1
fn partial_sums(row: u32, col: u32, live: u32, li: u32) {
  let qk = q_block_size();
  let wpb = q_block_words();
  let sub = q_sub_size();
  let nb = p.K / qk;
  let K4 = p.K / 4u;
  let ln = p.N - 1u;
  let w0 = min(col, ln) * nb * wpb; let w1 = min(col + 1u, ln) * nb * wpb;
  let w2 = min(col + 2u, ln) * nb * wpb; let w3 = min(col + 3u, ln) * nb * wpb;
  for (var c = li; c < K4; c += 64u) {
    let b = (4u * c) / qk;
    let e = 4u * c - b * qk;
    let s = e / sub;
    let o = b * wpb;
    let wm = mat4x4f(
      q_values4(w0 + o, e, q_sub_params(w0 + o, s)), q_values4(w1 + o, e, q_sub_params(w1 + o, s)),
      q_values4(w2 + o, e, q_sub_params(w2 + o, s)), q_values4(w3 + o, e, q_sub_params(w3 + o, s)),
    );
    for (var r = 0u; r < live; r++) { part[r] += x[(row + r) * K4 + c] * wm; }
  }
}
