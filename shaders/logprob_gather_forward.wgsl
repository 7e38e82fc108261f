// Log-probability of each row's target token and the row's entropy, at a sampling temperature, without
// writing a softmax copy of the logits: one pass over the row with an online (max, sum, weighted sum).
//   z = logits[n] / temperature;  lse[n] = logsumexp(z) = m + log(s),  m = max_j z_j,  s = sum_j exp(z_j - m)
//   logp[n]    = z[targets[n]] - lse[n]                      (0 when targets[n] >= V: no token there)
//   entropy[n] = -sum_j p_j log p_j = log(s) - t / s,       p = softmax(z),  t = sum_j exp(z_j - m) (z_j - m)
// Shapes: logits (N, V); targets (N) u32; logp, entropy, lse (N). lse is saved for backward.
// Bindings: 0 params {n, v, temperature}; 1 logits (read), 2 targets (read), 3 logp (write), 4 entropy
//   (write), 5 lse (write). All three outputs are overwritten.
// Dispatch: one workgroup of WG invocations per row, N workgroups split over x and y by grid(). Each
//   invocation folds a strided slice of the row into (m, s, t); a tree over the workgroup combines them
//   (shaders/lib/logsumexp_stats.wgsl, shared with logprob_chunk_forward.wgsl). Entry point main_serial
//   (software adapters, where barriers are slow): one invocation per row, workgroups of 64 rows (ceil(N / 64)
//   split by grid()), each folding the WG (<= 4) slices itself and combining them by the same tree
//   (serial_tree_stats): the same bits.
// Override: WG (a power of two, <= 256; <= 4 for main_serial).

struct Params {
  n: u32,
  v: u32,
  temperature: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> logp: array<f32>;
@group(0) @binding(4) var<storage, read_write> entropy: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

override WG: u32 = 256u;

//#include logsumexp_stats

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.n) { return; }
  let base = row * p.v;
  var st = EMPTY_STATS;
  for (var j = lid; j < p.v; j += WG) { st = stats_add(st, logits[base + j] / p.temperature); }
  let total = workgroup_stats(lid, st);
  if (lid == 0u) { finish(row, total); }
}

// entry point main_serial: a row per invocation, the WG slices and the tree of main, without barriers
@compute @workgroup_size(64)
fn main_serial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (row >= p.n) { return; }
  let base = row * p.v;
  var lanes: array<Stats, SERIAL_LANES>;
  for (var l = 0u; l < WG; l++) {
    var st = EMPTY_STATS;
    for (var j = l; j < p.v; j += WG) { st = stats_add(st, logits[base + j] / p.temperature); }
    lanes[l] = st;
  }
  finish(row, serial_tree_stats(&lanes));
}

/** Row `row`'s outputs from its (m, s, t). */
fn finish(row: u32, total: Stats) {
  let m = total.m;
  let s = total.s;
  let logS = log(s);
  lse[row] = m + logS;
  entropy[row] = logS - total.t / s;
  let tgt = targets[row];
  var lp = 0.0;
  if (tgt < p.v) { lp = (logits[row * p.v + tgt] / p.temperature - m) - logS; }
  logp[row] = lp;
}
