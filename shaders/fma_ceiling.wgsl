// FMA ceiling: the adapter's peak f32 multiply-add rate, for judging kernels against it (benchmarks only).
//   Each invocation runs 8 independent vec4 fma chains (acc = fma(acc, m, c)) for `iters` steps, so the
//   work is 8 * 4 * 2 * iters flops per invocation with no memory traffic inside the loop; m and c come
//   from the params so the compiler cannot fold the chains away.
// Bindings: 0 params {iters, m, c}; 1 out (read_write): one vec4 per invocation, the sum of its chains,
//   written so that the chains are not optimised away.
// Dispatch: any number of workgroups of WG invocations (1-D); enough to fill the device.
// Overwrites out.

struct Params { iters: u32, m: f32, c: f32 }

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let m = vec4f(p.m);
  let c = vec4f(p.c);
  let s = f32(gid.x) * 1e-6;
  var a0 = vec4f(s, s + 0.1, s + 0.2, s + 0.3);
  var a1 = a0 + 1.0;
  var a2 = a0 + 2.0;
  var a3 = a0 + 3.0;
  var a4 = a0 + 4.0;
  var a5 = a0 + 5.0;
  var a6 = a0 + 6.0;
  var a7 = a0 + 7.0;
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
  }
  out[gid.x] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
}
