// Snippet (not a kernel): the 8x8 register block of the matmul kernels (matmul.wgsl, matmul_subgroup.wgsl,
// matmul_scalar.wgsl, matmul_packed16_forward/_backward.wgsl): an invocation's block of out in 16 vec4 accumulators, and one step of k into them.

// Accumulators: row i of the block is c_i (columns 0..3) and d_i (columns 4..7).
var<private> c0: vec4f; var<private> c1: vec4f; var<private> c2: vec4f; var<private> c3: vec4f;
var<private> c4: vec4f; var<private> c5: vec4f; var<private> c6: vec4f; var<private> c7: vec4f;
var<private> d0: vec4f; var<private> d1: vec4f; var<private> d2: vec4f; var<private> d3: vec4f;
var<private> d4: vec4f; var<private> d5: vec4f; var<private> d6: vec4f; var<private> d7: vec4f;

// One step of k: alo / ahi hold op(a) rows 0..3 / 4..7 of the block, blo / bhi op(b) columns 0..3 / 4..7.
fn rank1(alo: vec4f, ahi: vec4f, blo: vec4f, bhi: vec4f) {
  c0 = fma(vec4f(alo.x), blo, c0); d0 = fma(vec4f(alo.x), bhi, d0);
  c1 = fma(vec4f(alo.y), blo, c1); d1 = fma(vec4f(alo.y), bhi, d1);
  c2 = fma(vec4f(alo.z), blo, c2); d2 = fma(vec4f(alo.z), bhi, d2);
  c3 = fma(vec4f(alo.w), blo, c3); d3 = fma(vec4f(alo.w), bhi, d3);
  c4 = fma(vec4f(ahi.x), blo, c4); d4 = fma(vec4f(ahi.x), bhi, d4);
  c5 = fma(vec4f(ahi.y), blo, c5); d5 = fma(vec4f(ahi.y), bhi, d5);
  c6 = fma(vec4f(ahi.z), blo, c6); d6 = fma(vec4f(ahi.z), bhi, d6);
  c7 = fma(vec4f(ahi.w), blo, c7); d7 = fma(vec4f(ahi.w), bhi, d7);
}
