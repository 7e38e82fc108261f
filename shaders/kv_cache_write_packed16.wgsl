// KV cache write into a cache stored in 16 bits: kv_cache_write.wgsl's scatter, each pair of consecutive
// values of a row rounded to FORMAT (0 bfloat16, 1 IEEE half; nearest even, shaders/lib/pack16.wgsl) and
// packed into one u32 (low 16 bits the first).
//   cache[b, positions[b * T + t], :] = round16(x[b, t, :])   for positions[b * T + t] < TMAX (else skipped)
// With the override RING = 1 the cache is a ring of TMAX slots: position pos goes to slot pos % TMAX, and only
// positions equal to 0xffffffff are skipped.
// Shapes: x (B, T, C) f32 with C = NKV * HS even; positions (B * T) u32; cache (B, TMAX, C / 2) u32.
// Bindings: 0 params {n = B * T * C / 2, T, C2 = C / 2, TMAX}; 1 x (read), 2 positions (read),
//   3 cache (read_write).
// Dispatch: ceil(n / 256) workgroups, split over x and y by grid(); one invocation per pair.
// Overwrites the addressed cache rows; leaves every other row as it was.

struct Params { n: u32, T: u32, C2: u32, TMAX: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> x: array<vec2f>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<storage, read_write> cache: array<u32>;

override FORMAT: u32 = 0u;
override RING: u32 = 0u;

//#include pack16

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  let row = i / p.C2;
  let col = i % p.C2;
  var pos = positions[row];
  if (RING == 1u) {
    if (pos == 0xffffffffu) { return; }
    pos = pos % p.TMAX;
  } else if (pos >= p.TMAX) { return; }
  cache[((row / p.T) * p.TMAX + pos) * p.C2 + col] = pack16x2(x[i]);
}
