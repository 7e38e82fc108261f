// Attention for decoding against KV caches stored in 16 bits: attention_decode.wgsl's three passes and
// single pass (the same entry points, shaders/lib/attention_decode_body.wgsl), reading caches whose values
// are packed two per u32 (shaders/lib/pack16.wgsl: FORMAT 0 bfloat16, 1 IEEE half). Each loaded vec4 of k
// or v is unpacked to f32 exactly; every product, sum, exp and the accumulation are f32, so the result is
// attention_decode.wgsl's on the caches' f32 values.
//   len = min(lengths[b], TMAX); s[j] = scale * q[b, h, :] . kCache[b, j, g, :] for j < len, g = h / G
//   out[b, h, :] = sum_{j < len} softmax(s)[j] * vCache[b, j, g, :]           (len = 0 gives zeros)
//   WINDOW > 0: only positions j >= len - WINDOW count; RING = 1: the caches are rings (position j in
//   slot j % TMAX, len = lengths[b] unclamped); PREFIX = 1: the shared-prefix layout of attention_decode.wgsl.
// Shapes: q, out (B, NH, HS) f32; kCache, vCache (B, TMAX, NKV, HS / 2) u32 (pairs of 16-bit values; a vec2u
//   per 4 values); lengths (B) u32; HS a multiple of 4; probs (B, NH, TMAX) f32 scratch.
// Bindings (every entry point): 0 params {NH, NKV, HS4, TMAX, G, scale, B}; 1 q, 2 kCache, 3 vCache,
//   4 lengths (read); 5 probs (read_write); 6 out (write); 7 prefix_rows (read, u32; override PREFIX, else any
//   u32 buffer).
// Entries and dispatches: as attention_decode.wgsl (`scores`, `softmax`, `weighted_sum`, `single_pass`).
// Overrides: FORMAT, WINDOW, RING, PREFIX.

struct Params { NH: u32, NKV: u32, HS4: u32, TMAX: u32, G: u32, scale: f32, B: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> q: array<vec4f>;
@group(0) @binding(2) var<storage, read> kCache: array<vec2u>;
@group(0) @binding(3) var<storage, read> vCache: array<vec2u>;
@group(0) @binding(4) var<storage, read> lengths: array<u32>;
@group(0) @binding(5) var<storage, read_write> probs: array<f32>;
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

//#include attention_decode_body
