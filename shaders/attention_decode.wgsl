// Attention for decoding: one new query per batch row against a KV cache, in three passes that need no
// workgroup barriers (software adapters pay for every invocation of a shader that has one).
//   len = min(lengths[b], TMAX); s[j] = scale * q[b, h, :] . kCache[b, j, g, :] for j < len, g = h / G
//   out[b, h, :] = sum_{j < len} softmax(s)[j] * vCache[b, j, g, :]           (len = 0 gives zeros)
//   With the override WINDOW > 0 (sliding-window attention) only the last WINDOW positions count:
//   j >= start = len - WINDOW (when len > WINDOW); probs below start are set to 0. With the override
//   RING = 1 the caches are rings (position j in slot j % TMAX, len = lengths[b] unclamped; see
//   shaders/lib/attention_decode_body.wgsl, which holds the entry points shared with
//   attention_decode_packed16.wgsl). With the override PREFIX = 1 the caches are one block of slots holding each
//   group's shared prompt once and each row's own positions (prefix_rows (B, 3): each row's prompt length and
//   blocks, shaders/lib/attention_decode_common.wgsl); TMAX is then the positions a query may see (probs' length).
// Shapes: q, out (B, NH, HS); kCache, vCache (B, TMAX, NKV, HS) (PREFIX: (SLOTS, NKV, HS)); lengths (B) u32;
//   HS a multiple of 4; probs (B, NH, TMAX) scratch: the scores, then the probabilities.
// Bindings (every entry point): 0 params {NH, NKV, HS4, TMAX, G, scale, B}; 1 q, 2 kCache, 3 vCache,
//   4 lengths (read); 5 probs (read_write); 6 out (write); 7 prefix_rows (read, u32; override PREFIX, else any
//   u32 buffer).
// Entry `scores`: dispatch (ceil(TMAX / 256), NH, B); invocation i scores cache positions 4i..4i+3 of
//   head h (4 vec4 loads of k per vec4 of q), parallel over the cache length. Overwrites probs[.., < len].
// Entry `softmax`: dispatch (ceil(NH / 64), B); one invocation per (b, h) turns its len scores into
//   probabilities: max, then exp(s - max) and their sum, then division by the sum. Overwrites probs.
// Entry `weighted_sum`: dispatch (ceil(NH * HS / 4 / 64), B); invocation (h, c) sums p * v over the cache
//   positions in order for dims 4c..4c+3. Overwrites out.
// Entry `single_pass`: all three in one dispatch (ceil(B * NH * HS / 4 / 64)), for small heads and short
//   caches on adapters where a dispatch costs more than the work: invocation (b, h, c), flat over the batch
//   so that no lane idles, recomputes the scores of its head (three
//   times, in the same groups of 4 as `scores`) instead of reading them from probs, which it leaves alone;
//   the same arithmetic in the same order, so the same out bit for bit. Costs 3 * HS/4 times the scores'
//   work, so the host picks it only for small HS.

struct Params { NH: u32, NKV: u32, HS4: u32, TMAX: u32, G: u32, scale: f32, B: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> q: array<vec4f>;
@group(0) @binding(2) var<storage, read> kCache: array<vec4f>;
@group(0) @binding(3) var<storage, read> vCache: array<vec4f>;
@group(0) @binding(4) var<storage, read> lengths: array<u32>;
@group(0) @binding(5) var<storage, read_write> probs: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(7) var<storage, read> prefix_rows: array<u32>;

fn k4(i: u32) -> vec4f { return kCache[i]; }
fn v4(i: u32) -> vec4f { return vCache[i]; }

//#include attention_decode_body
