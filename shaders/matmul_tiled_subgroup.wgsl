// Matrix multiply whose op(b) tile is shared across each subgroup by subgroupShuffle instead of workgroup
// memory (a GPU-class path for adapters with the subgroups feature), batched, every transpose form, any shape.
//   out = alpha * op(a) @ op(b) (+ bias) (+ out when accumulate = 1)
//   op(a): (Bt, M, K); op(b): (Bt, K, N) (element strides a_rs, a_ks, b_ks, b_cs as matmul_scalar.wgsl)
//   out: (Bt, M, N); bias: (N), added to every row
// A workgroup of 128 invocations computes rows m0 .. m0 + 128 TM and columns n0 .. n0 + 4 TNV of out:
// invocation li owns rows m0 + li TM .. + TM - 1 (all 4 TNV columns) and reads its own rows of op(a).
// Per TK = 8 steps of k, the 8 x 4 TNV tile of op(b) (S = 8 TNV vec4s) is spread over the lanes of each
// subgroup: vec4 s lives in lane s % sg, slot s / sg (sg = subgroup_size, read at run time), and every lane
// fetches it with subgroupShuffle(slot, s % sg). Correct for any subgroup size from 4 (S / 4 <= 8 slots per
// lane) to 128 (the workgroup is a multiple of every such size, so subgroups are full); nothing depends on
// how subgroups map onto local_invocation_index. The host offers it only when the adapter's
// subgroupMinSize / subgroupMaxSize (when reported) lie in 4..128.
// Bindings: 0 params; 1 a (read), 2 b (read), 3 bias (read; any buffer when has_bias = 0), 4 out (read_write).
// Dispatch: (ceil(N / (4 TNV)), Y, Z) with Y * Z >= tiles_m * Bt (split by grid()), tiles_m = ceil(M / (128 TM)).
// Overrides: TM (rows per invocation, 1 or 2), TNV (vec4 columns, 1..4). Overwrites out, or accumulates (+=)
// when accumulate = 1. Saves nothing for backward.

enable subgroups;

//#include matmul_strided_common

override TM: u32 = 1;
override TNV: u32 = 4;
const TK = 8u;
const SLOTS = 8u; // private slots per lane: S / 4 for S = 8 TNV <= 32

@compute @workgroup_size(128)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
  @builtin(subgroup_invocation_id) lane: u32,
  @builtin(subgroup_size) sg: u32,
) {
  let tile = wid.y + wid.z * nwg.y;
  let batch = tile / p.tiles_m;
  if (batch >= p.batches) { return; } // uniform across the workgroup
  let m0 = (tile % p.tiles_m) * 128u * TM + li * TM;
  let n0 = wid.x * 4u * TNV;
  let a_off = batch * p.stride_a;
  let b_off = batch * p.stride_b;
  let S = TK * TNV;

  var acc: array<vec4f, 8>; // acc[r * TNV + v]: row m0 + r, columns n0 + 4 v .. + 3
  var bh: array<vec4f, SLOTS>;
  var av: array<f32, 16>; // av[r * TK + kk] = op(a)[m0 + r, k0 + kk]
  // every lane runs every iteration (no early exit past M or N: the shuffles need the whole subgroup)
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    for (var t = 0u; t < SLOTS; t++) {
      let s = lane + t * sg;
      if (s < S) {
        let kk = s / TNV;
        let j = n0 + 4u * (s % TNV);
        bh[t] = vec4f(load_b(b_off, k0 + kk, j), load_b(b_off, k0 + kk, j + 1u), load_b(b_off, k0 + kk, j + 2u), load_b(b_off, k0 + kk, j + 3u));
      }
    }
    for (var r = 0u; r < TM; r++) {
      for (var kk = 0u; kk < TK; kk++) { av[r * TK + kk] = load_a(a_off, m0 + r, k0 + kk); }
    }
    for (var kk = 0u; kk < TK; kk++) {
      for (var v = 0u; v < TNV; v++) {
        let s = kk * TNV + v;
        let bv = subgroupShuffle(bh[s / sg], s % sg);
        for (var r = 0u; r < TM; r++) {
          acc[r * TNV + v] = fma(vec4f(av[r * TK + kk]), bv, acc[r * TNV + v]);
        }
      }
    }
  }

  let out_off = batch * p.stride_c;
  for (var r = 0u; r < TM; r++) {
    for (var v = 0u; v < TNV; v++) {
      let c = acc[r * TNV + v];
      let col = n0 + 4u * v;
      put(out_off, m0 + r, col, c.x);
      put(out_off, m0 + r, col + 1u, c.y);
      put(out_off, m0 + r, col + 2u, c.z);
      put(out_off, m0 + r, col + 3u, c.w);
    }
  }
}
