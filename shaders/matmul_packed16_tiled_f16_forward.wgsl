// matmul_packed16_tiled_forward.wgsl for IEEE-half weights on adapters with the shader-f16 feature:
//   out (M, N) = alpha * x (M, K) @ W^T (+ bias) (+ out when accumulate = 1),   W (N, K) IEEE half
// The weight tile stays in f16 in workgroup memory (half the bytes of the f32 tile, so bigger tiles fit and
// the copy moves half as much); each word is split into its two halves by a bitcast, exactly. The f32 operand,
// every product and every sum stay f32, so the result equals the f32-tile kernel's up to summation order
// (an f16 weight widens to f32 exactly). FORMAT must be IEEE half (bfloat16 does not fit f16's range).
// Tiles: shaders/lib/matmul_packed16_tile.wgsl (override constants WG_X, WG_Y, TM, TK).
// Bindings: 0 params; 1 x (read), 2 w (read, u32), 3 bias (read; any buffer when has_bias = 0), 4 out (read_write).
// Dispatch: as matmul_packed16_tiled_forward.wgsl: (ceil(N / TILE_N), Y, Z), Y * Z >= tiles_m = ceil(M / TILE_M).
// Overwrites, or accumulates (+=) when accumulate = 1. K must be even. Only where the device has shader-f16.

// f16 types (test/matmul_packed16_f16_logic.test.ts swaps these lines for f32 ones to check the rest on
// adapters without shader-f16):
enable f16;
alias tile_s = f16;
alias tile_v = vec4<f16>;
fn pair16(u: u32) -> vec2<tile_s> { return bitcast<vec2<f16>>(u); }
// (end of the f16 types)

//#include matmul_packed16_tiled_forward_body
