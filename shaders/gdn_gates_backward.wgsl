// Gated DeltaNet gates, backward (CPU reference src/reference/gdn_gates.ts gdnGatesBackward). From dgb (N, NV, 2)
// (dg then dbeta, as gated_delta_backward writes them), with x = a + dt_bias[h], A = exp(A_log[h]):
//   db = dbeta * s (1 - s), s = sigmoid(b);   da = -dg * A * sigmoid(x)   (1 above the softplus threshold)
//   d_a_log[h] += sum_n -dg * A * softplus(x);   d_dt_bias[h] += sum_n da      (accumulate, when has_dparams)
// Shapes: dgb (N, NV, 2); b, a, db, da (N, NV); a_log, dt_bias, d_a_log, d_dt_bias (NV).
// Bindings: 0 params {N, NV, has_dparams}; 1 dgb (read), 2 b (read), 3 a (read), 4 a_log (read), 5 dt_bias (read),
//   6 db (write), 7 da (write), 8 dparams (read_write): d_a_log then d_dt_bias (2, NV).
// OVERWRITES db and da; accumulates into dparams.
// Dispatch: ceil(max(N * NV, NV) / 256) workgroups, split by grid(); invocation h < NV sums its head over N rows.

struct Params { N: u32, NV: u32, has_dparams: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dgb: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> a: array<f32>;
@group(0) @binding(4) var<storage, read> a_log: array<f32>;
@group(0) @binding(5) var<storage, read> dt_bias: array<f32>;
@group(0) @binding(6) var<storage, read_write> db: array<f32>;
@group(0) @binding(7) var<storage, read_write> da: array<f32>;
@group(0) @binding(8) var<storage, read_write> dparams: array<f32>;

//#include gdn_gates_common

fn dsoftplus(x: f32) -> f32 {
  return select(sigmoid(x), 1.0, x > 20.0);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i < p.N * p.NV) {
    let h = i % p.NV;
    let s = sigmoid(b[i]);
    db[i] = dgb[i * 2u + 1u] * s * (1.0 - s);
    da[i] = -dgb[i * 2u] * exp(a_log[h]) * dsoftplus(a[i] + dt_bias[h]);
  }
  if (p.has_dparams != 0u && i < p.NV) {
    let A = exp(a_log[i]);
    var dA = 0.0;
    var dt = 0.0;
    for (var n = 0u; n < p.N; n++) {
      let x = a[n * p.NV + i] + dt_bias[i];
      let dg = dgb[(n * p.NV + i) * 2u];
      dA += -dg * A * softplus(x);
      dt += -dg * A * dsoftplus(x);
    }
    dparams[i] += dA;
    dparams[p.NV + i] += dt;
  }
}
