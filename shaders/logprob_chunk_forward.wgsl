// One vocabulary chunk of the fused LM head + log-prob gather (logits never materialised: the caller
// computes logits for columns [v0, v0 + vc) only, then this kernel folds them into a running per-row state).
// Online log-sum-exp over chunks, as logprob_gather_forward.wgsl does within a row:
//   z = chunk[n] / temperature;  state[n] = (m, s, t, zt): m running max, s = sum exp(z - m),
//   t = sum exp(z - m) (z - m), zt = z of the target when the target lies in an earlier or this chunk.
//   On the last chunk (last = 1): lse[n] = m + log(s); entropy[n] = log(s) - t / s;
//   logp[n] = zt - lse[n] (0 when targets[n] >= v: no token there).
// Shapes: chunk (N, vc); targets (N) u32 (ids in [0, v), or >= v for none); state (N, 4); logp, entropy, lse (N).
// Bindings: 0 params {n, vc, v0, v, temperature, last}; 1 chunk (read), 2 targets (read), 3 state
//   (read_write: ignored and overwritten when v0 = 0), 4 logp, 5 entropy, 6 lse (written on the last chunk only).
// Dispatch: one workgroup of WG invocations per row, N workgroups split over x and y by grid().
// Override: WG (a power of two, <= 256).
// The row reduction is shaders/lib/logsumexp_stats.wgsl (shared with logprob_gather_forward.wgsl).

struct Params {
  n: u32,
  vc: u32,
  v0: u32,
  v: u32,
  temperature: f32,
  last: u32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> chunk: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> state: array<f32>;
@group(0) @binding(4) var<storage, read_write> logp: array<f32>;
@group(0) @binding(5) var<storage, read_write> entropy: array<f32>;
@group(0) @binding(6) var<storage, read_write> lse: array<f32>;

override WG: u32 = 256u;

//#include logsumexp_stats

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.n) { return; }
  let base = row * p.vc;
  var st = EMPTY_STATS;
  for (var j = lid; j < p.vc; j += WG) { st = stats_add(st, chunk[base + j] / p.temperature); }
  let part = workgroup_stats(lid, st);
  if (lid == 0u) {
    var total = part;
    var zt = 0.0;
    if (p.v0 > 0u) {
      total = combine(Stats(state[row * 4u], state[row * 4u + 1u], state[row * 4u + 2u]), total);
      zt = state[row * 4u + 3u];
    }
    let tgt = targets[row];
    if (tgt >= p.v0 && tgt < p.v0 + p.vc) { zt = chunk[base + tgt - p.v0] / p.temperature; }
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
}
