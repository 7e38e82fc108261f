// Dropout, backward: dx[i] += keep(i) ? dout[i] / (1 - p) : 0 (accumulates), with the same mask as
// dropout_forward.wgsl regenerated from (seed, s0, s1, s2): u(i) = Philox4x32-10 word 0 of counter
// (i, s0, s1, s2) under key (seed, "DROP"), 24 bits.
//   dout, dx: (N). Bindings: 0 params {n, p, seed, s0, s1, s2}; 1 dout (read); 2 dx (read_write).
// Dispatch: ceil(N / 256) workgroups, split over x and y by grid().
// src/reference/dropout.ts computes the same in TypeScript.

struct Params { n: u32, p: f32, seed: u32, s0: u32, s1: u32, s2: u32 }
@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

//#include philox

// key word 1 of every dropout mask ("DROP"): above 2^21, so never a sampling key (seeds below 2^53)
const DROPOUT_KEY_HI: u32 = 0x44524f50u;

fn keep_scale(i: u32) -> f32 {
  let r = philox4x32(vec4u(i, prm.s0, prm.s1, prm.s2), vec2u(prm.seed, DROPOUT_KEY_HI)).x;
  let u = f32(r >> 8u) * (1.0 / 16777216.0);
  return select(0.0, 1.0 / (1.0 - prm.p), u >= prm.p);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= prm.n) { return; }
  dx[i] = dx[i] + dout[i] * keep_scale(i);
}
