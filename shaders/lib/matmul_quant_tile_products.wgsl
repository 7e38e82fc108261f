// Snippet (not a kernel): the inner loop of matmul_quant_tiled_forward.wgsl and matmul_quant_tiled_backward.wgsl.
// Workgroup memory holds a 32 x 32 tile of the left operand (ts[k * 32 + r]: x forward, dy backward) and a
// 32 x 64 tile of the dequantised weight (ws[k * 64 + c]); tile_products adds, for each of the 32 k, the 4 x 8
// outer product of invocation (tx, ty)'s rows 4 ty .. 4 ty + 3 and columns 8 tx .. 8 tx + 7: row r's columns
// 0-3 into cr, 4-7 into dr (f32 fma, k in order).

var<workgroup> ts: array<f32, 1024>;
var<workgroup> ws: array<f32, 2048>;

var<private> c0: vec4f; var<private> c1: vec4f; var<private> c2: vec4f; var<private> c3: vec4f;
var<private> d0: vec4f; var<private> d1: vec4f; var<private> d2: vec4f; var<private> d3: vec4f;

fn tile_products(tx: u32, ty: u32) {
  for (var k = 0u; k < 32u; k++) {
    let ta = k * 32u + 4u * ty;
    let a = vec4f(ts[ta], ts[ta + 1u], ts[ta + 2u], ts[ta + 3u]);
    let wb = k * 64u + 8u * tx;
    let bl = vec4f(ws[wb], ws[wb + 1u], ws[wb + 2u], ws[wb + 3u]);
    let bh = vec4f(ws[wb + 4u], ws[wb + 5u], ws[wb + 6u], ws[wb + 7u]);
    c0 = fma(vec4f(a.x), bl, c0); d0 = fma(vec4f(a.x), bh, d0);
    c1 = fma(vec4f(a.y), bl, c1); d1 = fma(vec4f(a.y), bh, d1);
    c2 = fma(vec4f(a.z), bl, c2); d2 = fma(vec4f(a.z), bh, d2);
    c3 = fma(vec4f(a.w), bl, c3); d3 = fma(vec4f(a.w), bh, d3);
  }
}
