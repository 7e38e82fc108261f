// attention_decode_split.wgsl (flash-decoding: the cache cut into splits, then combined) against KV caches
// stored in 16 bits, two values per u32 (shaders/lib/pack16.wgsl: FORMAT 0 bfloat16, 1 IEEE half), unpacked
// to f32 as they are loaded; every product, sum and exp is f32.
//   M = max_s m_s, L = sum_s l_s exp(m_s - M), out = sum_s acc_s exp(m_s - M) / L     (len = 0 gives zeros)
// Shapes: q, out (B, NH, HS) f32; kCache, vCache (B, TMAX, NKV, HS / 2) u32; lengths (B) u32; HS a multiple
//   of 4; partial (B, NH, S, HS / 4 + 1) vec4. CH <= 256, S * CH >= TMAX.
// Bindings (both entry points): 0 params {NH, NKV, HS4, TMAX, G, scale, B, CH, S}; 1 q, 2 kCache, 3 vCache,
//   4 lengths (read); 5 partial (read_write); 6 out (write); 7 prefix_rows (read, u32; override PREFIX, else any
//   u32 buffer).
// Entries and dispatches: as attention_decode_split.wgsl (`partial_pass`, `combine`). Overrides: FORMAT,
//   WINDOW, RING, PREFIX (the shared-prefix layout of attention_decode.wgsl).

struct Params { NH: u32, NKV: u32, HS4: u32, TMAX: u32, G: u32, scale: f32, B: u32, CH: u32, S: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> q: array<vec4f>;
@group(0) @binding(2) var<storage, read> kCache: array<vec2u>;
@group(0) @binding(3) var<storage, read> vCache: array<vec2u>;
@group(0) @binding(4) var<storage, read> lengths: array<u32>;
@group(0) @binding(5) var<storage, read_write> partial: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(7) var<storage, read> prefix_rows: array<u32>;

override FORMAT: u32 = 0u;

//#include pack16

fn k4(i: u32) -> vec4f {
  let w = kCache[i];
  return vec4f(unpack16x2(w.x), unpack16x2(w.y));
}
fn v4(i: u32) -> vec4f {
  let w = vCache[i];
  return vec4f(unpack16x2(w.x), unpack16x2(w.y));
}

//#include attention_decode_split_body
