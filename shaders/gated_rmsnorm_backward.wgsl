// Gated RMSNorm, backward (CPU reference src/reference/gated_rmsnorm.ts gatedRmsnormBackward). With
// s = sigmoid(z), e = w * silu(z) per element:
//   dz = dout * x r w * s (1 + z (1 - s));   dx = r e dout - x r^3 / C * sum_c(dout e x)   (overwrite)
//   dweight[c] += sum_n dout x r silu(z)                                                  (accumulate)
// Shapes: dout, x, z, dx, dz (N, C); weight, dweight (C); rstd (N) as the forward saved it.
// Bindings: 0 params {N, C, has_dweight}; 1 dout (read), 2 x (read), 3 z (read), 4 weight (read), 5 rstd (read),
//   6 dx (write), 7 dz (write), 8 dweight (read_write).
// Dispatch: ceil(max(N, C) / 64) workgroups, split by grid(): invocation n < N does row n; invocation c < C sums
//   dweight[c] over the rows (when has_dweight).

struct Params { N: u32, C: u32, has_dweight: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> z: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dz: array<f32>;
@group(0) @binding(8) var<storage, read_write> dweight: array<f32>;

//#include gdn_gates_common

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (i < p.N) {
    let n = i;
    let r = rstd[n];
    var sum = 0.0;
    for (var c = 0u; c < p.C; c++) {
      let zi = z[n * p.C + c];
      sum += dout[n * p.C + c] * weight[c] * zi * sigmoid(zi) * x[n * p.C + c];
    }
    let k = r * r * r * sum / f32(p.C);
    for (var c = 0u; c < p.C; c++) {
      let e = n * p.C + c;
      let s = sigmoid(z[e]);
      let silu = z[e] * s;
      dx[e] = r * weight[c] * silu * dout[e] - x[e] * k;
      dz[e] = dout[e] * x[e] * r * weight[c] * s * (1.0 + z[e] * (1.0 - s));
    }
  }
  if (p.has_dweight != 0u && i < p.C) {
    var acc = 0.0;
    for (var n = 0u; n < p.N; n++) {
      let e = n * p.C + i;
      acc += dout[e] * x[e] * rstd[n] * z[e] * sigmoid(z[e]);
    }
    dweight[i] += acc;
  }
}
