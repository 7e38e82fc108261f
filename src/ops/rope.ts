// RoPE's pairing convention, shared by the GPU kernels (src/gpu/kernels/rope*.ts) and their CPU references
// (src/reference/rope*.ts). src/ops holds what a kernel and its reference both need and imports neither.

/** Which channels of a head form a rotating pair. 'interleaved' (llama2.c): (2i, 2i+1).
 * 'half' (Hugging Face rotate-half): (i, i + HS/2). Pair i rotates by angle pos * invFreq[i] in both. */
export type RopeConvention = 'interleaved' | 'half';
