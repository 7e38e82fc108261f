// Embedding backward, stage 1 of 2: a stable sort of token positions by id, so that stage 2 can sum each
// vocab row's gradient in position order without atomics (WGSL has no float atomics; this stays deterministic).
//   order[rank(n)] = n,   rank(n) = #{m : ids[m] < ids[n]} + #{m < n : ids[m] == ids[n]}
//   ids: (N) u32  ->  order: (N) u32, a permutation of 0..N-1 (overwritten)
// Ranks are distinct, so every slot of order is written by exactly one invocation.
// Work: N^2 comparisons read from workgroup-memory tiles of 256 ids (4M for N = 2048), independent of V.
// Bindings: 0 params {n_tokens}; 1 ids (read), 2 order (write).
// Dispatch: ceil(N / 256) workgroups, split over x and y by grid().

struct Params { n_tokens: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> order: array<u32>;

const TILE: u32 = 256u;
var<workgroup> tile: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n_tokens = p.n_tokens;
  let n = (wid.x + wid.y * nwg.x) * TILE + lid;
  var mine = 0u;
  if (n < n_tokens) { mine = ids[n]; }
  var rank = 0u;
  // Every invocation (also those past the end) takes part in loading tiles: the barriers need uniform flow.
  for (var t0 = 0u; t0 < n_tokens; t0 += TILE) {
    if (t0 + lid < n_tokens) { tile[lid] = ids[t0 + lid]; }
    workgroupBarrier();
    let count = min(TILE, n_tokens - t0);
    for (var j = 0u; j < count; j++) {
      let other = tile[j];
      let before = other < mine || (other == mine && t0 + j < n);
      rank += select(0u, 1u, before);
    }
    workgroupBarrier();
  }
  if (n < n_tokens) { order[rank] = n; }
}
