// ggml tensor types as GGUF files name them (ggml.h `enum ggml_type`; block layouts: ggml-common.h).
// Shared by the GGUF reader, the CPU dequantisation reference and the quantised kernels. Imports nothing.
// A block holds `blockSize` values in `typeSize` bytes; a row's length must be a multiple of blockSize.

export type GgmlTypeName =
  | 'F32' | 'F16' | 'BF16' | 'Q8_0' | 'Q4_0' | 'Q4_1' | 'Q5_0' | 'Q5_1' | 'Q4_K' | 'Q5_K' | 'Q6_K' | 'NF4' | 'NF4_DQ';

export interface GgmlType {
  id: number;
  name: GgmlTypeName;
  blockSize: number;
  typeSize: number;
}

/** The types this project reads (dequantises), by ggml's type id. */
export const SUPPORTED_GGML_TYPES: readonly GgmlType[] = [
  { id: 0, name: 'F32', blockSize: 1, typeSize: 4 },
  { id: 1, name: 'F16', blockSize: 1, typeSize: 2 },
  { id: 2, name: 'Q4_0', blockSize: 32, typeSize: 18 }, // f16 d, 16 bytes of nibbles
  { id: 3, name: 'Q4_1', blockSize: 32, typeSize: 20 }, // f16 d, f16 m, 16 bytes of nibbles
  { id: 6, name: 'Q5_0', blockSize: 32, typeSize: 22 }, // f16 d, u32 high bits, 16 bytes of nibbles
  { id: 7, name: 'Q5_1', blockSize: 32, typeSize: 24 }, // f16 d, f16 m, u32 high bits, 16 bytes of nibbles
  { id: 8, name: 'Q8_0', blockSize: 32, typeSize: 34 }, // f16 d, 32 int8
  { id: 12, name: 'Q4_K', blockSize: 256, typeSize: 144 }, // f16 d, f16 dmin, 12 bytes 6-bit scales/mins, 128 nibbles
  { id: 13, name: 'Q5_K', blockSize: 256, typeSize: 176 }, // as Q4_K + 32 bytes of high bits
  { id: 14, name: 'Q6_K', blockSize: 256, typeSize: 210 }, // 128 low nibbles, 64 high 2-bit, 16 int8 scales, f16 d
  { id: 30, name: 'BF16', blockSize: 1, typeSize: 2 },
];

/** Types ggml knows that this project refuses (named in the message). */
export const KNOWN_UNSUPPORTED_GGML_TYPES: Record<number, string> = {
  9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K', 15: 'Q8_K', 16: 'IQ2_XXS', 17: 'IQ2_XS', 18: 'IQ3_XXS', 19: 'IQ1_S',
  20: 'IQ4_NL', 21: 'IQ3_S', 22: 'IQ2_S', 23: 'IQ4_XS', 24: 'I8', 25: 'I16', 26: 'I32', 27: 'I64', 28: 'F64',
  29: 'IQ1_M', 34: 'TQ1_0', 35: 'TQ2_0', 39: 'MXFP4',
};

/** Block types that exist only as quantisation at load (no GGUF file holds them; not found by ggmlTypeById):
 * NF4 (bitsandbytes' 4-bit NormalFloat, src/ops/nf4_quantize.ts), stored as 64-value blocks of 36 bytes: the f32
 * absmax, then 32 bytes of codes (first value in the high nibble). NF4_DQ (NF4 with bitsandbytes' double
 * quantisation) stores what bitsandbytes stores: 64-value blocks of 32 code bytes, every block of the tensor in
 * row order, then a side region (quantSideWords): each block's 8-bit absmax code (one byte a block, padded to a
 * word), the f32 absmax2 of each 256 blocks (counted over the whole tensor, across rows) and the tensor's f32
 * offset. Their ids (100, 101) are ours, for the kernels' QTYPE. */
export const LOAD_ONLY_TYPES: readonly GgmlType[] = [
  { id: 100, name: 'NF4', blockSize: 64, typeSize: 36 },
  { id: 101, name: 'NF4_DQ', blockSize: 64, typeSize: 32 },
];

const BY_ID = new Map(SUPPORTED_GGML_TYPES.map((t) => [t.id, t]));
const BY_NAME = new Map([...SUPPORTED_GGML_TYPES, ...LOAD_ONLY_TYPES].map((t) => [t.name, t]));

export function ggmlTypeById(id: number): GgmlType | undefined {
  return BY_ID.get(id);
}

export function ggmlType(name: GgmlTypeName): GgmlType {
  return BY_NAME.get(name)!;
}

/** The name of a type id for messages: supported, known but refused, or unknown. */
export function ggmlTypeName(id: number): string {
  return BY_ID.get(id)?.name ?? KNOWN_UNSUPPORTED_GGML_TYPES[id] ?? `unknown type ${id}`;
}

/** Bytes of `count` values in a type (count a multiple of the block size). */
export function ggmlByteSize(t: GgmlType, count: number): number {
  return (count / t.blockSize) * t.typeSize;
}

/** The block types the quantised kernels read (matmul_quant_*.wgsl, embedding_quant_forward.wgsl). F32, F16 and
 * BF16 tensors take the f32 and packed 16-bit paths instead. */
export const QUANT_KERNEL_TYPES: readonly GgmlTypeName[] = ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q4_K', 'Q5_K', 'Q6_K', 'NF4', 'NF4_DQ'];

export function isQuantKernelType(name: string): name is GgmlTypeName {
  return (QUANT_KERNEL_TYPES as readonly string[]).includes(name);
}

/** u32 words of one block as the kernels store it: ggml's bytes padded to whole words (Q8_0 34 -> 36 bytes). */
export function blockWords(t: GgmlType): number {
  return Math.ceil(t.typeSize / 4);
}

/** u32 words a tensor of `nblocks` blocks keeps after its blocks (only NF4_DQ has any): the 8-bit absmax codes
 * (4 a word), one f32 absmax2 per 256 blocks, one f32 offset. */
export function quantSideWords(t: GgmlType, nblocks: number): number {
  return t.id === 101 ? Math.ceil(nblocks / 4) + Math.ceil(nblocks / 256) + 1 : 0;
}

/** u32 words a (rows, cols) tensor of a block type takes on the GPU: its word-aligned blocks, then any side region. */
export function quantGpuWords(t: GgmlType, rows: number, cols: number): number {
  const nb = rows * (cols / t.blockSize);
  return nb * blockWords(t) + quantSideWords(t, nb);
}

/** Bytes a (rows, cols) tensor of a block type takes on the GPU (word-aligned blocks and any side region). */
export function quantGpuBytes(t: GgmlType, rows: number, cols: number): number {
  return quantGpuWords(t, rows, cols) * 4;
}

/** ggml blocks (`count` values from byte `offset`) copied into word-aligned blocks: each block's bytes at the
 * same offsets, zero-padded to whole u32 words (little-endian words, as the GPU reads them). */
export function repackBlocks(t: GgmlType, bytes: Uint8Array, offset: number, count: number): Uint32Array {
  const nb = count / t.blockSize;
  const wpb = blockWords(t);
  const out = new Uint32Array(nb * wpb);
  const outBytes = new Uint8Array(out.buffer);
  if (wpb * 4 === t.typeSize) {
    outBytes.set(bytes.subarray(offset, offset + nb * t.typeSize));
  } else {
    for (let b = 0; b < nb; b++) outBytes.set(bytes.subarray(offset + b * t.typeSize, offset + (b + 1) * t.typeSize), b * wpb * 4);
  }
  return out;
}
