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

// ---- Philox4x32-10 (the twin of src/reference/philox.ts and of shaders/sample.wgsl's) ----

fn mulhi32(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let ll = al * bl;
  let lh = al * bh;
  let hl = ah * bl;
  let hh = ah * bh;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

fn philox4x32(ctr: vec4u, key: vec2u) -> vec4u {
  var c = ctr;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { k += vec2u(0x9e3779b9u, 0xbb67ae85u); }
    let hi0 = mulhi32(0xd2511f53u, c.x);
    let lo0 = 0xd2511f53u * c.x;
    let hi1 = mulhi32(0xcd9e8d57u, c.z);
    let lo1 = 0xcd9e8d57u * c.z;
    c = vec4u(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}

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
