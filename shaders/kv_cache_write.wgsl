// KV cache write: scatters the rows of x into the cache at the given positions (a plain copy: each cache
// element is written by at most one invocation as long as the positions of a batch row are distinct).
//   cache[b, positions[b * T + t], :] = x[b, t, :]          for positions[b * T + t] < TMAX (else skipped)
// With the override RING = 1 the cache is a ring of TMAX slots (sliding-window layers): position pos goes
// to slot pos % TMAX, and only positions equal to 0xffffffff are skipped (the host marks the rows that
// must not land: padding, and positions older than the last TMAX of a row).
// Shapes: x (B, T, C) with C = NKV * HS; positions (B * T) u32; cache (B, TMAX, C).
// Bindings: 0 params {n = B * T * C, T, C, TMAX}; 1 x (read), 2 positions (read), 3 cache (read_write).
// Dispatch: ceil(n / 256) workgroups, split over x and y by grid().
// Overwrites the addressed cache rows; leaves every other row as it was.

struct Params { n: u32, T: u32, C: u32, TMAX: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<storage, read_write> cache: array<f32>;

override RING: u32 = 0u;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  let row = i / p.C;
  let col = i % p.C;
  var pos = positions[row];
  if (RING == 1u) {
    if (pos == 0xffffffffu) { return; }
    pos = pos % p.TMAX;
  } else if (pos >= p.TMAX) { return; }
  cache[((row / p.T) * p.TMAX + pos) * p.C + col] = x[i];
}
