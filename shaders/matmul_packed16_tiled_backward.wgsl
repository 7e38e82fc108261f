// Backward of matmul_packed16_tiled_forward.wgsl with respect to x (the 16-bit weight is frozen: no dW),
// with workgroup-memory tiles (the GPU-class path of matmul_packed16_backward.wgsl):
//   dx (M, K) = alpha * dy (M, N) @ W (+ dx when accumulate = 1),   W (N, K) stored as (N, K / 2) u32 pairs
// (low 16 bits W[n, 2i], high W[n, 2i + 1]; FORMAT 0 = bfloat16, 1 = IEEE half), f32 accumulation.
// Tiles as shaders/lib/matmul_packed16_tile.wgsl with the inner dim N and the output's columns K; the weight
// tile (TK rows of W, TILE_N columns) is read a word at a time along W's rows.
// Bindings: 0 params; 1 dy (read), 2 w (read, u32), 3 dx (read_write).
// Dispatch: (ceil(K / TILE_N), Y, Z) with Y * Z >= tiles_m = ceil(M / TILE_M) (split by grid()).
// Overwrites dx, or accumulates (+=) when accumulate = 1. K must be even.

alias tile_s = f32;
alias tile_v = vec4f;

//#include packed16_unpack

// both elements of a packed word, widened to f32
fn pair16(u: u32) -> vec2<tile_s> { return unpack(u); }

//#include matmul_packed16_tiled_backward_body
