// One vocabulary chunk of the fused LM head + log-prob gather, the GPU-class variant of
// logprob_chunk_forward.wgsl for large vocabularies (49k..262k) and few rows: each row's chunk is split
// into SEG segments, one workgroup each, read as vec4s, so that a handful of rows still fills a GPU (the
// row kernel runs one workgroup per row). Same math and outputs:
//   z = chunk[n] / temperature;  state[n] = (m, s, t, zt): m running max, s = sum exp(z - m),
//   t = sum exp(z - m) (z - m), zt = z of the target when the target lies in an earlier or this chunk.
//   On the last chunk (last = 1): lse[n] = m + log(s); entropy[n] = log(s) - t / s;
//   logp[n] = zt - lse[n] (0 when targets[n] >= v: no token there).
// Shapes: chunk (N, vc), vc a multiple of 4 (read as (N, vc / 4) vec4s); targets (N) u32 (ids in [0, v), or
//   >= v for none); part (N, SEG, 4) scratch; state (N, 4); logp, entropy, lse (N).
// Bindings: 0 params {n, vc, v0, v, temperature, last, segs, seg_len}; 1 chunk (read), 2 targets (read),
//   3 part (read_write: written by `partials`, read by `finish`), 4 state (read_write: ignored and
//   overwritten when v0 = 0), 5 logp, 6 entropy, 7 lse (written on the last chunk only).
// Entry points, one after the other:
//   partials: one workgroup of WG invocations per (segment, row), N * segs workgroups split over x and y by
//     grid() (workgroup w: row w / segs, segment w % segs); the segment is vec4s [seg * seg_len,
//     min((seg + 1) * seg_len, vc / 4)) of the row; each invocation folds a strided slice of it (the four
//     lanes in order), the workgroup tree (shaders/lib/logsumexp_stats.wgsl) combines them into part.
//   finish: one invocation per row (ceil(N / 64) workgroups of 64): folds the row's segments in order,
//     then the running state, picks the target's z, writes state and, on the last chunk, the outputs.
// Override: WG (a power of two, <= 256) for `partials`.

struct Params {
  n: u32,
  vc: u32,
  v0: u32,
  v: u32,
  temperature: f32,
  last: u32,
  segs: u32,
  seg_len: u32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> chunk: array<vec4f>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> part: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> state: array<f32>;
@group(0) @binding(5) var<storage, read_write> logp: array<f32>;
@group(0) @binding(6) var<storage, read_write> entropy: array<f32>;
@group(0) @binding(7) var<storage, read_write> lse: array<f32>;

override WG: u32 = 64u;

//#include logsumexp_stats

@compute @workgroup_size(WG)
fn partials(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x;
  if (w >= p.n * p.segs) { return; }
  let row = w / p.segs;
  let seg = w % p.segs;
  let vc4 = p.vc / 4u;
  let base = row * vc4;
  let end = min((seg + 1u) * p.seg_len, vc4);
  var st = EMPTY_STATS;
  for (var j = seg * p.seg_len + lid; j < end; j += WG) {
    let z = chunk[base + j] / p.temperature;
    st = stats_add(st, z.x);
    st = stats_add(st, z.y);
    st = stats_add(st, z.z);
    st = stats_add(st, z.w);
  }
  let total = workgroup_stats(lid, st);
  if (lid == 0u) { part[w] = vec4f(total.m, total.s, total.t, 0.0); }
}

@compute @workgroup_size(64)
fn finish(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= p.n) { return; }
  var total = EMPTY_STATS;
  for (var seg = 0u; seg < p.segs; seg++) {
    let q = part[row * p.segs + seg];
    total = combine(total, Stats(q.x, q.y, q.z));
  }
  var zt = 0.0;
  if (p.v0 > 0u) {
    total = combine(Stats(state[row * 4u], state[row * 4u + 1u], state[row * 4u + 2u]), total);
    zt = state[row * 4u + 3u];
  }
  let tgt = targets[row];
  if (tgt >= p.v0 && tgt < p.v0 + p.vc) {
    let i = row * p.vc + tgt - p.v0;
    zt = chunk[i / 4u][i % 4u] / p.temperature;
  }
  state[row * 4u] = total.m;
  state[row * 4u + 1u] = total.s;
  state[row * 4u + 2u] = total.t;
  state[row * 4u + 3u] = zt;
  if (p.last == 1u) {
    let logS = log(total.s);
    let l = total.m + logS;
    lse[row] = l;
    entropy[row] = logS - total.t / total.s;
    logp[row] = select(0.0, zt - l, tgt < p.v);
  }
}
