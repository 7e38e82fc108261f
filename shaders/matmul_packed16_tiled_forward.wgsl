// Matrix multiply against a frozen 16-bit weight with workgroup-memory tiles (the GPU-class path of
// matmul_packed16_forward.wgsl; same result up to f32 summation order):
//   out (M, N) = alpha * x (M, K) @ W^T (+ bias) (+ out when accumulate = 1),   W (N, K) in 16 bits
// W is stored as (N, K / 2) u32 pairs (low 16 bits W[n, 2i], high W[n, 2i + 1]); FORMAT 0 = bfloat16,
// 1 = IEEE half, widened to f32 in workgroup memory; every product and sum is f32.
// Tiles as shaders/lib/matmul_packed16_tile.wgsl (override constants WG_X, WG_Y, TM, TK; host:
// MATMUL_PACKED16_TILES in src/gpu/kernels/matmul_packed16_variants.ts). The weight tile is read a word at a
// time along W's rows (consecutive invocations, consecutive words). For hardware adapters.
// Bindings: 0 params; 1 x (read), 2 w (read, u32), 3 bias (read; any buffer when has_bias = 0), 4 out (read_write).
// Dispatch: (ceil(N / TILE_N), Y, Z) with Y * Z >= tiles_m = ceil(M / TILE_M) (split by grid()).
// Overwrites out, or accumulates (+=) when accumulate = 1. K must be even. Backward (dx only, the weight is
// frozen): matmul_packed16_tiled_backward.wgsl.

alias tile_s = f32;
alias tile_v = vec4f;

//#include packed16_unpack

// both elements of a packed word, widened to f32
fn pair16(u: u32) -> vec2<tile_s> { return unpack(u); }

//#include matmul_packed16_tiled_forward_body
