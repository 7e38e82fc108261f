// Attention for decoding split along the cache (flash-decoding): for few rows and long caches, where
// attention_decode.wgsl's per-(row, head) passes leave most of a GPU idle. The positions a query sees are cut
// into S splits of CH; pass 1 gives each (b, h, split) a workgroup that scores its positions, takes their max
// m and sum l of exp(s - m) and the unnormalised sum of exp(s - m) v; pass 2 combines the splits:
//   M = max_s m_s, L = sum_s l_s exp(m_s - M), out = sum_s acc_s exp(m_s - M) / L     (len = 0 gives zeros)
// the same softmax(q k^T * scale) v as attention_decode.wgsl, summed in another order (f32 throughout).
// WINDOW / RING / PREFIX as attention_decode.wgsl (shaders/lib/attention_decode_common.wgsl).
// Shapes: q, out (B, NH, HS) f32; kCache, vCache (B, TMAX, NKV, HS) f32; lengths (B) u32; HS a multiple of 4;
//   partial (B, NH, S, HS / 4 + 1) vec4: each split's acc, then (m, l, 0, 0). CH <= 256, S * CH >= TMAX.
// Bindings (both entry points): 0 params {NH, NKV, HS4, TMAX, G, scale, B, CH, S}; 1 q, 2 kCache, 3 vCache,
//   4 lengths (read); 5 partial (read_write); 6 out (write); 7 prefix_rows (read, u32; override PREFIX, else any
//   u32 buffer).
// Entry `partial_pass`: dispatch (S, NH, B), workgroups of 64 (barriers: chosen on hardware adapters only).
//   Overwrites partial.
// Entry `combine`: dispatch (ceil(NH * HS / 4 / 64), B); invocation (h, c) combines dims 4c..4c+3. Overwrites out.

struct Params { NH: u32, NKV: u32, HS4: u32, TMAX: u32, G: u32, scale: f32, B: u32, CH: u32, S: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> q: array<vec4f>;
@group(0) @binding(2) var<storage, read> kCache: array<vec4f>;
@group(0) @binding(3) var<storage, read> vCache: array<vec4f>;
@group(0) @binding(4) var<storage, read> lengths: array<u32>;
@group(0) @binding(5) var<storage, read_write> partial: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(7) var<storage, read> prefix_rows: array<u32>;

fn k4(i: u32) -> vec4f { return kCache[i]; }
fn v4(i: u32) -> vec4f { return vCache[i]; }

//#include attention_decode_split_body
